"""Bad input to the core gives a Python exception of the right type whose message says
what was wrong (with the offending shapes, dtypes or values) and, where there is one,
what to do instead: shape and dtype mismatches, backward misuse, and bad arguments
(negative sizes, bad dims, out-of-range indices, impossible reshapes)."""
import numpy as np
import pytest

import gdcore

T = gdcore.tensor


def z(*shape, **kw):
    return gdcore.zeros(*shape, **kw)


# (name, call, exception type, substrings the message must contain)
CASES = [
    # ---- shape mismatches: both shapes in the message
    ("add_broadcast", lambda: z(2, 3) + z(4), ValueError, ["(2, 3)", "(4,)", "broadcast"]),
    ("mul_broadcast", lambda: z(3) * z(2, 2), ValueError, ["(3,)", "(2, 2)"]),
    ("maximum_broadcast", lambda: gdcore.maximum(z(2), z(3)), ValueError, ["(2,)", "(3,)"]),
    ("matmul_inner", lambda: z(3, 4) @ z(5, 2), ValueError, ["(3, 4)", "(5, 2)", "4 != 5"]),
    ("matmul_vector", lambda: z(3) @ z(4), ValueError, ["(3,)", "(4,)"]),
    ("matmul_batch", lambda: z(2, 3, 4) @ z(3, 4, 2), ValueError, ["(2, 3, 4)", "(3, 4, 2)", "batch"]),
    ("matmul_0d", lambda: gdcore.matmul(T(1.0), z(2)), ValueError, ["()", "(2,)", "at least 1 dimension"]),
    ("mm_not_2d", lambda: gdcore.mm(z(3), z(3, 2)), ValueError, ["(3,)", "(3, 2)", "matmul"]),
    ("bmm_batch", lambda: gdcore.bmm(z(2, 3, 4), z(3, 4, 2)), ValueError, ["(2, 3, 4)", "(3, 4, 2)"]),
    ("mse_shapes", lambda: gdcore.mse_loss(z(3), z(3, 1)), ValueError, ["(3,)", "(3, 1)", "reshape"]),
    ("cat_sizes", lambda: gdcore.cat([z(2, 3), z(2, 4)]), ValueError, ["(2, 3)", "(2, 4)", "dimension 0"]),
    ("cat_ndim", lambda: gdcore.cat([z(2, 3), z(3)]), ValueError, ["(2, 3)", "(3,)"]),
    ("stack_sizes", lambda: gdcore.stack([z(2), z(3)]), ValueError, ["(2,)", "(3,)"]),
    ("expand", lambda: z(2, 3).expand(4, 3), ValueError, ["(2, 3)", "(4, 3)"]),
    ("inplace_broadcast", lambda: z(3).add_(z(2, 3)), ValueError, ["(2, 3)", "(3,)"]),
    ("setitem_broadcast", lambda: z(3).__setitem__(slice(None), z(4)), ValueError, ["(3,)", "(4,)"]),
    # ---- dtype mismatches
    ("matmul_dtypes", lambda: z(2, 2) @ z(2, 2, dtype=gdcore.float64), ValueError,
     ["float32", "float64", ".to(dtype)"]),
    ("matmul_int", lambda: T([1, 2]) @ T([1, 2]), ValueError, ["int64", ".float()"]),
    ("mse_dtypes", lambda: gdcore.mse_loss(z(3), z(3, dtype=gdcore.float64)), ValueError, ["float32", "float64"]),
    ("mean_int", lambda: T([1, 2]).mean(), ValueError, ["int64", ".float()"]),
    ("exp_int_inplace", lambda: T([1, 2]).add_(0.5), RuntimeError, ["int64", ".float()"]),
    ("int_requires_grad", lambda: z(3, dtype=gdcore.int64, requires_grad=True), RuntimeError,
     ["floating point", "int64"]),
    ("float_index", lambda: z(3)[T([1.0])], IndexError, ["int64", "float32", ".long()"]),
    ("unsupported_dtype", lambda: T([1.0]).to("float16"), TypeError, ["float16", "gdcore.float32"]),
    ("unknown_dtype", lambda: T([1.0]).to("banana"), TypeError, ["banana"]),
    ("grad_dtype", lambda: setattr(z(3, requires_grad=True), "grad", z(3, dtype=gdcore.float64)), TypeError,
     ["float64", "float32"]),
    # ---- bad arguments: negative sizes
    ("zeros_negative", lambda: z(2, -1), ValueError, ["non-negative", "(2, -1)"]),
    ("rand_negative", lambda: gdcore.rand(-2), ValueError, ["non-negative", "-2"]),
    ("full_negative", lambda: gdcore.full((-1,), 2.0), ValueError, ["-1"]),
    ("eye_negative", lambda: gdcore.eye(-1), ValueError, ["non-negative", "-1"]),
    ("linspace_negative", lambda: gdcore.linspace(0, 1, -2), ValueError, ["-2"]),
    ("randperm_negative", lambda: gdcore.randperm(-1), ValueError, ["-1"]),
    ("size_not_int", lambda: z(2.5), TypeError, ["integers", "2.5"]),
    # ---- bad arguments: dims
    ("sum_dim", lambda: z(2).sum(3), IndexError, ["dimension 3", "1-d", "[-1, 0]"]),
    ("sum_dim_repeated", lambda: z(2, 3).sum((0, -2)), ValueError, ["more than once"]),
    ("transpose_dim", lambda: z(2, 3).transpose(0, 2), IndexError, ["dimension 2", "2-d"]),
    ("permute_repeated", lambda: z(2, 3).permute(0, 0), ValueError, ["dimension 0", "more than once"]),
    ("permute_count", lambda: z(2, 3).permute(0), ValueError, ["1 dims", "2-d"]),
    ("unsqueeze_dim", lambda: z(2).unsqueeze(-3), IndexError, ["dimension -3"]),
    ("squeeze_dim", lambda: z(2, 1).squeeze(5), IndexError, ["dimension 5"]),
    ("max_dim", lambda: z(2).max(1), IndexError, ["dimension 1"]),
    ("cat_dim", lambda: gdcore.cat([z(2), z(2)], dim=1), IndexError, ["dimension 1"]),
    ("index_select_dim", lambda: z(3).index_select(1, T([0])), IndexError, ["dimension 1"]),
    ("size_dim", lambda: z(2, 3).size(2), IndexError, ["dimension 2"]),
    ("flatten_order", lambda: z(2, 3).flatten(1, 0), ValueError, ["start_dim 1", "end_dim 0"]),
    # ---- bad arguments: out-of-range indices
    ("index_int", lambda: z(3)[5], IndexError, ["index 5", "size 3"]),
    ("index_negative", lambda: z(3)[-4], IndexError, ["index -4", "size 3"]),
    ("index_second_dim", lambda: z(2, 3)[:, 3], IndexError, ["index 3", "dimension 1", "size 3"]),
    ("index_list", lambda: z(3)[[0, 5]], IndexError, ["index 5"]),
    ("index_select_range", lambda: z(3).index_select(0, T([3])), IndexError, ["index 3", "size 3"]),
    ("too_many_indices", lambda: z(3)[0, 0], IndexError, ["too many indices", "1"]),
    ("index_0d", lambda: T(1.0)[0], IndexError, ["0-d", ".item()"]),
    ("setitem_range", lambda: z(3).__setitem__(T([7]), 1.0), IndexError, ["index 7"]),
    ("slice_step", lambda: z(3)[::-1], ValueError, ["step", "-1"]),
    ("bool_mask_shape", lambda: z(3)[gdcore.tensor([True, False])], IndexError, ["mask", "(2,)", "(3,)"]),
    # ---- bad arguments: reshape and view
    ("reshape_size", lambda: z(3).reshape(2, 2), ValueError, ["(2, 2)", "size 3"]),
    ("reshape_two_inferred", lambda: z(6).reshape(-1, -1), ValueError, ["only one", "-1"]),
    ("reshape_negative", lambda: z(6).reshape(-2, -3), ValueError, ["-2"]),
    ("view_size", lambda: z(6).view(4), ValueError, ["(4,)", "size 6"]),
    ("view_noncontiguous", lambda: z(2, 3).t().view(6), ValueError, ["not contiguous", "reshape"]),
    # ---- other bad values
    ("randint_range", lambda: gdcore.randint(5, 2, (3,)), ValueError, ["low=5", "high=2"]),
    ("clamp_order", lambda: z(3).clamp(1, 0), ValueError, ["min", "max"]),
    ("clamp_none", lambda: z(3).clamp(), ValueError, ["min or max"]),
    ("arange_step", lambda: gdcore.arange(0, 5, 0), ValueError, ["step"]),
    ("arange_sign", lambda: gdcore.arange(0, 5, -1), ValueError, ["step"]),
    ("normal_std", lambda: gdcore.normal(0.0, -1.0, (3,)), ValueError, ["std", "-1"]),
    ("mse_reduction", lambda: gdcore.mse_loss(z(3), z(3), reduction="avg"), ValueError, ["'avg'", "'mean'"]),
    ("item_many", lambda: z(2, 3).item(), ValueError, ["6 elements", "(2, 3)"]),
    ("bool_many", lambda: bool(z(2)), RuntimeError, ["more than one value", "ambiguous"]),
    ("ragged_list", lambda: T([[1, 2], [3]]), ValueError, ["rectangular"]),
    ("strings", lambda: T(["a"]), TypeError, ["non-numbers"]),
    ("add_string", lambda: z(3) + "a", TypeError, ["str"]),
    ("pow_string", lambda: z(3) ** "a", TypeError, ["exponent"]),
    ("grad_shape", lambda: setattr(z(3, requires_grad=True), "grad", z(2)), ValueError, ["(2,)", "(3,)"]),
    ("huge", lambda: z(2**40, 2**40), ValueError, ["int64"]),
    ("too_large_to_allocate", lambda: z(2**33, 2**4), MemoryError, ["512.0 GiB"]),
]


@pytest.mark.parametrize("name,call,exc,parts", CASES, ids=[c[0] for c in CASES])
def test_error(name, call, exc, parts):
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


# ---- backward misuse ----------------------------------------------------------------------

def test_backward_non_scalar_without_gradient():
    y = gdcore.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2, 3\).*gradient="):
        y.backward()


def test_backward_on_tensor_that_needs_no_grad():
    with pytest.raises(RuntimeError, match=r"does not require grad.*requires_grad=True"):
        z(3).sum().backward()


def test_backward_gradient_shape_mismatch():
    y = gdcore.ones(3, requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"gradient has shape \(2,\).*output has shape \(3,\)"):
        y.backward(z(2))


def test_backward_twice():
    x = gdcore.ones(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        y.backward()


def test_autograd_grad_misuse():
    x = gdcore.ones(2, requires_grad=True)
    unused = gdcore.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"input 1 was not used.*allow_unused=True"):
        gdcore.autograd.grad((x * 2).sum(), [x, unused])
    with pytest.raises(RuntimeError, match=r"input 0 does not require grad"):
        gdcore.autograd.grad((x * 2).sum(), [z(2)])
    with pytest.raises(ValueError, match=r"inputs is empty"):
        gdcore.autograd.grad((x * 2).sum(), [])
    with pytest.raises(ValueError, match=r"2 outputs but 1 grad_outputs"):
        gdcore.autograd.grad([x.sum(), x.sum()], [x], grad_outputs=[gdcore.ones(())])


def test_inplace_errors():
    leaf = gdcore.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf.*in-place.*no_grad"):
        leaf.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"leaf.*in-place.*\(setitem\).*no_grad"):
        leaf[0] = 1.0  # (a non-leaf may be assigned into: tests/test_indexing_setitem.py)
    with pytest.raises(RuntimeError, match=r"detach\(\)"):
        leaf.numpy()


def test_errors_leave_no_partial_state():
    # A failing op must not leave a half-recorded graph or a changed tensor behind.
    x = gdcore.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        x.add_(z(2))
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])
    assert x._version == 0
