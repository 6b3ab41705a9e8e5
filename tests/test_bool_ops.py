"""Comparisons, logical and bitwise ops, any/all, isnan/isinf/isfinite, where, masked_fill,
clamp_min/clamp_max, sign, count_nonzero and nonzero: values against numpy, gradients
against finite differences (gradcheck, float64), bad input, and a compiled step with a
comparison and `where` that runs lowered and gives the eager bytes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import gdcore
from gdcore.autograd import gradcheck

CMP = [("eq", np.equal, "__eq__"), ("ne", np.not_equal, "__ne__"), ("lt", np.less, "__lt__"),
       ("le", np.less_equal, "__le__"), ("gt", np.greater, "__gt__"), ("ge", np.greater_equal, "__ge__")]


def leaf(a):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=True)


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together (numpy's rules), up to 3 dims."""
    out = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    def part():
        n = draw(st.integers(0, len(out)))
        return tuple(draw(st.sampled_from([1, s])) for s in out[len(out) - n:])
    return part(), part()


@settings(max_examples=30, deadline=None)
@given(shapes=broadcast_pair(), seed=st.integers(0, 1000))
def test_comparisons_broadcast_against_numpy(shapes, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-2, 3, size=shapes[0]).astype(np.float32)
    b = rng.integers(-2, 3, size=shapes[1]).astype(np.float32)
    x, y = gdcore.tensor(a), gdcore.tensor(b)
    for name, np_op, dunder in CMP:
        for out in (getattr(gdcore, name)(x, y), getattr(x, name)(y), getattr(x, dunder)(y)):
            assert out.dtype == gdcore.bool
            np.testing.assert_array_equal(out.numpy(), np_op(a, b))


def test_comparisons_with_python_scalars_on_either_side():
    x = gdcore.tensor([1.0, 2.0, 3.0])
    assert (x == 2).tolist() == [False, True, False]
    assert (2 < x).tolist() == [False, False, True]       # reflected: x > 2
    assert (2.5 >= x).tolist() == [True, True, False]
    assert gdcore.lt(1, x).tolist() == [False, True, True]
    assert (gdcore.tensor([1, 2]) < 1.5).tolist() == [True, False]   # int vs float: compared as floats
    assert (x != np.float64(2.0)).tolist() == [True, False, True]


def test_the_issues_silent_wrong_answers_are_gone():
    a, b = gdcore.tensor([1.0, 2.0]), gdcore.tensor([1.0, 2.0])
    assert (a == b).all().item() is True
    preds, yb = gdcore.tensor([0, 1, 1, 2]), gdcore.tensor([0, 1, 2, 2])
    assert (preds == yb).float().mean().item() == 0.75
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        if a == b:
            pass
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        bool(gdcore.zeros(0))
    assert bool(gdcore.tensor([1.0]) == 1.0) is True
    # A bool tensor masks; it is not integer indexing with 0/1.
    assert gdcore.tensor([True, False]).dtype == gdcore.bool
    assert gdcore.arange(3)[gdcore.tensor([True, False, True])].tolist() == [0, 2]


def test_hash_stays_identity_and_eq_with_other_objects():
    a, b = gdcore.tensor([1.0]), gdcore.tensor([1.0])
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b" and hash(a) == hash(a) and len({a, b}) == 2
    assert (a == None) is False and (a != "x") is True  # noqa: E711  (falls back to identity, as torch)
    p = gdcore.nn.Parameter(gdcore.zeros(2))
    assert {p: 1}[p] == 1


def test_incompatible_shapes_raise():
    with pytest.raises(ValueError, match="eq"):
        gdcore.zeros(2, 3) == gdcore.zeros(4)
    with pytest.raises(ValueError, match="where"):
        gdcore.where(gdcore.zeros(3, dtype=gdcore.bool), gdcore.zeros(2), 0.0)
    with pytest.raises(ValueError, match="logical_and"):
        gdcore.logical_and(gdcore.zeros(2), gdcore.zeros(3))


def test_logical_ops_against_numpy():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2, size=(3, 4)).astype(bool)
    b = rng.integers(-1, 2, size=(4,)).astype(np.float32)     # any dtype: nonzero is true
    x, y = gdcore.tensor(a), gdcore.tensor(b)
    for name, np_op in [("logical_and", np.logical_and), ("logical_or", np.logical_or), ("logical_xor", np.logical_xor)]:
        out = getattr(gdcore, name)(x, y)
        assert out.dtype == gdcore.bool
        np.testing.assert_array_equal(out.numpy(), np_op(a, b))
        np.testing.assert_array_equal(getattr(x, name)(y).numpy(), np_op(a, b))
    np.testing.assert_array_equal(gdcore.logical_not(y).numpy(), np.logical_not(b))
    np.testing.assert_array_equal((x & x.logical_not()).numpy(), np.zeros_like(a))
    np.testing.assert_array_equal((x | True).numpy(), np.ones_like(a))
    np.testing.assert_array_equal((x ^ x[0]).numpy(), a ^ a[0])
    np.testing.assert_array_equal((~x).numpy(), ~a)
    m = gdcore.tensor(a)
    m &= gdcore.tensor(a[0])
    np.testing.assert_array_equal(m.numpy(), a & a[0])


def test_bitwise_on_integers_as_torch():
    a = np.array([0b1100, -3, 7], dtype=np.int32)
    b = np.array([0b1010, 5, -1], dtype=np.int8)
    x, y = gdcore.tensor(a), gdcore.tensor(b)
    assert (x & y).dtype == gdcore.int32
    np.testing.assert_array_equal((x & y).numpy(), a & b)
    np.testing.assert_array_equal((x | y).numpy(), a | b)
    np.testing.assert_array_equal((x ^ 6).numpy(), a ^ 6)
    np.testing.assert_array_equal((~y).numpy(), ~b)
    np.testing.assert_array_equal((~gdcore.tensor([0, 255], dtype=gdcore.uint8)).numpy(), [255, 0])
    with pytest.raises(RuntimeError, match="bitwise_and: not implemented for float32"):
        gdcore.zeros(2) & gdcore.zeros(2)
    with pytest.raises(RuntimeError, match="bitwise_not: not implemented for float32"):
        ~gdcore.zeros(2)


def test_any_all_with_dims_against_numpy():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 2, size=(2, 3, 4)).astype(np.float32) * rng.integers(0, 3, size=(2, 3, 4))
    x = gdcore.tensor(a)
    assert x.any().item() is bool(a.any()) and x.all().item() is bool(a.all())
    for dim in (0, 1, -1, (0, 2)):
        for keepdim in (False, True):
            for name in ("any", "all"):
                out = getattr(x, name)(dim, keepdim)
                assert out.dtype == gdcore.bool
                np.testing.assert_array_equal(out.numpy(), getattr(np, name)(a, axis=dim, keepdims=keepdim))
                np.testing.assert_array_equal(getattr(gdcore, name)(x, dim=dim, keepdim=keepdim).numpy(), out.numpy())
    assert gdcore.zeros(0).any().item() is False and gdcore.zeros(0).all().item() is True
    assert gdcore.tensor([1, 0], dtype=gdcore.uint8).any().dtype == gdcore.uint8   # torch keeps uint8


def test_isnan_isinf_isfinite():
    a = np.array([1.0, np.nan, np.inf, -np.inf, 0.0])
    x = gdcore.tensor(a, dtype=gdcore.float64)
    for name in ("isnan", "isinf", "isfinite"):
        np.testing.assert_array_equal(getattr(gdcore, name)(x).numpy(), getattr(np, name)(a))
        np.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(np, name)(a))
    i = gdcore.tensor([1, 2], dtype=gdcore.int16)
    assert i.isnan().tolist() == [False, False] and i.isfinite().tolist() == [True, True]


@pytest.mark.parametrize("name", ["float32", "float64", "int64", "int32", "uint8", "int8", "int16", "bool"])
def test_sign_for_every_dtype(name):
    a = np.array([-3, 0, 2]) if name not in ("uint8", "bool") else np.array([0, 1, 2])
    a = a.astype(name)
    out = gdcore.sign(gdcore.tensor(a))
    assert out.dtype == getattr(gdcore, name)
    np.testing.assert_array_equal(out.numpy(), np.sign(a) if name != "bool" else a)


def test_count_nonzero_and_nonzero_against_numpy():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 2, size=(3, 4)) * rng.integers(1, 5, size=(3, 4))
    x = gdcore.tensor(a)
    assert x.count_nonzero().item() == np.count_nonzero(a)
    np.testing.assert_array_equal(gdcore.count_nonzero(x, dim=1).numpy(), np.count_nonzero(a, axis=1))
    np.testing.assert_array_equal(x.count_nonzero((0, 1)).numpy(), np.count_nonzero(a))
    nz = x.nonzero()
    assert nz.dtype == gdcore.int64 and nz.shape == (np.count_nonzero(a), 2)
    np.testing.assert_array_equal(nz.numpy(), np.argwhere(a))
    for got, want in zip(gdcore.nonzero(x, as_tuple=True), np.nonzero(a)):
        np.testing.assert_array_equal(got.numpy(), want)
    for got, want in zip(gdcore.where(x > 2), np.nonzero(a > 2)):
        np.testing.assert_array_equal(got.numpy(), want)
    assert gdcore.tensor(5.0).nonzero().shape == (1, 0)
    assert [t.tolist() for t in gdcore.tensor(5.0).nonzero(as_tuple=True)] == [[0]]


@settings(max_examples=25, deadline=None)
@given(shapes=broadcast_pair(), cshape=st.sampled_from([(), (1,)]), seed=st.integers(0, 1000))
def test_where_values_and_gradcheck_over_broadcast_shapes(shapes, cshape, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    c = rng.normal(size=np.broadcast_shapes(shapes[0], shapes[1], cshape)) > 0
    cond = gdcore.tensor(c)
    x, y = leaf(a), leaf(b)
    out = gdcore.where(cond, x, y)
    np.testing.assert_array_equal(out.detach().numpy(), np.where(c, a, b))
    assert gradcheck(lambda x, y: gdcore.where(cond, x, y), [x, y])
    assert gradcheck(lambda x: gdcore.where(cond, x * x, 0.0), [x]) if c.shape == np.shape(a) else True


def test_where_dtypes_and_scalars_as_torch():
    cond = gdcore.tensor([True, False])
    x = gdcore.tensor([1.0, 2.0], dtype=gdcore.float64)
    assert gdcore.where(cond, x, 0).dtype == gdcore.float64
    assert gdcore.where(cond, 1.0, 0.0).dtype == gdcore.float32
    assert gdcore.where(cond, 1, 0).dtype == gdcore.int64 and gdcore.where(cond, 1, 0).tolist() == [1, 0]
    assert gdcore.where(cond, gdcore.tensor([1, 2], dtype=gdcore.int8), 2.5).dtype == gdcore.float32
    assert x.where(cond, -1.0).tolist() == [1.0, -1.0]
    with pytest.raises(RuntimeError, match="where: expected the condition to be a bool tensor, got float32"):
        gdcore.where(gdcore.ones(2), x, x)


def test_where_second_order():
    cond = gdcore.tensor([True, False, True])
    x = leaf([1.0, 2.0, 3.0])
    (g,) = gdcore.autograd.grad(gdcore.where(cond, x ** 3, x).sum(), x, create_graph=True)
    (h,) = gdcore.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 1.0, 27.0])
    np.testing.assert_allclose(h.numpy(), [6.0, 0.0, 18.0])


def test_masked_fill_values_gradcheck_and_inplace():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(3, 4))
    m = rng.normal(size=(4,)) > 0
    x, mask = leaf(a), gdcore.tensor(m)
    np.testing.assert_array_equal(x.masked_fill(mask, -1.5).detach().numpy(), np.where(m, -1.5, a))
    np.testing.assert_array_equal(gdcore.masked_fill(x, mask, 0).detach().numpy(), np.where(m, 0.0, a))
    assert gradcheck(lambda x: x.masked_fill(mask, 2.0) ** 2, [x])
    v = leaf(0.7).reshape(())
    assert gradcheck(lambda x, v: x.masked_fill(mask, v) * x, [x, v])
    assert gdcore.zeros(2, dtype=gdcore.int32).masked_fill(gdcore.tensor([True, False]), 7).dtype == gdcore.int32
    t = gdcore.tensor(a)
    assert t.masked_fill_(mask, 9.0) is t
    np.testing.assert_array_equal(t.numpy(), np.where(m, 9.0, a))
    # Through autograd: in place on a non-leaf.
    y = x * 1.0
    y.masked_fill_(mask, 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(~m, a.shape).astype(float))


def test_masked_fill_bad_input():
    x = gdcore.zeros(2, 3)
    with pytest.raises(RuntimeError, match="masked_fill: expected the mask to be a bool tensor, got float32"):
        x.masked_fill(gdcore.zeros(2, 3), 1.0)
    with pytest.raises(ValueError, match="masked_fill"):
        x.masked_fill(gdcore.zeros(4, dtype=gdcore.bool), 1.0)
    with pytest.raises(ValueError, match="cannot be broadcast to the shape of the tensor filled in place"):
        x.masked_fill_(gdcore.zeros(4, 2, 3, dtype=gdcore.bool), 1.0)
    with pytest.raises(ValueError, match="must be a number or a 0-d tensor"):
        x.masked_fill(gdcore.ones(3, dtype=gdcore.bool), gdcore.ones(3))


def test_clamp_min_max_values_and_gradcheck():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(3, 4))
    lo = rng.normal(size=(4,))
    x = leaf(a)
    np.testing.assert_array_equal(x.clamp_min(0.1).detach().numpy(), np.maximum(a, 0.1))
    np.testing.assert_array_equal(gdcore.clamp_max(x, -0.2).detach().numpy(), np.minimum(a, -0.2))
    np.testing.assert_array_equal(x.clamp_min(gdcore.tensor(lo, dtype=gdcore.float64)).detach().numpy(), np.maximum(a, lo))
    assert gradcheck(lambda x: x.clamp_min(0.1) * x, [x])
    assert gradcheck(lambda x: gdcore.clamp_max(x, 0.3) ** 2, [x])
    m = leaf(lo)
    assert gradcheck(lambda x, m: gdcore.clamp_min(x, m) * 2, [x, m])
    assert gradcheck(lambda x, m: x.clamp_max(m) ** 2, [x, m])
    i = gdcore.tensor([-3, 0, 5], dtype=gdcore.int16)
    assert i.clamp_min(-1).dtype == gdcore.int16 and i.clamp_min(-1).tolist() == [-1, 0, 5]
    assert i.clamp_max(2).tolist() == [-3, 0, 2]


def test_compiled_step_with_where_and_a_comparison_is_lowered_and_bit_identical():
    gen = gdcore.Generator(7)
    w0 = gdcore.randn(4, 1, generator=gen)
    batches = [(gdcore.randn(8, 4, generator=gen), gdcore.randn(8, 1, generator=gen)) for _ in range(6)]
    results = []
    for compiled in (False, True):
        w = w0.clone().requires_grad_()
        opt = gdcore.optim.SGD([w], lr=0.05)

        def step(x, y):
            opt.zero_grad()
            pred = x @ w
            err = pred - y
            # A Huber-like loss: squared where small, |err| elsewhere; and a masked residual.
            small = err.abs() < 0.5
            loss = gdcore.where(small, err * err, err.abs()).mean()
            loss = loss + err.masked_fill(err > 1.0, 0.0).pow(2).mean() + (pred >= 0).float().mean() * 0
            loss.backward()
            opt.step()
            return loss, (pred > y).float().sum()
        run = gdcore.compile(step) if compiled else step
        results.append([[t.detach().numpy().tobytes() for t in run(x, y)] + [w.detach().numpy().tobytes()]
                        for x, y in batches])
    assert results[0] == results[1]
    (capture,) = run._captures.values()
    assert capture.program.lowering.startswith("lowered"), capture.program.lowering
