"""Bad-input catalogue, the tensor shape, view and reduction ops of session 6 (see catalogue.py):
splitting, reshaping, flipping, triangles and diagonals, stacking, the new_* functions, in-place
math, closeness, scans, order statistics and the tensor products. Each call must raise torch's
exception type with a message that names the problem (with the values) or the fix."""
import pytest

import gdcore
from catalogue import bad, check

g = gdcore


def _x():
    return g.arange(6.0).reshape(2, 3)


CASES = [
    # splitting
    bad("chunk_zero", lambda: _x().chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0, got: 0"),
    bad("chunk_0d", lambda: g.chunk(g.tensor(1.0), 2), RuntimeError, "at least a 1-dimensional tensor"),
    bad("chunk_dim_out_of_range", lambda: _x().chunk(2, 2), IndexError, "expected to be in range of [-2, 1]"),
    bad("split_sizes_sum", lambda: _x().split([1, 1], 1), RuntimeError, "sum exactly to 3"),
    bad("split_negative_size", lambda: _x().split(-1), RuntimeError, "non-negative, but got split_size=-1"),
    bad("split_zero_size", lambda: _x().split(0), RuntimeError, "only be 0 if dimension size is 0"),
    bad("split_float_size", lambda: g.split(_x(), 1.5), TypeError, "must be an int"),
    bad("tensor_split_zero_sections", lambda: _x().tensor_split(0), RuntimeError, "larger than 0, got 0"),
    bad("tensor_split_float_tensor", lambda: _x().tensor_split(g.tensor([1.0])), RuntimeError, "tensor of integers"),
    bad("unbind_0d", lambda: g.unbind(g.tensor(1.0)), IndexError, "no dimensions"),
    bad("narrow_start_out_of_range", lambda: _x().narrow(1, 4, 1), IndexError, "[-3, 3], but got 4"),
    bad("narrow_too_long", lambda: _x().narrow(1, 1, 3), RuntimeError,
        "start (1) + length (3) exceeds dimension size (3)"),
    bad("narrow_negative_length", lambda: g.narrow(_x(), 0, 0, -1), RuntimeError, "length must be non-negative"),
    bad("select_index_out_of_range", lambda: _x().select(0, 2), IndexError, "index 2 out of range"),
    # reshaping
    bad("view_as_not_a_tensor", lambda: _x().view_as((3, 2)), TypeError, "argument 'other' must be a gdcore.Tensor"),
    bad("expand_as_mismatch", lambda: _x().expand_as(g.zeros(3, 3)), ValueError, "expand"),
    bad("unflatten_wrong_product", lambda: _x().unflatten(1, (2, 2)), RuntimeError, "don't multiply up to the size"),
    bad("movedim_repeated", lambda: g.movedim(g.zeros(2, 3, 4), (0, 0), (1, 2)), RuntimeError, "repeated dim"),
    bad("movedim_lengths", lambda: g.movedim(g.zeros(2, 3), (0, 1), (1,)), RuntimeError, "same number of dims"),
    bad("unsqueeze__requires_grad", lambda: g.ones(2, requires_grad=True).unsqueeze_(0), RuntimeError,
        "x = x.unsqueeze(...)"),
    # repeat, flip, roll
    bad("repeat_too_few", lambda: _x().repeat(2), RuntimeError, "can not be smaller than number of dimensions"),
    bad("repeat_negative", lambda: _x().repeat(-1, 1), RuntimeError, "negative dimension"),
    bad("flip_repeated_dim", lambda: _x().flip((0, 0)), RuntimeError,
        "dim 0 appears multiple times"),
    bad("fliplr_1d", lambda: g.fliplr(g.ones(3)), RuntimeError, "Input must be >= 2-d"),
    bad("roll_shifts_dims", lambda: _x().roll((1, 1), 0), RuntimeError, "shifts and dimensions must align"),
    # triangles and diagonals
    bad("tril_1d", lambda: g.tril(g.ones(3)), RuntimeError, "at least 2 dimensions"),
    bad("diag_3d", lambda: g.diag(g.ones(2, 2, 2)), RuntimeError, "Supports 1D or 2D tensors. Got 3D"),
    bad("diagonal_same_dims", lambda: _x().diagonal(0, 1, 1), RuntimeError, "cannot be identical"),
    bad("trace_3d", lambda: g.trace(g.ones(2, 2, 2)), RuntimeError, "expected a matrix"),
    # stacking
    bad("vstack_empty", lambda: g.vstack([]), RuntimeError, "non-empty"),
    bad("hstack_a_tensor", lambda: g.hstack(g.ones(3)), TypeError, "tuple or list of Tensors"),
    bad("column_stack_mismatch", lambda: g.column_stack([g.ones(2), g.ones(3)]), ValueError, "cat"),
    # new_* and *_like
    bad("new_zeros_cuda", lambda: _x().new_zeros(2, device="cuda"), RuntimeError, "CPU"),
    bad("new_full_int_size", lambda: _x().new_full(3, 1.0), TypeError, "new_full((3,), 1.0)"),
    bad("randint_like_not_a_tensor", lambda: g.randint_like([1, 2], 3), TypeError, "must be a gdcore.Tensor"),
    # in-place math and clip
    bad("exp__int", lambda: g.arange(3).exp_(), RuntimeError, "Float can't be cast to the desired output type Long"),
    bad("sqrt__leaf", lambda: g.ones(2, requires_grad=True).sqrt_(), RuntimeError, "leaf"),
    bad("clip_no_bounds", lambda: g.clip(_x()), ValueError, "at least one of min or max"),
    # closeness
    bad("isclose_dtypes", lambda: g.isclose(g.ones(1), g.ones(1, dtype=g.float64)), RuntimeError,
        "Float did not match Double"),
    bad("isclose_negative_rtol", lambda: g.isclose(g.ones(1), g.ones(1), rtol=-1.0), RuntimeError,
        "rtol must be greater than or equal to zero"),
    bad("allclose_shapes", lambda: g.allclose(g.ones(2), g.ones(3)), ValueError, "cannot be broadcast"),
    # scans
    bad("diff_negative_order", lambda: g.diff(g.ones(3), n=-1), RuntimeError, "order must be non-negative"),
    bad("diff_prepend_dims", lambda: g.diff(_x(), prepend=g.ones(2)), RuntimeError, "same dimension as input"),
    bad("cumprod_dim_out_of_range", lambda: g.cumprod(_x(), 2), IndexError, "out of range"),
    bad("cummax_bool", lambda: g.cummax(g.ones(2, dtype=g.bool), 0), RuntimeError, "bool tensors are not supported"),
    # order statistics
    bad("aminmax_positional_dim", lambda: g.aminmax(_x(), 0), TypeError, "keyword-only"),
    bad("aminmax_empty_dim", lambda: g.aminmax(g.ones(0, 2), dim=0), IndexError, "non-zero size"),
    bad("median_empty_dim", lambda: g.median(g.ones(0, 2), 0), IndexError, "non-zero size"),
    bad("quantile_q_range", lambda: g.quantile(_x(), 1.5), RuntimeError, "q must be in the range [0, 1] but got 1.5"),
    bad("quantile_int", lambda: g.quantile(g.arange(4), 0.5), RuntimeError, "float or double"),
    bad("quantile_2d_q", lambda: g.quantile(_x(), g.ones(1, 1)), RuntimeError, "scalar or 1D tensor"),
    bad("quantile_interpolation", lambda: g.quantile(_x(), 0.5, interpolation="cubic"), ValueError,
        "linear, lower, higher, midpoint or nearest"),
    bad("nanmean_int", lambda: g.nanmean(g.arange(3)), RuntimeError, "floating point"),
    bad("nansum_dim_type", lambda: g.nansum(_x(), dim="0"), TypeError, "argument 'dim'"),
    # products
    bad("cross_no_size_3", lambda: g.cross(_x(), _x(), dim=0), RuntimeError, "must have length 3"),
    bad("tensordot_mismatch", lambda: g.tensordot(g.ones(2, 3), g.ones(4, 5), 1), RuntimeError,
        "contracted dimensions need to match"),
    bad("tensordot_negative", lambda: g.tensordot(g.ones(2, 3), g.ones(3, 5), -1), RuntimeError, "dims >= 0"),
    # mode
    bad("mode_empty_dim", lambda: g.mode(g.ones(2, 0)), IndexError, "non-zero size"),
    bad("mode_dim_out_of_range", lambda: g.ones(2).mode(1), IndexError, "out of range"),
]


@pytest.mark.parametrize("call, error, words", CASES)
def test_bad_input(call, error, words, tmp_path):
    check(call, error, words, tmp_path)
