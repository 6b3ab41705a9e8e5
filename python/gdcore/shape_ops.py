"""torch's everyday shape functions, composed from gdcore's differentiable C++ ops: splitting
(chunk, split, tensor_split, unbind, narrow, select), reshaping (view_as, reshape_as, expand_as,
ravel, unflatten, movedim, swapaxes, squeeze_/unsqueeze_), rearranging (repeat, flip, roll),
triangles and diagonals (tril, triu, diag, diagonal, diag_embed, trace) and stacking (hstack,
vstack, dstack, column_stack, atleast_*d).

The pieces of a split and narrow/select are basic-index views of the input (they share its memory,
as torch's do), so their gradients are the slicing op's. flip, roll and repeat copy, as torch's do.
diagonal is a view too when the input's layout allows (a contiguous tensor or its transpose), else a copy.
``install_methods`` makes each one a Tensor method too.
"""
from __future__ import annotations

import functools
import inspect
import numbers
from typing import List, Optional, Sequence, Tuple, Union

from . import _core
from ._core import Tensor
from ._argument_check import explain_argument_errors
from .creation import arange, zeros

__all__ = ["chunk", "split", "tensor_split", "unbind", "narrow", "select", "ravel", "unflatten", "movedim",
           "moveaxis", "swapaxes", "swapdims", "tile", "flip", "fliplr", "flipud", "roll", "tril", "triu", "diag",
           "diagonal", "diag_embed", "trace", "hstack", "vstack", "row_stack", "dstack", "column_stack",
           "atleast_1d", "atleast_2d", "atleast_3d"]


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _require_tensor(value, op: str, name: str = "input") -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be a gdcore.Tensor, got {type(value).__name__}")


def _int_arg(value, op: str, name: str) -> int:
    if isinstance(value, Tensor) and value.dim() == 0 and not value.is_floating_point():
        return int(value.item())
    if not _is_int(value):
        raise TypeError(f"{op}(): argument '{name}' must be an int, got {type(value).__name__}")
    return int(value)


def wrap_dim(dim, ndim: int, op: str = "") -> int:
    """``dim`` in [-ndim, ndim) as a non-negative index; IndexError with torch's message otherwise
    (a 0-d tensor has the range of a 1-d one, as in torch)."""
    dim = _int_arg(dim, op or "dim", "dim")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _dims_arg(dims, op: str, name: str = "dims") -> List[int]:
    if _is_int(dims):
        return [int(dims)]
    if isinstance(dims, (tuple, list)) and all(_is_int(d) for d in dims):
        return [int(d) for d in dims]
    raise TypeError(f"{op}(): argument '{name}' must be an int or a tuple of ints, got {type(dims).__name__}")


def _slice_along(t: Tensor, dim: int, start: int, stop: int) -> Tensor:
    """t[..., start:stop, ...] on ``dim``: a view."""
    return t[(slice(None),) * dim + (slice(start, stop),)]


def _pieces(t: Tensor, dim: int, bounds: Sequence[int]) -> Tuple[Tensor, ...]:
    return tuple(_slice_along(t, dim, a, b) for a, b in zip(bounds[:-1], bounds[1:]))


# ---------------------------------------------------------------- splitting
def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """input[..., start:start+length, ...] along ``dim`` as a view (``start`` may be negative or a 0-d tensor)."""
    _require_tensor(input, "narrow")
    if input.dim() == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input.dim(), "narrow")
    start, length = _int_arg(start, "narrow", "start"), _int_arg(length, "narrow", "length")
    size = input.shape[d]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _slice_along(input, d, start, start + length)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """input[..., index, ...] along ``dim`` (that dimension removed), a view."""
    _require_tensor(input, "select")
    if input.dim() == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input.dim(), "select")
    index = _int_arg(index, "select", "index")
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} "
                         f"at dimension {d}")
    return input[(slice(None),) * d + (index,)]


def chunk(input: Tensor, chunks: int, dim: int = 0) -> Tuple[Tensor, ...]:
    """Splits into pieces of ceil(size / chunks) along ``dim`` (the last may be smaller, and there may be
    fewer than ``chunks`` pieces, as in torch). A tuple of views."""
    _require_tensor(input, "chunk")
    chunks = _int_arg(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input.dim() == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, input.dim(), "chunk")
    size = input.shape[d]
    step = -(-size // chunks)
    if step == 0:  # an empty dimension: torch returns `chunks` empty pieces
        return tuple(input[(slice(None),) * d + (slice(0, 0),)] for _ in range(chunks))
    return split(input, step, d)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> Tuple[Tensor, ...]:
    """Pieces of ``split_size_or_sections`` along ``dim`` (an int: equal pieces, the last smaller; a list:
    those sizes, which must add up to the dimension). A tuple of views."""
    _require_tensor(tensor, "split", "tensor")
    if tensor.dim() == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, tensor.dim(), "split")
    size = tensor.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [_int_arg(s, "split", "split_size_or_sections") for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                               f"split_sizes={sizes}")
        if sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sizes}")
        bounds = [0]
        for s in sizes:
            bounds.append(bounds[-1] + s)
        return _pieces(tensor, d, bounds)
    step = _int_arg(split_size_or_sections, "split", "split_size_or_sections")
    if step < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
    if step == 0:
        if size != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        return (tensor[(slice(None),) * d + (slice(0, 0),)],)
    bounds = list(range(0, size, step)) + [size]
    if size == 0:
        bounds = [0, 0]
    return _pieces(tensor, d, bounds)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> Tuple[Tensor, ...]:
    """numpy's array_split: an int n gives n pieces whose sizes differ by at most one (the first
    ``size % n`` one longer); a list of indices cuts before each index. A tuple of views."""
    _require_tensor(input, "tensor_split")
    if input.dim() == 0:
        raise RuntimeError("tensor_split expects at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = wrap_dim(dim, input.dim(), "tensor_split")
    size = input.shape[d]
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg.is_floating_point() or arg.dim() > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               "one-dimensional tensor of integers")
        arg = arg.item() if arg.dim() == 0 else arg.tolist()
    if isinstance(arg, (list, tuple)):
        cuts = [min(max(_int_arg(i, "tensor_split", "indices_or_sections"), -size), size) for i in arg]
        cuts = [c + size if c < 0 else c for c in cuts]
        bounds = [0] + cuts + [size]
        # A cut before the previous one gives an empty piece (torch's and numpy's rule).
        return tuple(_slice_along(input, d, a, max(a, b)) for a, b in zip(bounds[:-1], bounds[1:]))
    n = _int_arg(arg, "tensor_split", "indices_or_sections")
    if n <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {n}")
    base, extra = divmod(size, n)
    bounds = [0]
    for k in range(n):
        bounds.append(bounds[-1] + base + (1 if k < extra else 0))
    return _pieces(input, d, bounds)


def unbind(input: Tensor, dim: int = 0) -> Tuple[Tensor, ...]:
    """The slices along ``dim``, that dimension removed: a tuple of views."""
    _require_tensor(input, "unbind")
    if input.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, input.dim(), "unbind")
    return tuple(input[(slice(None),) * d + (k,)] for k in range(input.shape[d]))


# ---------------------------------------------------------------- reshaping
def _other_shape(other, op: str):
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}(): argument 'other' must be a gdcore.Tensor, got {type(other).__name__}")
    return tuple(other.shape)


def view_as(self: Tensor, other: Tensor) -> Tensor:
    return self.view(*_other_shape(other, "view_as"))


def reshape_as(self: Tensor, other: Tensor) -> Tensor:
    return self.reshape(*_other_shape(other, "reshape_as"))


def expand_as(self: Tensor, other: Tensor) -> Tensor:
    return self.expand(*_other_shape(other, "expand_as"))


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-d tensor (a view when the input is contiguous)."""
    _require_tensor(input, "ravel")
    return input.reshape(-1)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Splits dimension ``dim`` into ``sizes`` (one of them may be -1)."""
    _require_tensor(input, "unflatten")
    d = wrap_dim(dim, input.dim(), "unflatten")
    sizes = _dims_arg(sizes, "unflatten", "sizes")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    size = input.shape[d] if input.dim() else 1
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    ok = (sizes.count(-1) == 0 and known == size) or (sizes.count(-1) == 1 and known != 0 and size % known == 0)
    if not ok:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {dim} ({size}) "
                           "in the input tensor")
    shape = list(input.shape)
    return input.reshape(*shape[:d], *sizes, *shape[d + 1:])


def movedim(input: Tensor, source, destination) -> Tensor:
    """Moves the dimensions ``source`` to the positions ``destination`` (the others keep their order): a view."""
    _require_tensor(input, "movedim")
    src, dst = _dims_arg(source, "movedim", "source"), _dims_arg(destination, "movedim", "destination")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    n = input.dim()
    src = [wrap_dim(s, n, "movedim") for s in src]
    dst = [wrap_dim(s, n, "movedim") for s in dst]
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({dims})")
    if n == 0:
        return input.reshape(())  # a view of the 0-d tensor, as torch's
    order = [-1] * n
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(k for k in range(n) if k not in src)
    order = [o if o >= 0 else next(rest) for o in order]
    return input.permute(*order)


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """numpy's name for transpose(input, axis0, axis1): a view."""
    _require_tensor(input, "swapaxes")
    return input.transpose(_int_arg(axis0, "swapaxes", "axis0"), _int_arg(axis1, "swapaxes", "axis1"))


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Another name for transpose(input, dim0, dim1): a view."""
    _require_tensor(input, "swapdims")
    return input.transpose(_int_arg(dim0, "swapdims", "dim0"), _int_arg(dim1, "swapdims", "dim1"))


def _inplace_view(self: Tensor, result: Tensor, op: str) -> Tensor:
    # The tensor takes the view's shape and strides in place. A tensor in a graph would need its
    # history rewritten too, which the core does not do: refuse rather than break its gradient.
    if self.requires_grad:
        raise RuntimeError(f"{op}: gdcore does not change the shape of a tensor that requires grad in place; "
                           f"write x = x.{op[:-1]}(...) instead")
    self.data = result()
    return self


def _view_of(make, op: str):
    def result():
        try:
            return make()
        except (TypeError, ValueError) as err:  # the out-of-place op's message, said as the in-place method's
            raise type(err)(f"Tensor.{op}(): {err}") from err
    return result


def squeeze_(self: Tensor, dim=None) -> Tensor:
    """In-place squeeze: this tensor drops size-1 dimensions (tensors that do not require grad)."""
    return _inplace_view(self, _view_of(lambda: self.squeeze() if dim is None else self.squeeze(dim), "squeeze_"),
                         "squeeze_")


def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    """In-place unsqueeze: this tensor gains a size-1 dimension at ``dim`` (tensors that do not require grad)."""
    return _inplace_view(self, _view_of(lambda: self.unsqueeze(dim), "unsqueeze_"), "unsqueeze_")


# ---------------------------------------------------------------- rearranging
def repeat(self: Tensor, *sizes) -> Tensor:
    """Tiles the tensor ``sizes[k]`` times along dimension k (extra leading sizes add dimensions): a copy."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    reps = _dims_arg(list(sizes), "repeat", "sizes")
    if len(reps) < self.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension: repeats {reps}")
    shape = [1] * (len(reps) - self.dim()) + list(self.shape)
    # (a, b) -> (1, a, 1, b) -> expand to (ra, a, rb, b) -> (ra*a, rb*b): expand's backward sums the copies.
    inter = []
    for s in shape:
        inter += [1, s]
    big = []
    for r, s in zip(reps, shape):
        big += [r, s]
    return self.reshape(*inter).expand(*big).reshape(*[r * s for r, s in zip(reps, shape)])


def tile(input: Tensor, dims) -> Tensor:
    """numpy's tile: repeat, except that fewer ``dims`` than dimensions are padded with leading 1s."""
    _require_tensor(input, "tile")
    reps = _dims_arg(dims, "tile", "dims")
    return repeat(input, *([1] * (input.dim() - len(reps)) + reps))


def _reversed_index(n: int) -> Tensor:
    return arange(n - 1, -1, -1) if n else arange(0)


def flip(input: Tensor, dims) -> Tensor:
    """The elements in reverse order along each of ``dims``: a copy, as in torch."""
    _require_tensor(input, "flip")
    ds = [wrap_dim(d, input.dim(), "flip") for d in _dims_arg(dims, "flip")]
    if len(set(ds)) != len(ds):
        dup = next(d for d in ds if ds.count(d) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    out = input
    for d in ds:
        if input.dim() == 0:
            break
        out = out.index_select(d, _reversed_index(input.shape[d]))
    return out.clone() if out is input else out


def _flip_method(self: Tensor, *dims) -> Tensor:
    """x.flip(0, 1) or x.flip((0, 1)): the elements in reverse order along each of ``dims`` (a copy)."""
    return flip(self, dims[0] if len(dims) == 1 else list(dims))


def fliplr(input: Tensor) -> Tensor:
    """Reverses the columns (dimension 1); the input must be at least 2-d."""
    _require_tensor(input, "fliplr")
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, [1])


def flipud(input: Tensor) -> Tensor:
    """Reverses the rows (dimension 0); the input must be at least 1-d."""
    _require_tensor(input, "flipud")
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, [0])


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Rotates the elements by ``shifts`` along ``dims`` (elements leaving one end come back at the other);
    without ``dims`` the flattened tensor is rolled and the shape restored. A copy."""
    _require_tensor(input, "roll")
    sh = _dims_arg(shifts, "roll", "shifts")
    if dims is None:
        if len(sh) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:0")
        return roll(input.reshape(-1), sh, 0).reshape(*input.shape)
    ds = _dims_arg(dims, "roll")
    if len(sh) != len(ds):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:{len(ds)}")
    out = input
    for s, d in zip(sh, ds):
        d = wrap_dim(d, input.dim(), "roll")
        n = input.shape[d] if input.dim() else 1
        if n == 0 or input.dim() == 0:
            continue
        s %= n
        # out[i] = in[(i - s) mod n]: the last s elements first.
        idx = _core.cat([arange(n - s, n), arange(0, n - s)], 0)
        out = out.index_select(d, idx)
    return out.clone() if out is input else out


# ---------------------------------------------------------------- triangles and diagonals
def _tri_mask(rows: int, cols: int, diagonal: int, lower: bool) -> Tensor:
    i = arange(rows).reshape(rows, 1)
    j = arange(cols).reshape(1, cols)
    return (j - i <= diagonal) if lower else (j - i >= diagonal)


def _tri(input: Tensor, diagonal: int, lower: bool, op: str) -> Tensor:
    _require_tensor(input, op)
    diagonal = _int_arg(diagonal, op, "diagonal")
    if input.dim() < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    mask = _tri_mask(input.shape[-2], input.shape[-1], diagonal, lower)
    # where, not a product with the mask: an inf outside the triangle becomes 0, not nan.
    return _core.where(mask, input, _zero(input))


def _zero(input: Tensor):
    """A Python zero that keeps ``input``'s dtype under where's type promotion."""
    return False if input.dtype == _core.dtype.bool else 0


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (elements with column - row <= diagonal), zeros elsewhere."""
    return _tri(input, diagonal, True, "tril")


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (elements with column - row >= diagonal), zeros elsewhere."""
    return _tri(input, diagonal, False, "triu")


def _diagonal_length(rows: int, cols: int, offset: int) -> int:
    return max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The elements input[..., i, i + offset] of the 2-d slices spanned by ``dim1`` and ``dim2``; those
    dimensions are removed and the diagonal is the last dimension.

    A view, as torch's (``A.diagonal().add_(lam)`` changes ``A``), whenever the two dimensions can be
    laid side by side in memory, which is the case for a contiguous tensor or its transpose: the
    (rows, cols) block is read as one run of rows * cols elements and the diagonal is every
    (cols + 1)-th of them. Other layouts get a copy.
    """
    _require_tensor(input, "diagonal")
    offset = _int_arg(offset, "diagonal", "offset")
    if input.dim() < 2:
        raise RuntimeError(f"diagonal(): expected a tensor with at least 2 dimensions, got {input.dim()}")
    d1, d2 = wrap_dim(dim1, input.dim(), "diagonal"), wrap_dim(dim2, input.dim(), "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    # diagonal(x, k, d1, d2) and diagonal(x, -k, d2, d1) are the same elements in the same order.
    for a, b, k in ((d1, d2, offset), (d2, d1, -offset)):
        x = movedim(input, [a, b], [-2, -1])
        if x.is_contiguous():
            rows, cols = x.shape[-2], x.shape[-1]
            length = _diagonal_length(rows, cols, k)
            start = k if k >= 0 else -k * cols
            flat = x.reshape(*x.shape[:-2], rows * cols)  # a view: x is contiguous
            if length == 0:
                return flat[..., 0:0]
            return flat[..., start:start + (length - 1) * (cols + 1) + 1:cols + 1]
    x = movedim(input, [d1, d2], [-2, -1])
    i = arange(_diagonal_length(x.shape[-2], x.shape[-1], offset))
    r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
    return x[..., r, c]


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose ``offset`` diagonal (on ``dim1``, ``dim2`` of the result) holds the last dimension
    of ``input``; zeros elsewhere. (..., n) -> (..., n + |offset|, n + |offset|)."""
    _require_tensor(input, "diag_embed")
    offset = _int_arg(offset, "diag_embed", "offset")
    if input.dim() == 0:
        raise RuntimeError("diag_embed(): expected a tensor with at least 1 dimension")
    n = input.shape[-1]
    m = n + abs(offset)
    eye = _tri_mask(n, n, 0, True) & _tri_mask(n, n, 0, False)
    square = _core.where(eye, input.unsqueeze(-1).expand(*input.shape, n), _zero(input))
    batch = list(input.shape[:-1])
    if offset:
        k = abs(offset)
        zc = zeros(*batch, n, k, dtype=input.dtype)
        square = _core.cat([zc, square] if offset > 0 else [square, zc], -1)
        zr = zeros(*batch, k, m, dtype=input.dtype)
        square = _core.cat([square, zr] if offset > 0 else [zr, square], -2)
    out_dims = input.dim() + 1
    d1, d2 = wrap_dim(dim1, out_dims, "diag_embed"), wrap_dim(dim2, out_dims, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return movedim(square, [-2, -1], [d1, d2])


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-d input becomes a square matrix with it on the ``diagonal``-th diagonal; a 2-d input gives
    its ``diagonal``-th diagonal as a 1-d tensor."""
    _require_tensor(input, "diag")
    if input.dim() == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.dim() == 2:
        return globals()["diagonal"](input, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")


def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-d tensor (a 0-d tensor)."""
    _require_tensor(input, "trace")
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return diagonal(input).sum()


# ---------------------------------------------------------------- stacking
def _tensor_list(tensors, op: str) -> List[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, got "
                        f"{type(tensors).__name__}")
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, but element {k} is "
                            f"{type(t).__name__}")
    if not tensors:
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    return list(tensors)


def _atleast(tensors, ndim: int, op: str):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = []
    for t in tensors:
        _require_tensor(t, op, "tensors")
        if t.dim() >= ndim:
            out.append(t)
        elif ndim == 1 or t.dim() == 0:
            out.append(t.reshape(*([1] * ndim)))
        elif ndim == 2:
            out.append(t.unsqueeze(0))
        else:  # ndim 3: (n,) -> (1, n, 1); (m, n) -> (m, n, 1), as numpy
            out.append(t.reshape(1, -1, 1) if t.dim() == 1 else t.unsqueeze(-1))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Each tensor with at least one dimension (a 0-d one becomes shape (1,))."""
    return _atleast(tensors, 1, "atleast_1d")


def atleast_2d(*tensors):
    """Each tensor with at least two dimensions (leading size-1 dimensions added)."""
    return _atleast(tensors, 2, "atleast_2d")


def atleast_3d(*tensors):
    """Each tensor with at least three dimensions, numpy's way ((n,) -> (1, n, 1), (m, n) -> (m, n, 1))."""
    return _atleast(tensors, 3, "atleast_3d")


def hstack(tensors) -> Tensor:
    """Concatenates along the columns: dimension 1, or 0 when the tensors are 1-d."""
    ts = [atleast_1d(t) for t in _tensor_list(tensors, "hstack")]
    return _core.cat(ts, 0 if ts[0].dim() == 1 else 1)


def vstack(tensors) -> Tensor:
    """Concatenates along the rows (dimension 0) after making each tensor at least 2-d."""
    return _core.cat([atleast_2d(t) for t in _tensor_list(tensors, "vstack")], 0)


row_stack = vstack


def dstack(tensors) -> Tensor:
    """Concatenates along dimension 2 after making each tensor at least 3-d."""
    return _core.cat([atleast_3d(t) for t in _tensor_list(tensors, "dstack")], 2)


def column_stack(tensors) -> Tensor:
    """Columns side by side: 0-d and 1-d tensors become columns (n, 1), then concatenation along dimension 1."""
    ts = _tensor_list(tensors, "column_stack")
    return _core.cat([t.reshape(t.numel(), 1) if t.dim() <= 1 else t for t in ts], 1)


# ---------------------------------------------------------------- Tensor methods
def install_methods() -> None:
    """x.chunk(2), x.split(3, 1), x.flip(0), x.diag(), ... as in torch (names that exist are kept)."""
    methods = {
        "chunk": chunk, "split": split, "tensor_split": tensor_split, "unbind": unbind, "narrow": narrow,
        "select": select, "view_as": view_as, "reshape_as": reshape_as, "expand_as": expand_as, "ravel": ravel,
        "unflatten": unflatten, "movedim": movedim, "moveaxis": moveaxis, "swapaxes": swapaxes,
        "swapdims": swapdims, "squeeze_": squeeze_, "unsqueeze_": unsqueeze_, "repeat": repeat, "flip": _flip_method,
        "fliplr": fliplr, "flipud": flipud, "roll": roll, "tile": tile, "tril": tril, "triu": triu, "diag": diag,
        "diagonal": diagonal, "diag_embed": diag_embed, "trace": trace,
    }
    for name, fn in methods.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, as_method(fn, name))
    for name, lower in (("tril_", True), ("triu_", False)):
        if not hasattr(Tensor, name):
            setattr(Tensor, name, as_method(_inplace_tri(lower, name), name))


def as_method(fn, name: str):
    """``fn(input, ...)`` as the method Tensor.<name>: its signature names the tensor ``self`` (as a method's
    does) and a wrong-type argument is answered with a message naming the method (_argument_check)."""
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    functools.update_wrapper(method, fn)
    method.__name__, method.__qualname__ = name, f"Tensor.{name}"
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    if params:
        method.__signature__ = sig.replace(parameters=[params[0].replace(name="self")] + params[1:])
    return explain_argument_errors(method, f"Tensor.{name}")


def _inplace_tri(lower: bool, name: str):
    def method(self: Tensor, diagonal: int = 0) -> Tensor:
        self.copy_(_tri(self, diagonal, lower, name))
        return self
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place {name[:-1]}."
    return method
