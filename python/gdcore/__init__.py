"""gdcore: gradient descent from the ground up, at C++ speed.

A C++ core (tensors, a reverse-mode autodiff tape, kernels) under a Python API that
follows PyTorch's, so ``import gdcore as torch``-style ports work for autograd code.
"""
from __future__ import annotations

from ._version import __version__
# Loads OpenBLAS (libscipy_openblas.so, used by the matrix products) into the process; the
# extension below needs it and finds it by soname, so _core carries no path into site-packages.
from . import _openblas
_openblas.load()
from . import _core  # noqa: E402
from ._core import (
    Tensor, Value, Generator, dtype,
    add, sub, mul, div, pow, neg, abs, exp, log, sqrt, sin, cos, tan, tanh, sinh, cosh, sigmoid, relu,
    clamp, maximum, minimum, matmul, mm, bmm, mse_loss, reshape, flatten, transpose, permute, squeeze,
    unsqueeze, index_select, cat, stack, clone, is_grad_enabled,
)
from .creation import (
    float32, float64, int64, tensor, as_tensor, from_numpy, zeros, ones, full, empty, zeros_like, ones_like,
    full_like, rand_like, randn_like, arange, linspace, eye, rand, randn, normal, randint, randperm,
    manual_seed, initial_seed, get_rng_state, set_rng_state,
)
from ._core import (  # indexing: gather/scatter, index_put, sorting (cpp/bindings/indexing_ops.cpp)
    gather, scatter, scatter_add, index_add, take_along_dim, masked_select, index_put, sort, argsort, topk, unique,
)
from .grad_mode import no_grad, enable_grad, set_grad_enabled
from .tensor_repr import tensor_repr as _tensor_repr
from . import autograd
from . import nn
from . import optim
from . import data
from . import utils
from .serialization import save, load
from .compile import compile  # noqa: A001  (gdcore.compile, as torch.compile)
from . import train
from .device import device, set_default_device, get_default_device
from . import cuda, accelerator, backends
from . import tensor_attributes as _tensor_attributes
from . import tensor_pickle as _tensor_pickle
from ._core import (  # noqa: A004  (any/all shadow the builtins here, as in torch's namespace)
    eq, ne, lt, le, gt, ge, logical_and, logical_or, logical_xor, logical_not, bitwise_and, bitwise_or,
    bitwise_xor, bitwise_not, isnan, isinf, isfinite, sign, any, all, count_nonzero, nonzero, where,
    masked_fill, clamp_min, clamp_max, from_dlpack,
)
from .creation import int32, uint8, int8, int16
from .size import Size
# The everyday math ops (issue 11): functions here, Tensor methods, gdcore.linalg and einsum.
from .mathops import (  # noqa: E402
    softmax, log_softmax, logsumexp, norm, var, std, var_mean, std_mean, prod, cumsum, dot, mv, outer, ger, meshgrid,
    square, floor, ceil, round, trunc, fix, erf, erfinv, log1p, expm1, log2, log10, rsqrt, reciprocal,
)
from .mathops import install_methods as _install_math_methods
from .einsum import einsum
from . import linalg, special
from . import metrics  # gdcore.metrics: accuracy, top_k_accuracy, confusion_matrix (issue 12)
_install_math_methods()
# Elementwise ops of the breadth round: % //, asin/arcsin ..., atan2, hypot, lerp, addmm, addcmul, ...
from .pointwise import (  # noqa: E402
    remainder, fmod, floor_divide, asin, acos, atan, asinh, acosh, atanh, arcsin, arccos, arctan, arcsinh, arccosh,
    arctanh, atan2, arctan2, hypot, exp2, logit, xlogy, lerp, addmm, addmv, baddbmm, addcmul, addcdiv,
)
from .pointwise import install_methods as _install_pointwise_methods  # noqa: E402
_install_pointwise_methods()
# torch's keyword forms: add/sub(alpha=), div(rounding_mode=), and the aliases subtract, multiply, divide, true_divide.
from .arith_spellings import add, sub, subtract, mul, multiply, div, divide, true_divide  # noqa: E402
from .arith_spellings import install_methods as _install_arith_spellings  # noqa: E402
_install_arith_spellings()
from .sampling import bernoulli, multinomial  # noqa: E402  (normal with tensor mean/std goes there too)
from .sampling import install_methods as _install_sampling_methods  # noqa: E402
_install_sampling_methods()
from .binning import searchsorted, bucketize, bincount, histc  # noqa: E402
from .binning import install_methods as _install_binning_methods  # noqa: E402
_install_binning_methods()
from .linalg_solvers import inv as inverse, det, logdet, slogdet  # noqa: E402  (torch.inverse, torch.det, ...)
from .linalg_solvers import install_methods as _install_linalg_methods  # noqa: E402
_install_linalg_methods()

float = float32  # noqa: A001  (torch spells these gdcore.float / gdcore.double / gdcore.long)
double = float64
long = int64
bool = _core.dtype.bool  # noqa: A001
int = int32  # noqa: A001  (torch.int is int32)
short = int16

dtype.__repr__ = dtype.__str__ = lambda self: f"gdcore.{self.name}"
# numpy defers to Tensor's reflected operators (np.float64(2) * t is a Tensor with history, as in torch).
Tensor.__array_priority__ = 1000
Tensor.__repr__ = _tensor_repr
Tensor.__str__ = _tensor_repr


def sum(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Sum over all elements, or over ``dim`` (an int or a tuple of ints)."""
    return input.sum(dim, keepdim)


def mean(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Mean over all elements, or over ``dim``."""
    return input.mean(dim, keepdim)


def max(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """Largest element; with ``dim`` a (values, indices) pair; with a tensor, ``maximum``."""
    return input.max(dim, keepdim)


def min(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """Smallest element; with ``dim`` a (values, indices) pair; with a tensor, ``minimum``."""
    return input.min(dim, keepdim)


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return input.argmax(dim, keepdim)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return input.argmin(dim, keepdim)


def t(input: Tensor) -> Tensor:
    return input.t()


def numel(input: Tensor) -> int:
    return input.numel()


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """True for float32/float64 tensors."""
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    """Always False: gdcore has no complex dtypes."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_complex(): argument 'input' must be a gdcore.Tensor, got {type(input).__name__}")
    return False


def _tensor_is_complex(self) -> bool:
    """Always False: gdcore has no complex dtypes."""
    return False


Tensor.is_complex = _tensor_is_complex
# Top-level utilities of everyday torch code (issue 11's breadth round): modes, default dtype, limits, printing.
from .grad_mode import inference_mode, is_inference_mode_enabled  # noqa: E402
from .default_dtype import set_default_dtype, get_default_dtype  # noqa: E402
from .dtype_info import finfo, iinfo  # noqa: E402
from .tensor_repr import set_printoptions  # noqa: E402
from . import testing  # noqa: E402  (gdcore.testing.assert_close)
import math as _math  # noqa: E402
pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None


from . import safetensors  # noqa: E402  (gdcore.safetensors; the package itself is imported on first use)
from .threads import set_num_threads, get_num_threads  # noqa: E402

# Wrong-type arguments to the public Python functions above get a message naming the argument (_argument_check).
from ._argument_check import install as _install_argument_check  # noqa: E402

_install_argument_check(globals(), "gdcore.")

_tensor_attributes.install()  # Tensor.device, .to(device), .cuda(), .mT, .nelement(), .element_size()
_tensor_pickle.install()  # pickle / multiprocessing (DataLoader workers)

# Submodules that cost import time (matplotlib for plot) load on first use: gdcore.plot, gdcore.optimize, ...
_LAZY_SUBMODULES = ("optimize", "plot", "curvature")


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f".{name}", __name__)  # also sets gdcore.<name>
    raise AttributeError(f"module 'gdcore' has no attribute {name!r}")


# Keep last: axis=/keepdims= on every reduction defined above (by whichever module defined it).
import sys as _sys  # noqa: E402
from . import numpy_spellings as _numpy_spellings  # noqa: E402
_numpy_spellings.install([Tensor, _sys.modules[__name__]])

# torch's shape functions (chunk, split, flip, roll, tril, diag, hstack, ...): functions and Tensor methods.
from .shape_ops import (  # noqa: E402
    chunk, split, tensor_split, unbind, narrow, select, ravel, unflatten, movedim, moveaxis, swapaxes, swapdims,
    flip, fliplr, flipud, roll, tile, tril, triu, diag, diagonal, diag_embed, trace, hstack, vstack, row_stack, dstack,
    column_stack, atleast_1d, atleast_2d, atleast_3d,
)
from .shape_ops import install_methods as _install_shape_methods  # noqa: E402
_install_shape_methods()

# Session 6 breadth (tensor ops): new_* / *_like, in-place math, closeness, scans, order statistics.
from .tensor_new import empty_like, randint_like  # noqa: E402
from .inplace_math import (  # noqa: E402
    clip, clip_, clamp_, relu_, sigmoid_, tanh_, exp_, sqrt_, abs_, neg_, negative, absolute,
)
from .closeness import isclose, allclose, equal  # noqa: E402
from .scans import cumprod, cummax, cummin, diff  # noqa: E402
from .order_stats import (  # noqa: E402
    amax, amin, aminmax, median, nanmedian, mode, quantile, nanquantile, nan_to_num, nansum, nanmean,
)
from . import tensor_new as _tensor_new, inplace_math as _inplace_math, closeness as _closeness  # noqa: E402
from . import scans as _scans, order_stats as _order_stats  # noqa: E402
for _module in (_tensor_new, _inplace_math, _closeness, _scans, _order_stats):
    _module.install_methods()
del _module
_numpy_spellings.install([Tensor, _sys.modules[__name__]])  # axis=/keepdims= on the reductions added here
from .tensor_products import kron, cross, tensordot, cdist  # noqa: E402
from . import tensor_products as _tensor_products  # noqa: E402
_tensor_products.install_methods()
_install_argument_check(globals(), "gdcore.")  # again, for the functions added above (wrapped ones are kept)
