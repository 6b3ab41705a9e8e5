"""linalg.solve, inv, det, slogdet, cholesky, eigh (gdcore/linalg_solvers.py over LAPACK in
cpp/src/ops/linalg_solvers.cpp): values against numpy.linalg, gradients against finite
differences in float64 (symmetric inputs built as X @ X.T + n I where the op reads one
triangle), batches, broadcasting, and bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore
from gdcore.autograd import gradcheck

SETTINGS = settings(max_examples=8, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def leaf(a):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=True)


def well_conditioned(rng, shape):
    n = shape[-1]
    return rng.normal(size=shape) + n * np.eye(n)


def spd(X):
    n = X.shape[-1]
    return X @ X.mT + n * gdcore.eye(n, dtype=X.dtype)


@SETTINGS
@given(seeds, st.integers(1, 4), st.sampled_from([(), (2,), (3, 1)]))
def test_solve_inv_det_slogdet_values_and_gradients(seed, n, batch):
    rng = np.random.default_rng(seed)
    A = well_conditioned(rng, batch + (n, n))
    B = rng.normal(size=batch + (n, 2))
    tA, tB = leaf(A), leaf(B)
    np.testing.assert_allclose(gdcore.linalg.solve(tA, tB).detach().numpy(), np.linalg.solve(A, B), rtol=1e-10)
    np.testing.assert_allclose(gdcore.linalg.inv(tA).detach().numpy(), np.linalg.inv(A), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gdcore.linalg.det(tA).detach().numpy(), np.linalg.det(A), rtol=1e-10)
    sign, logabs = gdcore.linalg.slogdet(tA)
    np_sign, np_logabs = np.linalg.slogdet(A)
    np.testing.assert_array_equal(sign.numpy(), np_sign)
    np.testing.assert_allclose(logabs.detach().numpy(), np_logabs, rtol=1e-10, atol=1e-12)
    assert gradcheck(gdcore.linalg.solve, [tA, tB])
    assert gradcheck(gdcore.linalg.inv, [tA])
    assert gradcheck(gdcore.linalg.det, [tA])
    assert gradcheck(lambda a: gdcore.linalg.slogdet(a).logabsdet, [tA])


def test_solve_vector_broadcast_and_left():
    rng = np.random.default_rng(0)
    A = well_conditioned(rng, (3, 3))
    b = rng.normal(size=3)
    x = gdcore.linalg.solve(gdcore.tensor(A), gdcore.tensor(b))
    assert tuple(x.shape) == (3,)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(A, b), rtol=1e-5)
    Bs = rng.normal(size=(4, 3, 2))
    np.testing.assert_allclose(gdcore.linalg.solve(gdcore.tensor(A, dtype=gdcore.float64),
                                                   gdcore.tensor(Bs, dtype=gdcore.float64)).numpy(),
                               np.linalg.solve(A, Bs), rtol=1e-10)
    C = rng.normal(size=(2, 3))
    np.testing.assert_allclose(gdcore.linalg.solve(gdcore.tensor(A, dtype=gdcore.float64),
                                                   gdcore.tensor(C, dtype=gdcore.float64), left=False).numpy(),
                               C @ np.linalg.inv(A), rtol=1e-10)
    tA, tb = leaf(A), leaf(rng.normal(size=(2, 3)))  # a batch of vectors against one matrix
    assert gradcheck(lambda a, v: gdcore.linalg.solve(a, v.unsqueeze(-1)).squeeze(-1), [tA, tb])


def test_second_order_of_det_and_solve():
    """The backwards are differentiable: d/dA of sum(W * grad det(A)) against central differences."""
    rng = np.random.default_rng(1)
    A0, W = well_conditioned(rng, (3, 3)), rng.normal(size=(3, 3))
    b = gdcore.tensor(rng.normal(size=(3, 1)), dtype=gdcore.float64)

    def first(a_values, create_graph=False):
        a = leaf(a_values)
        out = gdcore.linalg.det(a) + gdcore.linalg.solve(a, b).sum() + gdcore.linalg.slogdet(a).logabsdet
        return a, gdcore.autograd.grad(out, a, create_graph=create_graph)[0]
    a, g1 = first(A0, create_graph=True)
    (g2,) = gdcore.autograd.grad((g1 * gdcore.tensor(W, dtype=gdcore.float64)).sum(), a)
    numeric = np.zeros((3, 3))
    h = 1e-6
    for i in range(3):
        for j in range(3):
            E = np.zeros((3, 3))
            E[i, j] = h
            numeric[i, j] = ((first(A0 + E)[1].numpy() - first(A0 - E)[1].numpy()) * W).sum() / (2 * h)
    np.testing.assert_allclose(g2.numpy(), numeric, rtol=1e-5, atol=1e-7)


def test_top_level_names_and_methods():
    A = gdcore.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=gdcore.float64)
    np.testing.assert_allclose(gdcore.inverse(A).numpy(), np.linalg.inv(A.numpy()))
    np.testing.assert_allclose(A.inverse().numpy(), np.linalg.inv(A.numpy()))
    assert gdcore.det(A).item() == pytest.approx(5.0) and A.det().item() == pytest.approx(5.0)
    assert gdcore.logdet(A).item() == pytest.approx(np.log(5.0))
    assert np.isnan(gdcore.logdet(-A[:1, :1]).item())
    s = A.slogdet()
    assert s.sign.item() == 1.0 and s.logabsdet.item() == pytest.approx(np.log(5.0))
    singular = gdcore.tensor([[1.0, 2.0], [2.0, 4.0]])
    assert gdcore.linalg.det(singular).item() == 0.0
    assert gdcore.linalg.slogdet(singular).sign.item() == 0.0
    assert gdcore.linalg.slogdet(singular).logabsdet.item() == -np.inf


@SETTINGS
@given(seeds, st.integers(1, 4), st.sampled_from([(), (2,)]))
def test_cholesky(seed, n, batch):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=batch + (n, n))
    A = X @ np.swapaxes(X, -1, -2) + n * np.eye(n)
    L = gdcore.linalg.cholesky(gdcore.tensor(A, dtype=gdcore.float64))
    np.testing.assert_allclose(L.numpy(), np.linalg.cholesky(A), rtol=1e-10, atol=1e-12)
    U = gdcore.linalg.cholesky(gdcore.tensor(A, dtype=gdcore.float64), upper=True)
    np.testing.assert_allclose(U.numpy(), np.swapaxes(np.linalg.cholesky(A), -1, -2), rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x: gdcore.linalg.cholesky(spd(x)), [leaf(X)])


@SETTINGS
@given(seeds, st.integers(1, 4), st.sampled_from([(), (2,)]))
def test_eigh(seed, n, batch):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=batch + (n, n))
    A = X + np.swapaxes(X, -1, -2)
    w, V = gdcore.linalg.eigh(gdcore.tensor(A, dtype=gdcore.float64))
    np_w = np.linalg.eigvalsh(A)
    np.testing.assert_allclose(w.numpy(), np_w, rtol=1e-9, atol=1e-10)
    # A V = V diag(w), V orthogonal
    Vn = V.numpy()
    np.testing.assert_allclose(A @ Vn, Vn * w.numpy()[..., None, :], atol=1e-9)
    np.testing.assert_allclose(np.swapaxes(Vn, -1, -2) @ Vn, np.broadcast_to(np.eye(n), Vn.shape), atol=1e-9)
    gaps = np.diff(np_w, axis=-1)
    if n > 1 and gaps.min() < 1e-2:
        return  # (nearly repeated eigenvalues: the eigenvectors' derivative is ill-conditioned)
    sym = lambda x: x + x.mT  # noqa: E731
    assert gradcheck(lambda x: gdcore.linalg.eigvalsh(sym(x)), [leaf(X)])
    assert gradcheck(lambda x: gdcore.linalg.eigh(sym(x)).eigenvectors ** 2, [leaf(X)])  # (sign-free)
    w_upper = gdcore.linalg.eigh(gdcore.tensor(np.triu(A), dtype=gdcore.float64), UPLO="U").eigenvalues
    np.testing.assert_allclose(w_upper.numpy(), np_w, rtol=1e-9, atol=1e-10)


def test_float32_and_empty():
    A = gdcore.tensor([[4.0, 1.0], [1.0, 3.0]])
    assert gdcore.linalg.inv(A).dtype == gdcore.float32
    assert gdcore.linalg.cholesky(A).dtype == gdcore.float32
    assert gdcore.linalg.det(gdcore.zeros(3, 0, 0)).tolist() == [1.0, 1.0, 1.0]
