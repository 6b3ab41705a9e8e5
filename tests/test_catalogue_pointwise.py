"""Bad-input catalogue of the breadth round's math ops (gdcore/pointwise.py, sampling.py,
binning.py; see catalogue.py): each call must raise the named exception with a message that
names the problem or the fix, never crash and never answer silently wrong."""
import math

import pytest

import gdcore
from catalogue import bad, check

g = gdcore


def _floor_divide_backward():
    x = g.tensor([3.0], requires_grad=True)
    (x // 2).sum().backward()


def _imod_int_by_float():
    x = g.tensor([5, 3])
    x %= 2.5


CASES = [
    bad("remainder_int_by_zero", lambda: g.tensor([5, 3]) % g.tensor([2, 0]), RuntimeError, "ZeroDivisionError"),
    bad("floor_divide_int_by_zero", lambda: g.tensor([5]) // 0, RuntimeError, "ZeroDivisionError"),
    bad("fmod_int_by_zero", lambda: g.fmod(g.tensor([5]), 0), RuntimeError, "divide floats"),
    bad("remainder_two_bools", lambda: g.tensor([True]) % g.tensor([True]), RuntimeError, "two bool tensors"),
    bad("remainder_shapes", lambda: g.remainder(g.ones(2, 3), g.ones(4)), ValueError, "broadcast"),
    bad("remainder_not_a_number", lambda: g.remainder(g.ones(2), "a"), TypeError, "argument 'other' must be"),
    bad("remainder_two_numbers", lambda: g.remainder(5, 3), TypeError, "at least one of"),
    bad("floor_divide_backward", _floor_divide_backward, RuntimeError, "derivative for 'floor_divide'"),
    bad("imod_int_by_float", _imod_int_by_float, RuntimeError, "can't be cast to the desired output type"),
    bad("atan2_shapes", lambda: g.atan2(g.ones(2), g.ones(3)), ValueError, "broadcast"),
    bad("asin_not_a_tensor", lambda: g.asin([0.5]), TypeError, "asin"),
    bad("logit_eps_string", lambda: g.logit(g.rand(3), eps="0.1"), TypeError, "argument 'eps' must be a number"),
    bad("xlogy_two_numbers", lambda: g.xlogy(1.0, 2.0), TypeError, "at least one of"),
    bad("lerp_int", lambda: g.lerp(g.tensor([1]), g.tensor([2]), 0.5), RuntimeError, "convert with .float()"),
    bad("lerp_dtypes", lambda: g.lerp(g.ones(2), g.ones(2, dtype=g.float64), 0.5), RuntimeError,
        "expected dtype gdcore.float32 for 'end'"),
    bad("addmm_shapes", lambda: g.addmm(g.ones(2, 2), g.ones(2, 3), g.ones(4, 2)), ValueError, "3 != 4"),
    bad("addmm_input_shape", lambda: g.addmm(g.ones(4), g.ones(2, 3), g.ones(3, 2)), RuntimeError,
        "cannot be broadcast to the product's shape [2, 2]"),
    bad("addmm_1d", lambda: g.addmm(g.ones(2), g.ones(2), g.ones(2, 2)), RuntimeError, "must be matrices"),
    bad("baddbmm_2d", lambda: g.baddbmm(g.ones(2, 2), g.ones(2, 2), g.ones(2, 2)), RuntimeError, "must be 3-D"),
    bad("addcdiv_ints", lambda: g.addcdiv(g.ones(2), g.tensor([1, 2]), g.tensor([3, 4])), RuntimeError,
        "integer division with addcdiv"),
    bad("addcmul_value_string", lambda: g.addcmul(g.ones(2), g.ones(2), g.ones(2), value="2"), TypeError,
        "argument 'value' must be a number"),
    bad("lerp_inplace_leaf", lambda: g.ones(2, requires_grad=True).lerp_(g.zeros(2), 0.5), RuntimeError,
        "leaf tensor that requires grad"),
    bad("bernoulli_p_range", lambda: g.bernoulli(g.tensor([1.5])), RuntimeError, "probabilities must be in [0, 1]"),
    bad("bernoulli_int", lambda: g.bernoulli(g.tensor([1, 0])), RuntimeError, "float32 or float64"),
    bad("bernoulli_scalar_p", lambda: g.zeros(2).bernoulli_(2.0), RuntimeError, "p must be in [0, 1]"),
    bad("multinomial_too_many", lambda: g.multinomial(g.tensor([1.0, 2.0]), 3), RuntimeError,
        "cannot sample n_sample > prob_dist.size(-1) samples without replacement"),
    bad("multinomial_negative", lambda: g.multinomial(g.tensor([1.0, -2.0]), 1), RuntimeError, "element < 0"),
    bad("multinomial_nan", lambda: g.multinomial(g.tensor([1.0, math.nan]), 1), RuntimeError, "`nan`"),
    bad("multinomial_zero_sum", lambda: g.multinomial(g.tensor([0.0, 0.0]), 1), RuntimeError,
        "sum of probabilities <= 0"),
    bad("multinomial_3d", lambda: g.multinomial(g.ones(2, 2, 2), 1), RuntimeError, "must be 1 or 2 dim"),
    bad("multinomial_int", lambda: g.multinomial(g.tensor([1, 2]), 1), RuntimeError, "float32 or float64"),
    bad("multinomial_zero_samples", lambda: g.multinomial(g.ones(3), 0), RuntimeError, "n_sample <= 0"),
    bad("normal_negative_std", lambda: g.normal(g.zeros(3), -1.0), RuntimeError, "std >= 0.0"),
    bad("normal_negative_std_tensor", lambda: g.normal(g.zeros(3), g.tensor([1.0, -1.0, 1.0])), RuntimeError,
        "all elements of std >= 0.0"),
    bad("normal_int_mean", lambda: g.normal(g.zeros(3, dtype=g.int64), 1.0), RuntimeError, "float32 or float64"),
    bad("normal_shapes", lambda: g.normal(g.zeros(2, 3), g.ones(4)), RuntimeError, "do not broadcast"),
    bad("exponential_rate", lambda: g.zeros(2).exponential_(lambd=0.0), RuntimeError, "lambd > 0.0"),
    bad("geometric_p", lambda: g.zeros(2).geometric_(1.5), RuntimeError, "p to be in (0, 1)"),
    bad("searchsorted_side", lambda: g.searchsorted(g.ones(3), g.ones(2), right=True, side="left"), RuntimeError,
        "side and right can't be set to opposites"),
    bad("searchsorted_side_value", lambda: g.searchsorted(g.ones(3), g.ones(2), side="middle"), RuntimeError,
        "'left' or 'right'"),
    bad("searchsorted_rows", lambda: g.searchsorted(g.ones(2, 3), g.ones(3, 2)), RuntimeError,
        "first N-1 dimensions of boundaries tensor and input value tensor must match"),
    bad("searchsorted_0d", lambda: g.searchsorted(g.tensor(1.0), g.ones(2)), RuntimeError, "at least 1 dimension"),
    bad("bucketize_2d", lambda: g.bucketize(g.ones(3), g.ones(2, 2)), RuntimeError, "must be 1 dimension"),
    bad("bincount_negative", lambda: g.bincount(g.tensor([-1, 2])), RuntimeError, "non-negative integral"),
    bad("bincount_float", lambda: g.bincount(g.tensor([1.0, 2.0])), RuntimeError, "integral inputs"),
    bad("bincount_weights_length", lambda: g.bincount(g.tensor([0, 1]), g.ones(3)), RuntimeError,
        "same length as input"),
    bad("histc_bins", lambda: g.histc(g.ones(3), bins=0), RuntimeError, "bins must be > 0"),
    bad("histc_range", lambda: g.histc(g.ones(3), min=3, max=1), RuntimeError, "max must be larger than min"),
    bad("histc_int", lambda: g.histc(g.tensor([1, 2])), RuntimeError, "convert with .float()"),
    bad("hook_no_grad", lambda: g.ones(2).register_hook(lambda grad: grad), RuntimeError,
        "doesn't require gradient"),
    bad("hook_not_callable", lambda: g.ones(2, requires_grad=True).register_hook(None), TypeError, "must be callable"),
    bad("solve_singular", lambda: g.linalg.solve(g.tensor([[1.0, 2.0], [2.0, 4.0]]), g.ones(2)), RuntimeError,
        "input matrix is singular"),
    bad("inv_singular_batch", lambda: g.linalg.inv(g.stack([g.eye(2), g.zeros(2, 2)])), RuntimeError,
        "linalg.inv: (Batch element 1)"),
    bad("inv_not_square", lambda: g.linalg.inv(g.ones(2, 3)), ValueError, "square matrices"),
    bad("det_1d", lambda: g.linalg.det(g.ones(3)), ValueError, "at least 2 dimensions"),
    bad("det_int", lambda: g.det(g.tensor([[1, 2], [3, 4]])), ValueError, "convert it with .double()"),
    bad("solve_rows", lambda: g.linalg.solve(g.eye(3), g.ones(2, 1)), ValueError, "B needs 3 rows"),
    bad("solve_dtypes", lambda: g.linalg.solve(g.eye(2), g.ones(2, 1, dtype=g.float64)), ValueError,
        "same dtype"),
    bad("solve_nan", lambda: g.linalg.solve(g.tensor([[float("nan")]]), g.ones(1, 1)), RuntimeError, "non-finite"),
    bad("cholesky_not_pd", lambda: g.linalg.cholesky(g.tensor([[1.0, 2.0], [2.0, 1.0]])), RuntimeError,
        "not positive-definite (the leading minor of order 2"),
    bad("eigh_uplo", lambda: g.linalg.eigh(g.eye(2), UPLO="X"), ValueError, "'L' or 'U'"),
    bad("eigh_not_a_tensor", lambda: g.linalg.eigh([[1.0]]), TypeError, "expected a gdcore.Tensor"),
]


@pytest.mark.parametrize("call, error, words", CASES)
def test_bad_input(call, error, words, tmp_path):
    check(call, error, words, tmp_path)
