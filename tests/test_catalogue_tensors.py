"""Bad-input catalogue, part 1: tensors and autograd.

Shapes that do not fit, dtypes gdcore does not hold or an op does not take, empty tensors, 0-d
tensors where a dimension is needed, NaN/inf where a finite number is needed, sizes that overflow
int64, allocations too large for memory (MemoryError, never a crash; the sizes are above the 128 TiB
a process can address, so they fail even where Linux overcommits memory), non-contiguous and
read-only numpy arrays, backward misuse and in-place misuse. Each must raise the right exception
with a message that names the problem (see catalogue.py); a second list checks that edge inputs
which are valid give the right answer.
"""
import math

import numpy as np
import pytest

import gdcore
from catalogue import bad, check

g = gdcore
BIG = 2**46  # elements: 256 TiB of float32, beyond any process's address space


def _readonly(shape=(3,)):
    array = np.zeros(shape)
    array.flags.writeable = False
    return array


def _leaf(*values):
    return g.tensor(list(values) or [1.0, 2.0], requires_grad=True)


def _backward_twice():
    x = _leaf()
    y = (x * x).sum()
    y.backward()
    y.backward()


def _saved_tensor_modified():
    x = _leaf()
    y = x.exp()
    z = (y * y).sum()
    y.add_(1.0)
    z.backward()


def _grad_after_autograd_grad():
    x = _leaf()
    y = (x * x).sum()
    g.autograd.grad(y, [x])
    y.backward()


def _non_contiguous_parameter():
    p = g.from_numpy(np.zeros((3, 2)).T).requires_grad_()
    g.optim.SGD([p], lr=0.1)


SHAPES = [
    bad("add-broadcast", lambda: g.zeros(2, 3) + g.zeros(4, 3), ValueError,
        "add: shapes (2, 3) and (4, 3) cannot be broadcast together (dimension 0: 2 vs 4)"),
    bad("matmul-inner", lambda: g.zeros(2, 3) @ g.zeros(2, 3),
        ValueError, "shapes (2, 3) and (2, 3) do not align: 3 != 2"),
    bad("matmul-vectors", lambda: g.zeros(3) @ g.zeros(4), ValueError, "shapes (3,) and (4,) do not align"),
    bad("matmul-batch", lambda: g.matmul(g.zeros(2, 3, 4), g.zeros(5, 4, 2)), ValueError,
        "batch dimensions of shapes (2, 3, 4) and (5, 4, 2) cannot be broadcast"),
    bad("mm-1d", lambda: g.mm(g.zeros(3), g.zeros(3, 3)), ValueError, "mm: expected two 2-d tensors, got shapes (3,)"),
    bad("bmm-batch", lambda: g.bmm(g.zeros(2, 3, 4), g.zeros(3, 4, 5)), ValueError, "bmm: batch sizes differ"),
    bad("reshape-size", lambda: g.zeros(6).reshape(4, -1), ValueError, "shape (4, -1) is invalid for input of size 6"),
    bad("reshape-two-unknown", lambda: g.zeros(6).reshape(-1, -1), ValueError, "only one dimension can be -1"),
    bad("view-size", lambda: g.zeros(3).view(2), ValueError, "view: shape (2,) is invalid for input of size 3"),
    bad("view-non-contiguous", lambda: g.zeros(3, 4).t().view(12), ValueError, "is not contiguous; use reshape()"),
    bad("expand", lambda: g.zeros(2, 3).expand(4, 3), ValueError, "shape (2, 3) cannot be expanded to (4, 3)"),
    bad("expand-fewer-dims", lambda: g.zeros(2, 3).expand(3),
        ValueError, "cannot expand shape (2, 3) to fewer dimensions"),
    bad("cat-sizes", lambda: g.cat([g.zeros(2, 3), g.zeros(2, 4)]), ValueError,
        "entry 0 has shape (2, 3) but entry 1 has shape (2, 4)"),
    bad("stack-sizes", lambda: g.stack([g.zeros(2), g.zeros(3)]),
        ValueError, "got (2,) at entry 0 and (3,) at entry 1"),
    bad("permute-repeat", lambda: g.zeros(2, 3).permute(0, 0), ValueError, "dimension 0 appears more than once"),
    bad("permute-count", lambda: g.zeros(2, 3).permute(0), ValueError, "got 1 dims for a 2-d tensor"),
    bad("dim-range", lambda: g.zeros(2).sum(dim=3), IndexError, "dimension 3 is out of range for a 1-d tensor"),
    bad("transpose-dim", lambda: g.zeros(2, 3).transpose(0, 5), IndexError, "dimension 5 is out of range"),
    bad("index-range", lambda: g.zeros(2, 3)[5], IndexError, "index 5 is out of bounds for dimension 0 with size 2"),
    bad("index-tensor-range", lambda: g.zeros(2, 3)[g.tensor([0, 7])], IndexError, "index 7 is out of bounds"),
    bad("too-many-indices", lambda: g.zeros(2, 3)[0, 0, 0], IndexError, "too many indices for tensor of dimension 2"),
    bad("index-select-range", lambda: g.index_select(g.zeros(3), 0, g.tensor([5])),
        IndexError, "index 5 is out of bounds"),
    bad("mse-shapes", lambda: g.mse_loss(g.zeros(3), g.zeros(3, 1)), ValueError,
        "input shape (3,) and target shape (3, 1) differ"),
    bad("ragged-list", lambda: g.tensor([[1, 2], [3]]), ValueError, "nested lists must be rectangular"),
    bad("copy-shapes", lambda: g.ones(2).copy_(g.ones(3)),
        ValueError, "copy_: shapes (2,) and (3,) cannot be broadcast"),
    bad("inplace-broadcast-target", lambda: g.ones(2).add_(g.ones(2, 2)), ValueError,
        "shape (2, 2) cannot be broadcast to the in-place target's shape (2,)"),
    bad("backward-gradient-shape", lambda: (_leaf() * 2).backward(g.ones(3)), ValueError,
        "gradient has shape (3,) but the output has shape (2,)"),
    bad("grad-setter-shape", lambda: setattr(_leaf(), "grad", g.ones(3)), ValueError,
        "assigned grad has shape (3,) but the tensor has shape (2,)"),
]

DTYPES = [
    bad("dtype-complex", lambda: g.zeros(3, dtype="complex64"), TypeError, "dtype complex64 is not supported"),
    bad("dtype-half", lambda: g.zeros(3, dtype="float16"), TypeError, "dtype float16 is not supported"),
    bad("dtype-unknown", lambda: g.zeros(3, dtype=5), TypeError, "unknown dtype 5"),
    bad("from-numpy-uint16", lambda: g.from_numpy(np.zeros(3, dtype=np.uint16)), TypeError,
        "numpy dtype uint16, which is not supported"),
    bad("tensor-complex", lambda: g.tensor(np.ones(2, dtype=np.complex64)), TypeError, "numpy dtype complex64"),
    bad("tensor-strings", lambda: g.tensor([1, "a"]), TypeError, "it holds non-numbers"),
    bad("int-requires-grad", lambda: g.ones(2, dtype=g.int64, requires_grad=True), RuntimeError,
        "only floating point tensors can require gradients, got int64"),
    bad("int-mean", lambda: g.ones(2, dtype=g.int64).mean(),
        ValueError, "expected a float32 or float64 tensor, got int64"),
    bad("int-matmul", lambda: g.ones(2, 2, dtype=g.int64) @ g.ones(2, 2, dtype=g.int64), ValueError,
        "expected float32 or float64 tensors, got int64"),
    bad("mixed-matmul", lambda: g.nn.Linear(3, 2)(g.zeros(4, 3, dtype=g.float64)), ValueError,
        "dtypes float64 and float32 differ"),
    bad("float-index", lambda: g.zeros(2, 3)[g.tensor([0.0])], IndexError, "must be int64 (long) or int32 (int), got float32"),
    bad("int-inplace-float", lambda: g.ones(2, dtype=g.int64).add_(1.5), RuntimeError,
        "result type float32 can't be cast to the desired output type int64"),
    bad("int-random-fill", lambda: g.ones(2, dtype=g.int64).normal_(), ValueError, "got int64"),
    bad("grad-setter-dtype", lambda: setattr(_leaf(), "grad", g.ones(2, dtype=g.float64)), TypeError,
        "assigned grad has dtype float64 but the tensor has dtype float32"),
    bad("gradcheck-float32", lambda: g.autograd.gradcheck(lambda a: a * 2, (_leaf(),)), ValueError,
        "finite differences need float64"),
    bad("from-numpy-list", lambda: g.from_numpy([1.0, 2.0]), TypeError, "expected a numpy.ndarray, got a list"),
]

EMPTY_AND_ZERO_D = [
    bad("max-empty", lambda: g.zeros(0).max(),
        ValueError, "cannot reduce over an empty dimension of the tensor of shape (0,)"),
    bad("max-dim-empty", lambda: g.zeros(3, 0).max(dim=1), ValueError, "max: cannot reduce over the empty dimension 1 of the tensor of shape (3, 0)"),
    bad("argmax-empty", lambda: g.zeros(0).argmax(), ValueError, "cannot reduce an empty dimension"),
    bad("item-empty", lambda: g.zeros(0).item(),
        ValueError, "a tensor with 0 elements (shape (0,)) cannot be converted"),
    bad("item-many", lambda: g.zeros(3).item(), ValueError, "a tensor with 3 elements"),
    bad("cat-nothing", lambda: g.cat([]), ValueError, "expected a non-empty list of tensors"),
    bad("stack-nothing", lambda: g.stack([]), ValueError, "expected a non-empty list of tensors"),
    bad("grad-no-inputs", lambda: g.autograd.grad((_leaf() * 2).sum(), []), ValueError, "inputs is empty"),
    bad("index-0d", lambda: g.zeros(())[0], IndexError, "invalid index of a 0-d tensor; use .item()"),
    bad("dim-0d", lambda: g.zeros(()).sum(dim=1), IndexError, "dimension 1 is out of range for a 0-d tensor"),
    bad("cat-0d", lambda: g.cat([g.zeros(()), g.zeros(())]),
        ValueError, "zero-dimensional tensor (at position 0) cannot be"),
    bad("matmul-0d", lambda: g.zeros(()) @ g.zeros(3), ValueError, "need at least 1 dimension, got shapes () and (3,)"),
]

NON_FINITE = [
    bad("arange-inf", lambda: g.arange(0, math.inf), ValueError, "arange: start and end must be finite"),
    bad("arange-nan", lambda: g.arange(0, math.nan), ValueError, "must be finite"),
    bad("arange-zero-step", lambda: g.arange(0, 10, 0), ValueError, "step must be a non-zero finite number"),
    bad("linspace-inf", lambda: g.linspace(0, math.inf, 5),
        ValueError, "linspace: end must be a finite number, got inf"),
    bad("normal-nan-std", lambda: g.normal(0.0, math.nan, (3,)), ValueError, "std must be a finite number >= 0, got nan"),
    bad("normal-nan-mean", lambda: g.normal(math.nan, 1.0, (3,)), ValueError, "normal: mean must be a finite number"),
    bad("uniform-nan", lambda: g.zeros(3).uniform_(math.nan, 1.0), ValueError, "the bounds must be finite numbers, got from=nan"),
    bad("clamp-order", lambda: g.clamp(g.zeros(3), 2, 1), ValueError, "clamp: min (2.000000) is greater than max"),
]

SIZES_AND_MEMORY = [
    bad("size-over-int64", lambda: g.zeros(2**63), ValueError, "size 9223372036854775808 does not fit in int64"),
    bad("size-2**64", lambda: g.ones(2**64, 2), ValueError, "does not fit in int64"),
    bad("numel-over-int64", lambda: g.zeros(2**31, 2**31, 4), ValueError, "has more elements than fit in int64"),
    bad("numel-over-int64-empty", lambda: g.zeros(0).reshape(2**62, 2**62, 0),
        ValueError, "more elements than fit in int64"),
    bad("eye-over-int64", lambda: g.eye(2**40), ValueError, "more elements than fit in int64"),
    bad("bytes-over-int64", lambda: g.zeros(2**62), ValueError, "is too large to allocate"),
    bad("randint-over-int64", lambda: g.randint(0, 2**63, (3,)), ValueError, "int64"),
    bad("arange-too-many", lambda: g.arange(0, 1e30), ValueError, "elements is too many"),
    bad("int-data-over-int64", lambda: g.tensor([1, 2**70]), ValueError,
        "the integer 1180591620717411303424 in the data does not fit in int64"),
    bad("int-operand-over-int64", lambda: g.ones(2, dtype=g.int64) + 2**63, ValueError,
        "the integer 9223372036854775808 does not fit in int64"),
    bad("int-fill-over-int64", lambda: g.ones(2, dtype=g.int64).fill_(1e30), RuntimeError,
        "cannot be converted to type int64 without overflow"),
    bad("int-full-nan", lambda: g.full((2,), math.nan, dtype=g.int64), RuntimeError,
        "cannot be converted to type int64 without overflow"),
    bad("index-over-int64", lambda: g.zeros(3)[2**70], IndexError, "index 1180591620717411303424 is out of bounds"),
    bad("shape-over-int64", lambda: g.zeros(3).reshape(2**70), ValueError, "the integer 1180591620717411303424 does "
        "not fit in int64"),
    bad("linear-over-int64", lambda: g.nn.Linear(2**64, 1),
        ValueError, "in_features=18446744073709551616 does not fit"),
    bad("padding-overflow", lambda: g.nn.functional.conv2d(g.zeros(1, 1, 5, 5), g.zeros(1, 1, 1, 1), padding=2**62),
        ValueError, "padding (4611686018427387904, 4611686018427387904) is too large"),
    bad("pool-padding-overflow", lambda: g.nn.functional.max_pool2d(g.zeros(1, 1, 5, 5), 2**63 - 1, padding=2**61),
        ValueError, "is too large"),
    bad("seed-range", lambda: g.manual_seed(2**64), ValueError, "seed must be in [0, 2**64), got 18446744073709551616"),
    bad("seed-negative", lambda: g.manual_seed(-1), ValueError, "seed must be in [0, 2**64), got -1"),
    bad("oom-zeros", lambda: g.zeros(BIG), MemoryError, "out of memory: could not allocate 262144.0 GiB"),
    bad("oom-full", lambda: g.full((BIG,), 1.0), MemoryError, "out of memory"),
    bad("oom-rand", lambda: g.rand(BIG), MemoryError, "out of memory"),
    bad("oom-3d", lambda: g.ones(2**20, 2**20, 2**10), MemoryError, "out of memory"),
    bad("oom-linspace", lambda: g.linspace(0, 1, BIG), MemoryError, "out of memory"),
    bad("oom-randperm", lambda: g.randperm(BIG), MemoryError, "out of memory"),
    bad("oom-contiguous", lambda: g.zeros(3).expand(BIG, 3).contiguous(), MemoryError, "out of memory"),
    bad("oom-elementwise", lambda: g.zeros(3).expand(BIG, 3) + 1, MemoryError, "out of memory"),
    bad("oom-outer-product", lambda: g.zeros(2**23, 1) @ g.zeros(1, 2**23), MemoryError, "out of memory"),
    bad("oom-reduction-buffer", lambda: g.zeros(2, 2).expand(2**40, 2**40, 2, 2).sum(dim=0), MemoryError,
        "out of memory"),
    bad("oom-linear", lambda: g.nn.Linear(2**23, 2**23), MemoryError, "out of memory"),
    bad("oom-conv", lambda: g.nn.functional.conv2d(g.zeros(1, 1, 2**23, 2**23), g.zeros(1, 1, 1, 1)), MemoryError,
        "out of memory"),
]

NUMPY_INPUTS = [
    bad("read-only-inplace", lambda: g.from_numpy(_readonly()).add_(1.0), ValueError,
        "the tensor is read-only (it shares memory with a read-only numpy array or DLPack producer); clone() it"),
    bad("broadcast-view-inplace", lambda: g.from_numpy(np.broadcast_to(np.zeros(3), (2, 3))).mul_(2.0), ValueError,
        "is read-only"),
    bad("read-only-zero", lambda: g.from_numpy(_readonly((2, 2))).zero_(), ValueError, "read-only"),
    bad("non-contiguous-parameter", _non_contiguous_parameter, ValueError, "is not contiguous (shape (2, 3)"),
    bad("non-contiguous-view", lambda: g.from_numpy(np.zeros((3, 4)).T).view(12), ValueError, "is not contiguous"),
]

AUTOGRAD = [
    bad("backward-twice", _backward_twice, RuntimeError, "trying to backward through the graph a second time"),
    bad("backward-after-grad", _grad_after_autograd_grad, RuntimeError, "pass retain_graph=True"),
    bad("backward-non-scalar", lambda: (_leaf() * 2).backward(), RuntimeError,
        "grad can be implicitly created only for scalar outputs; this output has shape (2,)"),
    bad("backward-no-grad", lambda: (g.ones(2) * 2).sum().backward(), RuntimeError, "does not require grad"),
    bad("grad-unused-input", lambda: g.autograd.grad((_leaf() * 2).sum(), [_leaf()]), RuntimeError,
        "input 0 was not used to compute the outputs; pass allow_unused=True"),
    bad("grad-input-no-grad", lambda: g.autograd.grad((_leaf() * 2).sum(), [g.ones(2)]), RuntimeError,
        "input 0 does not require grad"),
    bad("requires-grad-non-leaf", lambda: (_leaf() * 2).requires_grad_(False), RuntimeError,
        "you can only change requires_grad flags of leaf tensors"),
    bad("hessian-non-scalar", lambda: g.autograd.hessian(lambda a: a * 2, _leaf().double()), ValueError,
        "f must return a scalar, got shape (2,)"),
    bad("grad-mode-flag", lambda: g.set_grad_enabled("yes"), TypeError, "mode must be True or False, got 'yes'"),
]

IN_PLACE = [
    bad("leaf-inplace", lambda: _leaf().add_(1.0), RuntimeError,
        "a leaf tensor that requires grad is being used in an in-place operation (add_)"),
    bad("saved-tensor-modified", _saved_tensor_modified, RuntimeError,
        "has been modified by an in-place operation"),
    bad("view-inplace-autograd", lambda: _leaf()[0].mul_(2.0), RuntimeError,
        "in-place change of a view that takes part in autograd"),
    bad("inplace-overlapping", lambda: g.ones(1).expand(3).add_(1.0), RuntimeError,
        "more than one element of the written-to tensor refers to the same memory"),
    bad("fill-overlapping", lambda: g.ones(2, 1).expand(2, 3).fill_(0.0), RuntimeError,
        "dimension 1 of shape (2, 3) has stride 0"),
    bad("random-fill-overlapping", lambda: g.ones(1).expand(4).normal_(), RuntimeError, "refers to the same memory"),
    bad("setitem-overlapping", lambda: g.ones(1).expand(3).__setitem__(0, 5.0), RuntimeError, "clone() it"),
    bad("int-inplace-true-division", lambda: g.ones(2, dtype=g.int64).div_(2), RuntimeError,
        "true division in place of an integer or bool tensor (int64) would give floats"),
]

INDEXING = [  # (advanced indexing, gather/scatter, sorting: tests/test_indexing*.py)
    bad("mask-shape", lambda: g.zeros(3, 4)[g.ones(3, 5, dtype=g.bool)], IndexError,
        "the shape of the mask (3, 5) at index 1 does not match the shape of the indexed tensor (3, 4) at index 1"),
    bad("mask-setitem-shape", lambda: g.zeros(3).__setitem__(g.ones(2, dtype=g.bool), 1.0), IndexError,
        "the shape of the mask (2,) at index 0 does not match"),
    bad("index-lists-broadcast", lambda: g.zeros(3, 4)[[0, 1], [0, 1, 2]], IndexError,
        "indexing tensors could not be broadcast together with shapes (2,), (3,)"),
    bad("index-second-dim-range", lambda: g.zeros(3, 4)[[0], [4]], IndexError,
        "index 4 is out of bounds for dimension 1 with size 4"),
    bad("setitem-index-range", lambda: g.zeros(3).__setitem__([3], 1.0), IndexError,
        "index 3 is out of bounds for dimension 0 with size 3"),
    bad("setitem-value-shape", lambda: g.zeros(3, 2).__setitem__([0, 1], g.ones(3)), ValueError,
        "value tensor of shape (3,) cannot be broadcast to indexing result of shape (2, 2)"),
    bad("negative-step", lambda: g.zeros(3)[::-1], ValueError, "step must be greater than zero"),
    bad("gather-float-index", lambda: g.zeros(2, 2).gather(1, g.zeros(2, 2)), RuntimeError,
        "gather: tensors used as indices must be int64 (long) or int32 (int), got float32"),
    bad("gather-range", lambda: g.zeros(2, 2).gather(0, g.tensor([[2, 0]])), RuntimeError,
        "index 2 is out of bounds for dimension 0 with size 2"),
    bad("scatter-range", lambda: g.zeros(2).scatter_add(0, g.tensor([5]), g.ones(1)), RuntimeError,
        "index 5 is out of bounds for dimension 0 with size 2"),
    bad("scatter-src-small", lambda: g.zeros(4).scatter(0, g.tensor([0, 1]), g.ones(1)), RuntimeError,
        "expected index (2,) to be no larger than src (1,)"),
    bad("index-add-range", lambda: g.zeros(2).index_add(0, g.tensor([-1]), g.ones(1)), IndexError,
        "index -1 is out of bounds for dimension 0 with size 2"),
    bad("index-put-range", lambda: g.zeros(2).index_put_((g.tensor([2]),), g.tensor(1.0)), IndexError,
        "index 2 is out of bounds for dimension 0 with size 2"),
    bad("masked-select-float-mask", lambda: g.zeros(2).masked_select(g.ones(2)), RuntimeError,
        "masked_select: expected a bool mask, got float32"),
    bad("topk-k", lambda: g.zeros(2, 3).topk(4), RuntimeError, "selected index k out of range: k = 4"),
    bad("sort-dim", lambda: g.zeros(2).sort(dim=2), IndexError, "dimension 2 is out of range"),
]

# In-place fills and setters validate as the function forms do; wrong types name function, argument, type (issue 15).
SETTERS_AND_WRONG_TYPES = [
    bad("normal_-nan-mean", lambda: g.zeros(3).normal_(math.nan, 1.0), ValueError,
        "normal_: mean must be a finite number, got nan"),
    bad("normal_-inf-mean", lambda: g.zeros(3).normal_(math.inf, 1.0), ValueError, "mean must be a finite number, got inf"),
    bad("normal_-negative-std", lambda: g.zeros(3).normal_(0.0, -1.0), ValueError,
        "normal_: std must be a finite number >= 0, got -1"),
    bad("normal_-inf-std", lambda: g.zeros(3).normal_(0.0, math.inf), ValueError, "std must be a finite number >= 0, got inf"),
    bad("uniform_-inf", lambda: g.zeros(3).uniform_(0.0, math.inf), ValueError,
        "uniform_: the bounds must be finite numbers, got from=0 to=inf"),
    bad("uniform_-reversed", lambda: g.zeros(3).uniform_(2.0, 1.0), ValueError, "expected from <= to, got from=2 to=1"),
    bad("uniform_-overflow", lambda: g.zeros(3).uniform_(-1e308, 1e308), ValueError, "overflows a double"),
    bad("fill_-str", lambda: g.zeros(3).fill_("a"), TypeError, "Tensor.fill_(): argument 'value' must be float, got str 'a'"),
    bad("fill_-missing", lambda: g.zeros(3).fill_(), TypeError, "Tensor.fill_(): missing required argument 'value'"),
    bad("fill_-keyword", lambda: g.zeros(3).fill_(val=1), TypeError, "got an unexpected keyword argument 'val'"),
    bad("grad-setter-float", lambda: setattr(_leaf(), "grad", 5.0), TypeError,
        "Tensor.grad: the assigned gradient must be a Tensor or None, got float 5.0"),
    bad("grad-setter-dtype", lambda: setattr(_leaf(), "grad", g.ones(2, dtype=g.float64)), TypeError,
        "assigned grad has dtype float64 but the tensor has dtype float32"),
    bad("data-setter-number", lambda: setattr(g.ones(2), "data", 5), TypeError,
        "Tensor.data: the assigned data must be a Tensor, got int 5"),
    bad("data-setter-int-under-grad", lambda: setattr(_leaf(), "data", g.ones(2, dtype=g.int64)), RuntimeError,
        "data set to a tensor that requires gradients must be floating point, got int64"),
    bad("requires_grad_-int", lambda: g.ones(2, dtype=g.int64).requires_grad_(), RuntimeError,
        "only floating point tensors can require gradients, got int64"),
    bad("name-setter-int", lambda: setattr(g.ones(2), "name", 3), TypeError, "Tensor.name: the assigned value must be str"),
    bad("value-str", lambda: g.Value("a"), TypeError, "expected a real number (int or float), got str 'a'"),
    bad("backward-list", lambda: (_leaf() * 2).sum().backward([1.0, 2.0]), TypeError,
        "Tensor.backward(): argument 'gradient' must be Tensor or None, got list [1.0, 2.0]"),
    bad("mm-str", lambda: g.mm(g.ones(2, 2), "a"), TypeError, "mm(): argument 'mat2' must be Tensor, got str 'a'"),
    bad("generator-seed-str", lambda: g.Generator("x"), TypeError, "Generator(): argument 'seed' must be int"),
    bad("generator-bad-state", lambda: g.Generator().set_state((1, 2, 3, 4, "x")), TypeError,
        "(or an old checkpoint's tuple (int, int, int, bool, float)), got (1, 2, 3, 4, 'x')"),
    bad("set_rng_state-str", lambda: g.set_rng_state("a"), TypeError,
        "gdcore.set_rng_state(): argument 'state' must be Tensor, got str 'a'"),
    bad("set_rng_state-float", lambda: g.set_rng_state(g.zeros(38)), TypeError,
        "expected the uint8 tensor returned by get_state(), got a float32 tensor"),
    bad("set_rng_state-torch-size", lambda: g.set_rng_state(g.zeros(5056, dtype=g.uint8)), RuntimeError,
        "got one of shape (5056,) (not a gdcore generator state; torch's, for one, has 5056 bytes)"),
    bad("set_rng_state-corrupt", lambda: g.set_rng_state(g.zeros(38, dtype=g.uint8)), RuntimeError,
        'these bytes do not start with "gdRS": not a gdcore generator state, or corrupted'),
    bad("sum-dim-str", lambda: g.ones(2).sum(dim="a"), TypeError, "Tensor.sum(): dim must be an int"),
    bad("add-str", lambda: g.add("a", "b"), TypeError, "add(): argument 'input' or 'other' must be a Tensor"),
    bad("zeros_like-str", lambda: g.zeros_like("a"), TypeError,
        "gdcore.zeros_like(): argument 't' must be Tensor, got str 'a'"),
    bad("functional-linear-str", lambda: g.nn.functional.linear(g.ones(2), "w"), TypeError, "weight"),
    bad("sgd-step-closure", lambda: g.optim.SGD([_leaf()], lr=0.1).step("x"), TypeError,
        "SGD.step(): argument 'closure' must be"),
]


@pytest.mark.parametrize("call, error, words",
                         SHAPES + DTYPES + EMPTY_AND_ZERO_D + NON_FINITE + SIZES_AND_MEMORY + NUMPY_INPUTS + AUTOGRAD
                         + IN_PLACE + SETTERS_AND_WRONG_TYPES + INDEXING)
def test_bad_input_raises_a_clear_error(call, error, words, tmp_path):
    check(call, error, words, tmp_path)


# ---- edge inputs that are valid must give the right answer (not an error, not garbage) -------------

def test_non_contiguous_and_negative_stride_numpy_inputs_keep_their_values():
    a = np.arange(12.0).reshape(3, 4)
    for view in (a.T, a[::-1, ::-2], a[:, 1::2], np.broadcast_to(a[0], (2, 4))):
        assert g.from_numpy(view).tolist() == view.tolist()
        assert g.tensor(view).tolist() == view.tolist()


def test_misaligned_and_byte_swapped_numpy_inputs_keep_their_values():
    raw = np.frombuffer(b"x" + np.arange(3.0).tobytes(), dtype=np.uint8)[1:].view(np.float64)
    assert not raw.flags.aligned
    assert g.from_numpy(raw).tolist() == [0.0, 1.0, 2.0]
    swapped = np.arange(3.0).astype(">f8")
    assert g.from_numpy(swapped).tolist() == [0.0, 1.0, 2.0]


def test_writes_through_a_strided_numpy_view_reach_the_array():
    a = np.zeros((3, 4))
    g.from_numpy(a[:, ::2]).add_(1.0)
    assert a.tolist() == [[1.0, 0.0, 1.0, 0.0]] * 3


def test_slices_with_huge_bounds_clamp_as_in_python():
    t = g.arange(5)
    values = list(range(5))
    for key in (slice(0, 2**70), slice(-2**70, 2), slice(None, None, 2**70), slice(2**70, None), slice(1, -2**64)):
        assert t[key].tolist() == values[key]


def test_large_integers_stay_exact():
    big = 2**60 + 1  # not a double: a path through float64 would round it
    assert (g.zeros(1, dtype=g.int64) + big).tolist() == [big]
    assert g.full((2,), big).tolist() == [big, big]
    assert g.tensor([big, -big]).tolist() == [big, -big]
    assert (g.ones(1, dtype=g.int64) + (2**63 - 2)).tolist() == [2**63 - 1]


def test_in_place_on_an_expanded_clone_is_fine():
    t = g.ones(1).expand(3).clone().add_(1.0)
    assert t.tolist() == [2.0, 2.0, 2.0]


def test_nan_and_inf_flow_through_ops_as_in_numpy():
    x = np.array([math.nan, math.inf, -math.inf, 1.0], dtype=np.float32)
    t = g.tensor(x)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(t.sum().item(), np.sum(x))
        np.testing.assert_array_equal((t * 0).numpy(), x * 0)
        np.testing.assert_array_equal(g.mse_loss(t, g.zeros(4), reduction="none").numpy(), x ** 2)
    assert math.isnan(g.mse_loss(t, g.zeros(4)).item())
    np.testing.assert_array_equal((g.tensor([[math.nan, 1.0]]) @ g.zeros(2, 1)).numpy(), [[math.nan]])


def test_empty_tensors_reduce_to_identities():
    assert g.zeros(0).sum().item() == 0.0
    assert g.zeros(0, 3).sum(0).tolist() == [0.0, 0.0, 0.0]
    assert (g.zeros(2, 0) @ g.zeros(0, 3)).tolist() == [[0.0] * 3] * 2
    assert (g.zeros(1, 1, 0) @ g.zeros(0, 1)).tolist() == [[[0.0]]]
