"""The everyday math ops of issue 11 (mathops.py, linalg.py, einsum.py and their C++ ops):
values against numpy (or a plain loop / closed form), gradients against finite differences in
float64 over hypothesis shapes, and second derivatives (grad of grad against finite differences
of the first gradient) where the op is smooth.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdcore
from gdcore.autograd import gradcheck, grad
from test_second_order import grad_of_grad_check

SETTINGS = settings(max_examples=12, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def leaf(a):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=True)


def check(f, np_f, *arrays, rtol=1e-10, atol=1e-12):
    xs = [leaf(a) for a in arrays]
    out = f(*xs)
    expected = np.asarray(np_f(*[np.asarray(a, dtype=np.float64) for a in arrays]))
    assert tuple(out.shape) == expected.shape
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=rtol, atol=atol)
    assert gradcheck(f, xs)


def np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---- softmax family ---------------------------------------------------------------------

@SETTINGS
@given(shape=shapes, seed=seeds, data=st.data())
def test_softmax_log_softmax_logsumexp(shape, seed, data):
    x = np.random.default_rng(seed).normal(size=shape) * 3
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    check(lambda t: gdcore.softmax(t, dim), lambda a: np_softmax(a, dim), x)
    check(lambda t: t.log_softmax(dim), lambda a: np.log(np_softmax(a, dim)), x)
    check(lambda t: gdcore.nn.functional.softmax(t, dim=dim), lambda a: np_softmax(a, dim), x)
    check(lambda t: gdcore.logsumexp(t, dim, keepdim), lambda a: np_logsumexp(a, dim, keepdim), x)
    check(lambda t: t.logsumexp(dim=None), lambda a: np_logsumexp(a), x)


def test_softmax_family_is_stable_for_huge_logits():
    x = gdcore.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4 + 1, -1e4]], dtype=gdcore.float32)
    s = gdcore.softmax(x, 1).numpy()
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s[0], [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(s[1], np.exp([0, 1, 0]) / np.exp([0, 1, 0]).sum(), rtol=1e-5)
    np.testing.assert_allclose(gdcore.logsumexp(x, 1).numpy(), [1e4, -1e4 + 1 + math.log(1 + 2 * math.exp(-1))],
                               rtol=1e-6)
    ls = gdcore.log_softmax(x, 1).numpy()
    assert ls[0, 1] == pytest.approx(-2e4, rel=1e-6)
    # Rows of -inf: logsumexp is -inf, +inf gives +inf (torch's values).
    inf = gdcore.tensor([[-math.inf, -math.inf], [math.inf, 0.0]])
    assert gdcore.logsumexp(inf, 1).tolist() == [-math.inf, math.inf]


def test_softmax_second_order():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4))
    grad_of_grad_check(lambda t: gdcore.softmax(t, 1) ** 2, x)
    grad_of_grad_check(lambda t: gdcore.log_softmax(t, 0) ** 2, x)
    grad_of_grad_check(lambda t: gdcore.logsumexp(t, 1) ** 2, x)


def test_softmax_implicit_dim_warns_as_torch():
    x = gdcore.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = gdcore.nn.functional.softmax(x)
    np.testing.assert_allclose(out.numpy(), np_softmax(x.numpy(), 1), rtol=1e-6)


# ---- norms, var, std ---------------------------------------------------------------------

@SETTINGS
@given(shape=shapes, seed=seeds, data=st.data())
def test_vector_norms(shape, seed, data):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.2, 2.0, size=shape) * rng.choice([-1, 1], size=shape)
    nd = len(shape)
    dims = data.draw(st.one_of(st.none(), st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True)))
    keepdim = data.draw(st.booleans())
    axis = None if dims is None else tuple(dims)

    def ref(a, p):
        r = np.linalg.norm(a.reshape(-1), p) if axis is None else None
        if axis is None:
            return np.full((1,) * a.ndim, r) if keepdim else np.asarray(r)
        aa = np.abs(a)
        if p == np.inf:
            return aa.max(axis=axis, keepdims=keepdim)
        if p == -np.inf:
            return aa.min(axis=axis, keepdims=keepdim)
        return (aa ** p).sum(axis=axis, keepdims=keepdim) ** (1 / p)

    for p in (1, 2, 3, 0.5, math.inf, -math.inf):
        check(lambda t: gdcore.linalg.vector_norm(t, p, dims, keepdim), lambda a: ref(a, p), x, rtol=1e-9)
    check(lambda t: t.norm(2, dim=dims, keepdim=keepdim), lambda a: ref(a, 2), x, rtol=1e-9)
    if dims is None or len(dims) <= 2:  # torch's 'fro' takes at most two dims
        check(lambda t: gdcore.norm(t, p="fro", dim=dims, keepdim=keepdim), lambda a: ref(a, 2), x, rtol=1e-9)


def test_norm_gradient_at_zero_is_zero_as_torch():
    z = gdcore.zeros(3, dtype=gdcore.float64, requires_grad=True)
    gdcore.linalg.norm(z).backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]
    rows = gdcore.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=gdcore.float64, requires_grad=True)
    rows.norm(dim=1).sum().backward()
    np.testing.assert_allclose(rows.grad.numpy(), [[0, 0], [0.6, 0.8]])
    assert gdcore.linalg.vector_norm(gdcore.tensor([0.0, 2.0, -1.0, 0.0]), 0).item() == 2.0


def test_matrix_norms_against_numpy():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, 4))
    for ord_ in ("fro", 1, -1, math.inf, -math.inf):
        check(lambda t: gdcore.linalg.matrix_norm(t, ord_), lambda m: np.linalg.norm(m, ord_), a)
        check(lambda t: gdcore.linalg.norm(t, ord_), lambda m: np.linalg.norm(m, ord_), a)
    check(lambda t: gdcore.linalg.norm(t), lambda m: np.linalg.norm(m), a)
    b = rng.normal(size=(2, 3, 4))
    check(lambda t: gdcore.linalg.norm(t, 1, dim=(1, 2), keepdim=True),
          lambda m: np.linalg.norm(m, 1, axis=(1, 2), keepdims=True), b)
    # (ord 2, -2 and 'nuc' are in test_linalg_svd.py)


def test_norm_second_order():
    x = np.random.default_rng(4).uniform(0.3, 1.5, size=(2, 3))
    grad_of_grad_check(lambda t: gdcore.linalg.vector_norm(t, 2, dim=1), x)
    grad_of_grad_check(lambda t: gdcore.linalg.vector_norm(t, 3), x)


@SETTINGS
@given(shape=shapes, seed=seeds, data=st.data())
def test_var_std(shape, seed, data):
    x = np.random.default_rng(seed).normal(size=shape)
    nd = len(shape)
    dims = data.draw(st.one_of(st.none(), st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True)))
    keepdim = data.draw(st.booleans())
    axis = None if dims is None else tuple(dims)
    n = x.size if axis is None else int(np.prod([shape[d] for d in axis]))
    for corr in (0, 1):
        if n - corr <= 0:
            continue
        check(lambda t: gdcore.var(t, dims, keepdim=keepdim, correction=corr),
              lambda a: np.var(a, axis=axis, ddof=corr, keepdims=keepdim), x)
        if np.all(np.var(x, axis=axis, ddof=corr) > 1e-6):
            check(lambda t: t.std(dims, unbiased=bool(corr), keepdim=keepdim),
                  lambda a: np.std(a, axis=axis, ddof=corr, keepdims=keepdim), x)


def test_var_forms_and_second_order():
    x = gdcore.tensor([[1.0, 2.0, 4.0], [0.0, -1.0, 3.0]], dtype=gdcore.float64)
    a = x.numpy()
    assert gdcore.var(x).item() == pytest.approx(np.var(a, ddof=1))
    assert gdcore.var(x, False).item() == pytest.approx(np.var(a))  # var(input, unbiased)
    assert x.var(1, correction=2).tolist() == pytest.approx(np.var(a, axis=1, ddof=2).tolist())
    v, m = gdcore.var_mean(x, 1)
    assert v.tolist() == pytest.approx(np.var(a, 1, ddof=1).tolist()) and m.tolist() == pytest.approx(a.mean(1).tolist())
    assert math.isinf(gdcore.var(gdcore.tensor([1.0]), correction=1).item()) or math.isnan(
        gdcore.var(gdcore.tensor([1.0]), correction=1).item())
    with pytest.raises(ValueError, match="either unbiased= or correction="):
        gdcore.var(x, 0, unbiased=True, correction=1)
    grad_of_grad_check(lambda t: gdcore.var(t, 1), np.random.default_rng(5).normal(size=(2, 3)))
    grad_of_grad_check(lambda t: gdcore.std(t, 0), np.random.default_rng(6).normal(size=(3, 2)))


# ---- prod, cumsum ------------------------------------------------------------------------

@SETTINGS
@given(shape=shapes, seed=seeds, data=st.data())
def test_prod_cumsum(shape, seed, data):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1, 1], size=shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    check(lambda t: gdcore.prod(t, dim, keepdim), lambda a: np.prod(a, axis=dim, keepdims=keepdim), x)
    check(lambda t: t.prod(), lambda a: np.prod(a), x)
    check(lambda t: gdcore.cumsum(t, dim), lambda a: np.cumsum(a, axis=dim), x)
    check(lambda t: t.cumsum(dim=dim) ** 2, lambda a: np.cumsum(a, axis=dim) ** 2, x)


def prod_others(a, axis):
    """d prod / d a by a plain loop: the product of the other elements along `axis`."""
    out = np.empty_like(a)
    moved, res = np.moveaxis(a, axis, -1), np.moveaxis(out, axis, -1)
    for idx in np.ndindex(*moved.shape[:-1]):
        row = moved[idx]
        for k in range(row.size):
            res[idx + (k,)] = np.prod(np.delete(row, k))
    return out


@pytest.mark.parametrize("values", [[[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]], [[1.5, -2.0, 0.0], [4.0, 0.5, 2.0]]])
def test_prod_gradient_with_zeros_exact(values):
    a = np.asarray(values)
    x = leaf(a)
    gdcore.prod(x, 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), prod_others(a, 1))
    y = leaf(a)
    y.prod().backward()
    np.testing.assert_allclose(y.grad.numpy(), prod_others(a.reshape(1, -1), 1).reshape(a.shape))
    # Second order at zeros too (the create_graph path writes the exclusive products with prod).
    grad_of_grad_check(lambda t: gdcore.prod(t, 1), a)


def test_cumsum_prod_second_order_and_ints():
    x = np.random.default_rng(8).uniform(0.5, 1.5, size=(2, 3))
    grad_of_grad_check(lambda t: gdcore.cumsum(t, 1) ** 2, x)
    grad_of_grad_check(lambda t: gdcore.prod(t, 0), x)
    i = gdcore.tensor([[1, 2, 3], [4, 5, 6]])
    assert gdcore.cumsum(i, 1).tolist() == [[1, 3, 6], [4, 9, 15]] and gdcore.cumsum(i, 1).dtype == gdcore.int64
    assert gdcore.prod(i).item() == 720 and gdcore.prod(i, 0).tolist() == [4, 10, 18]


# ---- dot, mv, outer, einsum, meshgrid ------------------------------------------------------

@SETTINGS
@given(n=st.integers(1, 5), m=st.integers(1, 5), seed=seeds)
def test_dot_mv_outer(n, m, seed):
    rng = np.random.default_rng(seed)
    a, b, A = rng.normal(size=n), rng.normal(size=n), rng.normal(size=(m, n))
    c = rng.normal(size=m)
    check(gdcore.dot, np.dot, a, b)
    check(lambda s, t: s.dot(t), np.dot, a, b)
    check(gdcore.mv, np.dot, A, a)
    check(gdcore.outer, np.outer, a, c)
    check(lambda s, t: s.outer(t), np.outer, a, c)


def test_dot_mv_outer_bad_input():
    with pytest.raises(ValueError, match="inconsistent tensor size"):
        gdcore.dot(gdcore.ones(3), gdcore.ones(4))
    with pytest.raises(ValueError, match="1-d"):
        gdcore.dot(gdcore.ones(3, 1), gdcore.ones(3))
    with pytest.raises(ValueError, match="same dtype"):
        gdcore.dot(gdcore.ones(3), gdcore.ones(3, dtype=gdcore.float64))
    with pytest.raises(ValueError, match="size mismatch"):
        gdcore.mv(gdcore.ones(2, 3), gdcore.ones(2))
    with pytest.raises(ValueError, match="1-d"):
        gdcore.outer(gdcore.ones(2, 2), gdcore.ones(2))


EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ij,kj->ik", [(2, 3), (4, 3)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ba,ca->bc", [(2, 3), (4, 3)]),
    ("i,i,j->j", [(3,), (3,), (2,)]),
    # diagonals and traces (a letter repeated within one operand)
    ("ii->i", [(3, 3)]),
    ("ii->", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->ji", [(2, 2, 3)]),
    ("iji->j", [(2, 3, 2)]),
    ("bii,bjj->bij", [(2, 3, 3), (1, 2, 2)]),
    ("ij,jj->i", [(2, 3), (3, 3)]),
    # ellipsis, broadcast right-aligned
    ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
    ("...ij,...jk", [(5, 2, 3), (1, 3, 4)]),
    ("b...,b...->...", [(2, 3, 1), (2, 4)]),
    ("i...->...", [(2, 3)]),
    ("ii...->i...", [(2, 2, 3)]),
    ("...", [(2, 3)]),
    ("...,...", [(2, 1), (3,)]),
    ("...ii->...i", [(2, 3, 3)]),
    # size-1 letters broadcast against larger sizes
    ("ij,kj->ikj", [(2, 1), (3, 4)]),
    ("i,i", [(1,), (3,)]),
    ("bij,bjk->bik", [(1, 2, 3), (4, 3, 2)]),
]


@pytest.mark.parametrize("eq,shapes_", EINSUM)
def test_einsum_against_numpy(eq, shapes_):
    rng = np.random.default_rng(9)
    arrays = [rng.normal(size=s) for s in shapes_]
    check(lambda *ts: gdcore.einsum(eq, *ts), lambda *xs: np.einsum(eq, *xs), *arrays)
    check(lambda *ts: gdcore.einsum(eq, list(ts)), lambda *xs: np.einsum(eq, *xs), *arrays)


def test_einsum_second_order_and_errors():
    rng = np.random.default_rng(10)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    grad_of_grad_check(lambda s, t: gdcore.einsum("ij,jk->ik", s, t) ** 2, a, b)
    t = gdcore.ones(3, 3)
    with pytest.raises(ValueError, match="repeated for operand 0 but the sizes don't match, 2 != 3"):
        gdcore.einsum("ii->i", gdcore.ones(3, 2))
    with pytest.raises(ValueError, match="not part of any ellipsis"):
        gdcore.einsum(".ij->ji", t)
    with pytest.raises(ValueError, match="size 2 for operand 1 which does not broadcast with the size 3"):
        gdcore.einsum("ij,jk->ik", t, gdcore.ones(2, 2))
    with pytest.raises(ValueError, match="2 operand"):
        gdcore.einsum("ij,jk->ik", t)


def test_einsum_ellipsis_left_out_of_the_output_is_summed():
    # torch sums the '...' dims when an explicit output omits them (numpy refuses this spelling).
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=(4, 2, 3)), rng.normal(size=(3,))
    check(lambda s: gdcore.einsum("...i->i", s), lambda x: x.sum(axis=(0, 1)), a)
    check(lambda s, t: gdcore.einsum("...i,...i->", s, t), lambda x, y: np.einsum("abi,i->", x, y), a, b)


@SETTINGS
@given(seed=seeds, n=st.integers(1, 4), m=st.integers(1, 3), batch=st.lists(st.integers(1, 3), max_size=2))
def test_einsum_trace_diagonal_broadcast_gradcheck(seed, n, m, batch):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=tuple(batch) + (n, n))
    b = rng.normal(size=(1,) * len(batch) + (n, m))  # size-1 batch dims broadcast against a's
    check(lambda s: gdcore.einsum("...ii->...", s), lambda x: np.einsum("...ii->...", x), a)
    check(lambda s, t: gdcore.einsum("...ii,...ij->...ij", s, t), lambda x, y: np.einsum("...ii,...ij->...ij", x, y),
          a, b)


def test_einsum_diagonal_second_order():
    a = np.random.default_rng(12).normal(size=(3, 3))
    grad_of_grad_check(lambda s: gdcore.einsum("ii,ij->j", s, s) ** 2, a)


def test_meshgrid_ij_xy():
    x, y, z = gdcore.tensor([1.0, 2.0, 3.0]), gdcore.tensor([4.0, 5.0]), gdcore.tensor([6.0])
    for indexing in ("ij", "xy"):
        got = gdcore.meshgrid(x, y, z, indexing=indexing)
        want = np.meshgrid(x.numpy(), y.numpy(), z.numpy(), indexing=indexing)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w)
    gx, gy = gdcore.meshgrid([x, y], indexing="xy")
    assert tuple(gx.shape) == (2, 3)
    with pytest.warns(UserWarning, match="indexing argument"):
        gdcore.meshgrid(x, y)
    with pytest.raises(ValueError, match="'ij' or 'xy'"):
        gdcore.meshgrid(x, y, indexing="yx")
    a = leaf([1.0, 2.0])
    gi, gj = gdcore.meshgrid(a, gdcore.tensor([1.0, 2.0, 3.0], dtype=gdcore.float64), indexing="ij")
    (gi * gj).sum().backward()
    assert a.grad.tolist() == [6.0, 6.0]


# ---- elementwise: square, rounding, erf, erfinv, log1p, ... --------------------------------

SMOOTH = {
    "square": (gdcore.square, np.square, (-2, 2)),
    "erf": (gdcore.erf, None, (-2, 2)),
    "erfinv": (gdcore.erfinv, None, (-0.9, 0.9)),
    "log1p": (gdcore.log1p, np.log1p, (-0.5, 2)),
    "expm1": (gdcore.expm1, np.expm1, (-2, 2)),
    "log2": (gdcore.log2, np.log2, (0.3, 3)),
    "log10": (gdcore.log10, np.log10, (0.3, 3)),
    "rsqrt": (gdcore.rsqrt, lambda a: 1 / np.sqrt(a), (0.3, 3)),
    "reciprocal": (gdcore.reciprocal, np.reciprocal, (0.3, 3)),
}
_erf = np.vectorize(math.erf)


def _erfinv_bisect(y):
    """erfinv by bisection on math.erf (an independent computation)."""
    out = np.empty_like(y)
    for i, v in np.ndenumerate(y):
        lo, hi = -6.0, 6.0
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if math.erf(mid) < v else (lo, mid)
        out[i] = (lo + hi) / 2
    return out


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_smooth_elementwise(name):
    f, ref, (lo, hi) = SMOOTH[name]
    ref = {"erf": _erf, "erfinv": _erfinv_bisect}.get(name, ref)
    x = np.random.default_rng(11).uniform(lo, hi, size=(3, 4))
    check(f, ref, x, rtol=1e-9, atol=1e-12)
    check(lambda t: getattr(t, name)(), ref, x, rtol=1e-9, atol=1e-12)
    grad_of_grad_check(f, x[:2, :3])


def test_erfinv_edges():
    out = gdcore.erfinv(gdcore.tensor([-1.0, 1.0, 0.0, 1.5], dtype=gdcore.float64)).tolist()
    assert out[0] == -math.inf and out[1] == math.inf and out[2] == 0.0 and math.isnan(out[3])


def test_rounding_values_and_zero_gradient():
    v = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.2, -1.7, 3.0])
    x = leaf(v)
    for name, ref in (("floor", np.floor), ("ceil", np.ceil), ("round", np.round), ("trunc", np.trunc)):
        out = getattr(gdcore, name)(x)
        np.testing.assert_array_equal(out.detach().numpy(), ref(v))
        (g,) = grad(out.sum(), [x])
        assert g.tolist() == [0.0] * len(v)
    np.testing.assert_allclose(gdcore.round(gdcore.tensor([1.2345, -2.5551]), decimals=2).numpy(),
                               [1.23, -2.56], rtol=1e-6)
    i = gdcore.tensor([1, -2])
    assert gdcore.floor(i).tolist() == [1, -2] and gdcore.floor(i).dtype == gdcore.int64
    assert gdcore.square(i).tolist() == [1, 4] and gdcore.square(i).dtype == gdcore.int64


def test_maximum_minimum_exist_and_differentiate():
    a, b = np.array([1.0, 5.0, -2.0]), np.array([3.0, 2.0, -1.0])
    check(gdcore.maximum, np.maximum, a, b)
    check(gdcore.minimum, np.minimum, a, b)


# ---- gdcore.compile: steps with these ops replay lowered and bit-identical ---------------------

LOWERED_STEPS = {
    "softmax_logsumexp": lambda w, x: (gdcore.softmax(x @ w, 1) * gdcore.logsumexp(x @ w, 1, True)).sum(),
    "log_softmax": lambda w, x: gdcore.log_softmax(x @ w, 0).mean(),
    "norm_var_std": lambda w, x: gdcore.linalg.vector_norm(x @ w, 2, 1).sum() + gdcore.var(w) + w.std(0).sum(),
    "cumsum_special": lambda w, x: (gdcore.cumsum(x @ w, 1) ** 2).mean() + gdcore.log1p(w * w).sum()
    + gdcore.erf(w).sum() + gdcore.expm1(w).sum() + gdcore.reciprocal(2 + w * w).sum(),
    "einsum_dot": lambda w, x: gdcore.einsum("ij,jk->ik", x, w).sum() + gdcore.dot(w.reshape(-1), w.reshape(-1)) + gdcore.outer(w.sum(1), w.sum(0)).sum(),
}


@pytest.mark.parametrize("name", sorted(LOWERED_STEPS))
def test_compiled_steps_with_math_ops_are_lowered(name):
    body = LOWERED_STEPS[name]
    gen = gdcore.Generator(4)
    xs = [gdcore.randn(5, 3, generator=gen) for _ in range(5)]
    runs = []
    for compiled in (False, True):
        w = gdcore.tensor(np.linspace(-1, 1, 6).reshape(3, 2), dtype=gdcore.float32, requires_grad=True)
        opt = gdcore.optim.SGD([w], lr=0.05)

        def step(x):
            opt.zero_grad()
            loss = body(w, x)
            loss.backward()
            opt.step()
            return loss

        run = gdcore.compile(step) if compiled else step
        losses = [run(x).detach().numpy().tobytes() for x in xs]
        runs.append((losses, w.detach().numpy().tobytes()))
    assert runs[0] == runs[1]
    (capture,) = run._captures.values()
    assert capture.program.lowering == "lowered", capture.program.lowering


def test_special_namespace_spellings():
    x = gdcore.tensor([0.1, -0.4, 0.7], dtype=gdcore.float64)
    assert gdcore.special.erf(x).tolist() == gdcore.erf(x).tolist()
    assert gdcore.special.logsumexp(x, 0).item() == pytest.approx(np_logsumexp(x.numpy()))
    np.testing.assert_allclose(gdcore.special.expit(x).numpy(), 1 / (1 + np.exp(-x.numpy())))
