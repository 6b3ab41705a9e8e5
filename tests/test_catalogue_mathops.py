"""Bad-input catalogue, the math ops and losses of issues 11 and 12 (see catalogue.py): each call
must raise the named exception with a message that names the problem or the fix, never crash and
never answer silently wrong."""
import math

import pytest

import gdcore
import gdcore.nn.functional as F
from catalogue import bad, check

g = gdcore


def _x():
    return g.randn(4, 3)


def _clip_nonfinite():
    p = g.tensor([1.0, 2.0], requires_grad=True)
    (p * math.inf).sum().backward()
    g.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


CASES = [
    bad("softmax_dim_out_of_range", lambda: g.softmax(_x(), 2), IndexError, "out of range"),
    bad("log_softmax_not_a_tensor", lambda: g.log_softmax([1.0, 2.0], 0), TypeError, "must be a gdcore.Tensor"),
    bad("logsumexp_repeated_dim", lambda: g.logsumexp(_x(), (1, 1)), ValueError, "more than once"),
    bad("norm_string_ord", lambda: g.norm(_x(), p="spectral"), ValueError, "'spectral' is not supported"),
    bad("norm_nuc_3d", lambda: g.norm(g.ones(2, 2, 2), p="nuc"), ValueError, "2-d input or a pair of dims"),
    bad("vector_norm_int_tensor", lambda: g.linalg.vector_norm(g.tensor([1, 2])), ValueError, "float32 or float64"),
    bad("vector_norm_string_ord", lambda: g.linalg.vector_norm(_x(), "fro"), ValueError, "ord must be a number"),
    bad("matrix_norm_min_sv_empty", lambda: g.linalg.matrix_norm(g.ones(3, 0), -2), IndexError, "empty matrix"),
    bad("svd_1d", lambda: g.linalg.svd(g.ones(3)), ValueError, "at least 2 dimensions, got shape (3,)"),
    bad("svd_int", lambda: g.linalg.svd(g.ones(2, 2, dtype=g.int64)), ValueError, "floating point"),
    bad("svdvals_int", lambda: g.linalg.svdvals(g.tensor([[1, 2], [3, 4]])), ValueError, "convert it with .double()"),
    bad("svd_nan", lambda: g.linalg.svd(g.tensor([[1.0, math.nan], [2.0, 3.0]])), RuntimeError, "non-finite"),
    bad("svdvals_inf", lambda: g.linalg.svdvals(g.tensor([[math.inf]])), RuntimeError, "non-finite"),
    bad("svd_not_a_tensor", lambda: g.linalg.svd([[1.0]]), TypeError, "expected a gdcore.Tensor"),
    bad("svd_cuda_driver", lambda: g.linalg.svd(_x(), driver="gesvd"), ValueError, "only for CUDA"),
    bad("matrix_norm_1d", lambda: g.linalg.matrix_norm(g.ones(3)), ValueError, "at least 2 dims"),
    bad("linalg_norm_3d_ord_no_dim", lambda: g.linalg.norm(g.ones(2, 2, 2), 1), ValueError, "must be 1-d or 2-d"),
    bad("var_int_tensor", lambda: g.var(g.tensor([1, 2, 3])), ValueError, "convert with .float()"),
    bad("var_both_corrections", lambda: g.var(_x(), 0, unbiased=False, correction=0), ValueError,
        "either unbiased= or correction="),
    bad("prod_tuple_dim", lambda: g.prod(_x(), (0, 1)), TypeError, "argument 'dim' must be an int"),
    bad("cumsum_dim_out_of_range", lambda: g.cumsum(_x(), 5), IndexError, "out of range"),
    bad("dot_sizes", lambda: g.dot(g.ones(2), g.ones(3)), ValueError, "2 elements and other has 3"),
    bad("mv_shapes", lambda: g.mv(g.ones(2, 3), g.ones(4)), ValueError, "3 != 4"),
    bad("outer_2d", lambda: g.outer(g.ones(2, 2), g.ones(2)), ValueError, "must be 1-d"),
    bad("meshgrid_2d", lambda: g.meshgrid(g.ones(2, 2), indexing="ij"), ValueError, "0-d or 1-d"),
    bad("meshgrid_indexing", lambda: g.meshgrid(g.ones(2), indexing="ji"), ValueError, "'ij' or 'xy'"),
    bad("einsum_diagonal_sizes", lambda: g.einsum("ii->i", g.ones(2, 3)), ValueError,
        "subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"),
    bad("einsum_stray_dot", lambda: g.einsum("..i->i", g.ones(2, 2)), ValueError, "not part of any ellipsis"),
    bad("einsum_two_ellipses", lambda: g.einsum("...i...->i", g.ones(2, 2)), ValueError, "not part of any ellipsis"),
    bad("einsum_ellipsis_too_many_letters", lambda: g.einsum("...ijk->i", g.ones(2, 2)), ValueError,
        "besides the '...'"),
    bad("einsum_rank", lambda: g.einsum("ijk->i", g.ones(2, 2)), ValueError, "has 2 dims but its subscripts"),
    bad("einsum_unknown_output", lambda: g.einsum("ij->k", g.ones(2, 2)), ValueError, "does not appear"),
    bad("einsum_sizes", lambda: g.einsum("ij,jk->ik", g.ones(2, 3), g.ones(2, 2)), ValueError,
        "subscript 'j' has size 2 for operand 1 which does not broadcast with the size 3"),
    bad("cross_entropy_index_too_big", lambda: F.cross_entropy(_x(), g.tensor([0, 1, 2, 3])), IndexError,
        "target 3 is out of bounds for 3 classes"),
    bad("cross_entropy_negative_index", lambda: F.cross_entropy(_x(), g.tensor([0, -5, 2, 1])), IndexError,
        "target -5 is out of bounds for 3 classes"),
    bad("cross_entropy_spatial_index", lambda: F.cross_entropy(g.randn(1, 3, 2), g.tensor([[0, 4]])), IndexError,
        "target 4 is out of bounds for 3 classes"),
    bad("cross_entropy_float_indices", lambda: F.cross_entropy(_x(), g.tensor([0.0, 1.0, 2.0, 1.0])), TypeError,
        "class indices must be int64"),
    bad("cross_entropy_batch_mismatch", lambda: F.cross_entropy(_x(), g.tensor([0, 1])), ValueError,
        "Expected input batch_size (4) to match target batch_size (2)"),
    bad("cross_entropy_unbatched_target", lambda: F.cross_entropy(g.randn(3), g.tensor([1])), ValueError,
        "needs a 0-d target"),
    bad("cross_entropy_weight_size", lambda: F.cross_entropy(_x(), g.tensor([0, 1, 2, 0]), weight=g.ones(2)),
        ValueError, "weight must have shape (3,)"),
    bad("cross_entropy_int_logits", lambda: F.cross_entropy(g.tensor([[1, 2]]), g.tensor([0])), ValueError,
        "float32 or float64"),
    bad("cross_entropy_smoothing", lambda: F.cross_entropy(_x(), g.tensor([0, 1, 2, 0]), label_smoothing=-0.1),
        ValueError, "label_smoothing must be in [0, 1]"),
    bad("nll_loss_index", lambda: F.nll_loss(_x(), g.tensor([0, 1, 2, 30])), IndexError,
        "target 30 is out of bounds for 3 classes"),
    bad("nll_loss_reduction", lambda: F.nll_loss(_x(), g.tensor([0, 1, 2, 0]), reduction="batchmean"), ValueError,
        "reduction must be one of"),
    bad("bce_out_of_range", lambda: F.binary_cross_entropy(g.tensor([0.2, -0.1]), g.tensor([0.0, 1.0])),
        ValueError, "between 0 and 1"),
    bad("bce_sizes", lambda: F.binary_cross_entropy(g.rand(3, 1), g.rand(3)), ValueError, "different to the input"),
    bad("bce_logits_sizes", lambda: F.binary_cross_entropy_with_logits(g.rand(3, 1), g.rand(3)), ValueError,
        "must be the same as input size"),
    bad("l1_sizes", lambda: F.l1_loss(g.rand(3, 1), g.rand(3)), ValueError, "Reshape one to match"),
    bad("kl_div_reduction", lambda: F.kl_div(g.rand(3), g.rand(3), reduction="avg"), ValueError,
        "reduction must be one of"),
    bad("CrossEntropyLoss_reduction", lambda: g.nn.CrossEntropyLoss(reduction="avg"), ValueError,
        "reduction must be one of"),
    bad("clip_grad_norm_nonfinite", _clip_nonfinite, RuntimeError, "is non-finite, so it cannot be clipped"),
    bad("clip_grad_value_negative", lambda: g.nn.utils.clip_grad_value_([g.ones(2)], -1.0), ValueError,
        "clip_value must be >= 0"),
    bad("vector_to_parameters_not_tensor", lambda: g.nn.utils.vector_to_parameters([1.0], [g.ones(1)]), TypeError,
        "expected torch.Tensor"),
    bad("vector_to_parameters_length", lambda: g.nn.utils.vector_to_parameters(g.ones(3), [g.ones(2, 2)]),
        ValueError, "vec has 3 elements but the parameters hold 4"),
]


@pytest.mark.parametrize("call, error, words", CASES)
def test_bad_input(call, error, words, tmp_path):
    check(call, error, words, tmp_path)
