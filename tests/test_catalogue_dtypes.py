"""Bad-input catalogue, dtypes and bool ops: comparisons and masks of shapes that do not fit,
bool/integer tensors asked for gradients, bool arithmetic torch refuses, bitwise ops on floats,
values that do not fit a dtype, ambiguous truth values, non-bool conditions and masks, and
DLPack misuse. Each must raise torch's exception type with a message that names the problem
(see catalogue.py)."""
import numpy as np
import pytest

import gdcore
from catalogue import bad, check

g = gdcore

CASES = [
    bad("compare-shapes", lambda: g.zeros(2, 3) < g.zeros(4), ValueError, "cannot be broadcast"),
    bad("eq-shapes", lambda: g.eq(g.zeros(3), g.zeros(2)), ValueError, "eq: shapes (3,) and (2,)"),
    bad("compare-string", lambda: g.lt(g.zeros(2), "a"), TypeError, "lt(): argument 'other' must be a Tensor or a number, got 'a'"),
    bad("bool-requires-grad", lambda: g.tensor([True, False], requires_grad=True), RuntimeError,
        "only floating point tensors can require gradients, got bool"),
    bad("int32-requires-grad", lambda: g.zeros(2, dtype=g.int32).requires_grad_(), RuntimeError, "got int32"),
    bad("uint8-requires-grad", lambda: g.ones(2, dtype=g.uint8, requires_grad=True), RuntimeError, "got uint8"),
    bad("bool-sub", lambda: g.tensor([True]) - g.tensor([False]), RuntimeError, "use the `^` or logical_xor()"),
    bad("bool-neg", lambda: -g.tensor([True]), RuntimeError, "use the `~` or logical_not()"),
    bad("bitwise-float", lambda: g.ones(2) | g.ones(2), RuntimeError, "bitwise_or: not implemented for float32"),
    bad("invert-float", lambda: ~g.ones(2, dtype=g.float64), RuntimeError, "bitwise_not: not implemented for float64"),
    bad("uint8-full-256", lambda: g.full((2,), 256, dtype=g.uint8), RuntimeError,
        "value 256.000000 cannot be converted to type uint8 without overflow"),
    bad("int8-fill-nan", lambda: g.zeros(2, dtype=g.int8).fill_(float("nan")), RuntimeError, "int8 without overflow"),
    bad("bool-ambiguous", lambda: bool(g.tensor([True, True])), RuntimeError,
        "Boolean value of Tensor with more than one value is ambiguous"),
    bad("bool-empty", lambda: bool(g.zeros(0)), RuntimeError, "Boolean value of Tensor with no values is ambiguous"),
    bad("if-compare", lambda: 1 if g.tensor([1.0, 2.0]) == 1.0 else 0, RuntimeError, "use .any() or .all()"),
    bad("where-float-cond", lambda: g.where(g.ones(2), g.ones(2), 0.0), RuntimeError,
        "where: expected the condition to be a bool tensor, got float32"),
    bad("where-shapes", lambda: g.where(g.ones(3) > 0, g.ones(2), 0.0), ValueError, "cannot be broadcast"),
    bad("where-one-value", lambda: g.where(g.ones(2) > 0, g.ones(2)), TypeError, "give both x and y, or neither"),
    bad("masked-fill-int-mask", lambda: g.ones(2).masked_fill(g.tensor([1, 0]), 0.0), RuntimeError,
        "expected the mask to be a bool tensor, got int64"),
    bad("masked-fill-mask-shape", lambda: g.ones(2, 3).masked_fill(g.ones(2) > 0, 0.0), ValueError,
        "masked_fill: shapes (2,) and (2, 3) cannot be broadcast"),
    bad("masked-fill-inplace-grows", lambda: g.ones(3).masked_fill_(g.ones(2, 3) > 0, 0.0), ValueError,
        "cannot be broadcast to the shape of the tensor filled in place, (3,)"),
    bad("masked-fill-value-shape", lambda: g.ones(3).masked_fill(g.ones(3) > 0, g.ones(3)), ValueError,
        "must be a number or a 0-d tensor, got a tensor of shape (3,)"),
    bad("bool-inplace-add", lambda: g.tensor([True]).add_(2), RuntimeError,
        "result type int64 can't be cast to the desired output type bool"),
    bad("int-inplace-and-float", lambda: g.tensor([1, 2]).__iand__(g.ones(2)), RuntimeError, "bitwise_and"),
    bad("bool-mask-shape", lambda: g.arange(3)[g.tensor([True, False])], IndexError, "does not match the shape"),
    bad("uint8-mask-shape", lambda: g.arange(3)[g.tensor([1], dtype=g.uint8)], IndexError, "does not match the shape"),
    bad("mean-int", lambda: g.tensor([1, 2], dtype=g.int16).mean(), ValueError, "got int16; convert with .float()"),
    bad("unknown-dtype", lambda: g.zeros(2, dtype="float16"), TypeError, "dtype float16 is not supported"),
    bad("size-float", lambda: g.Size([2.0]), TypeError, "iterable of 'int'"),
    bad("nonzero-compiled-reshape", lambda: g.compile(lambda x: (x > 0).nonzero().reshape(-1) + 1)(g.ones(3)),
        RuntimeError, "gdcore.compile: the step applies Reshape to a tensor whose size depends on the values"),
    bad("mask-compiled-len", lambda: g.compile(lambda x: x[x > 0] * len(x[x > 0]))(g.ones(3)), RuntimeError,
        "gdcore.compile: the step reads len() of a float32 tensor of shape (3,) while it is being captured"),
]


@pytest.mark.parametrize("call, error, words", CASES)
def test_bad_input_raises_a_clear_error(call, error, words, tmp_path):
    check(call, error, words, tmp_path)


def test_bool_results_of_a_compiled_step_follow_new_inputs():
    """Comparisons, any/all, count_nonzero and casts to integer dtypes are replayed, never frozen."""
    def step(x):
        pos = x > 0
        return (pos.sum(), pos.any(1), (x < -1).all(0), x.count_nonzero(1), pos.long() * 3, x.isnan(),
                x.int() & 1, gdcore.where(pos, x, -x))
    compiled = gdcore.compile(step)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = gdcore.tensor(rng.integers(-3, 4, size=(4, 3)).astype(np.float32))
        for got, want in zip(compiled(x), step(x)):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got.numpy(), want.numpy())
