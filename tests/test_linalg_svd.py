"""linalg.svd / svdvals and the spectral matrix norms (ord 2, -2, 'nuc'): values against
numpy.linalg, the factors' identities (A = U diag(S) Vh, orthonormal columns), gradients against
finite differences in float64 (svdvals, the norms, and losses through U and Vh that do not depend
on the factors' signs), second derivatives, batching, float32, empty matrices, and compile."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdcore
from gdcore.autograd import gradcheck
from test_second_order import grad_of_grad_check

SETTINGS = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2**32 - 1)
mat_shapes = st.tuples(st.lists(st.integers(1, 3), max_size=2), st.integers(1, 5), st.integers(1, 5)).map(
    lambda t: tuple(t[0]) + (t[1], t[2]))


def leaf(a):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=True)


@SETTINGS
@given(shape=mat_shapes, seed=seeds, full=st.booleans())
def test_svd_factors_against_numpy(shape, seed, full):
    a = np.random.default_rng(seed).normal(size=shape)
    U, S, Vh = gdcore.linalg.svd(gdcore.tensor(a), full_matrices=full)
    nu, ns, nvh = np.linalg.svd(a, full_matrices=full)
    assert (tuple(U.shape), tuple(S.shape), tuple(Vh.shape)) == (nu.shape, ns.shape, nvh.shape)
    np.testing.assert_allclose(S.numpy(), ns, rtol=1e-12, atol=1e-12)
    k = min(shape[-2:])
    u, vh = U.numpy(), Vh.numpy()
    np.testing.assert_allclose((u[..., :, :k] * ns[..., None, :]) @ vh[..., :k, :], a, atol=1e-12)
    eye_u, eye_v = np.eye(u.shape[-1]), np.eye(vh.shape[-2])
    np.testing.assert_allclose(np.swapaxes(u, -1, -2) @ u, np.broadcast_to(eye_u, u.shape[:-2] + eye_u.shape), atol=1e-12)
    np.testing.assert_allclose(vh @ np.swapaxes(vh, -1, -2), np.broadcast_to(eye_v, vh.shape[:-2] + eye_v.shape),
                               atol=1e-12)
    # The vectors of distinct singular values agree with numpy's up to sign.
    for idx in np.ndindex(*shape[:-2]):
        for j in range(k):
            sign = np.sign(np.dot(u[idx][:, j], nu[idx][:, j]))
            np.testing.assert_allclose(u[idx][:, j] * sign, nu[idx][:, j], atol=1e-9)
            np.testing.assert_allclose(vh[idx][j] * sign, nvh[idx][j], atol=1e-9)


def test_svd_named_tuple_float32_and_defaults():
    a = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    r = gdcore.linalg.svd(gdcore.tensor(a))
    assert r.U.shape == (4, 4) and r.S.shape == (3,) and r.Vh.shape == (3, 3)  # full_matrices=True, torch's default
    assert r.U.dtype == r.S.dtype == r.Vh.dtype == gdcore.float32
    np.testing.assert_allclose(r.S.numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-5)
    U, S, Vh = r
    assert U is r[0] and S is r.S
    np.testing.assert_allclose(gdcore.linalg.svdvals(gdcore.tensor(a)).numpy(), r.S.numpy(), rtol=1e-6)


def test_svd_strided_input():
    a = np.random.default_rng(1).normal(size=(5, 6))
    t = gdcore.tensor(a).t()[1:, ::2]  # a transposed, sliced view
    np.testing.assert_allclose(gdcore.linalg.svdvals(t).numpy(), np.linalg.svd(a.T[1:, ::2], compute_uv=False),
                               rtol=1e-12)


@SETTINGS
@given(shape=mat_shapes, seed=seeds)
def test_svdvals_gradcheck(shape, seed):
    a = np.random.default_rng(seed).normal(size=shape)
    x = leaf(a)
    assert gradcheck(gdcore.linalg.svdvals, [x])
    # The gradient is U diag(g) Vh (a closed form from numpy's factors).
    gdcore.linalg.svdvals(x).sum().backward()
    nu, _, nvh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(x.grad.numpy(), nu @ nvh, atol=1e-10)


@SETTINGS
@given(shape=mat_shapes, seed=seeds, full=st.booleans())
def test_svd_gradcheck_through_u_and_vh(shape, seed, full):
    # Losses invariant under the sign of each singular pair (u_j, v_j) -> (-u_j, -v_j): those are
    # the functions of U and Vh that have a gradient (as in torch's own tests).
    a = np.random.default_rng(seed).normal(size=shape)
    k = min(shape[-2:])

    def low_rank(t):
        U, S, Vh = gdcore.linalg.svd(t, full_matrices=full)
        return U[..., :, :k] @ Vh[..., :k, :]

    def projections(t):
        U, S, Vh = gdcore.linalg.svd(t, full_matrices=full)
        u, v = U[..., :, :k], Vh[..., :k, :]
        return (u @ u.mT).sum() + (v.mT @ v * 0.5).sum() + (u * u * 3).sum(-1)

    assert gradcheck(low_rank, [leaf(a)])
    assert gradcheck(projections, [leaf(a)])


def test_svd_gradient_of_reconstruction_is_identity():
    a = np.random.default_rng(5).normal(size=(2, 4, 3))
    x = leaf(a)
    U, S, Vh = gdcore.linalg.svd(x, full_matrices=False)
    w = np.random.default_rng(6).normal(size=a.shape)
    ((U * S.unsqueeze(-2)) @ Vh * gdcore.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), w, atol=1e-10)


def test_svd_second_order():
    a = np.random.default_rng(7).normal(size=(3, 4))
    grad_of_grad_check(lambda t: gdcore.linalg.svdvals(t), a)
    grad_of_grad_check(lambda t: gdcore.linalg.matrix_norm(t, "nuc"), a)
    b = np.random.default_rng(8).normal(size=(4, 2))
    grad_of_grad_check(lambda t: (lambda r: r.U @ r.Vh)(gdcore.linalg.svd(t, full_matrices=False)), b)


@pytest.mark.parametrize("ord_", [2, -2, "nuc"])
def test_spectral_norms_against_numpy(ord_):
    rng = np.random.default_rng(9)
    a = rng.normal(size=(3, 5))
    x = leaf(a)
    for f in (gdcore.linalg.matrix_norm, gdcore.linalg.norm):
        out = f(x, ord_)
        np.testing.assert_allclose(out.item(), np.linalg.norm(a, ord_), rtol=1e-12)
    assert gradcheck(lambda t: gdcore.linalg.matrix_norm(t, ord_), [x])
    b = rng.normal(size=(2, 4, 3, 5))
    out = gdcore.linalg.matrix_norm(leaf(b), ord_, dim=(1, 3), keepdim=True)
    np.testing.assert_allclose(out.detach().numpy(), np.linalg.norm(b, ord_, axis=(1, 3), keepdims=True), rtol=1e-12)
    out = gdcore.linalg.norm(leaf(b), ord_, dim=(3, 0))
    np.testing.assert_allclose(out.detach().numpy(), np.linalg.norm(b, ord_, axis=(3, 0)), rtol=1e-12)
    assert gradcheck(lambda t: gdcore.linalg.matrix_norm(t, ord_, dim=(0, 2)), [leaf(b)])


def test_norm_nuc():
    a = np.random.default_rng(10).normal(size=(4, 3))
    np.testing.assert_allclose(gdcore.norm(gdcore.tensor(a), p="nuc").item(), np.linalg.norm(a, "nuc"), rtol=1e-12)
    b = np.random.default_rng(11).normal(size=(2, 4, 3))
    np.testing.assert_allclose(gdcore.norm(gdcore.tensor(b), p="nuc", dim=(1, 2)).numpy(),
                               np.linalg.norm(b, "nuc", axis=(1, 2)), rtol=1e-12)
    with pytest.raises(ValueError, match="2-d input or a pair of dims"):
        gdcore.norm(gdcore.tensor(b), p="nuc")


def test_empty_matrices_as_torch():
    U, S, Vh = gdcore.linalg.svd(gdcore.zeros(3, 0))
    assert S.shape == (0,) and Vh.shape == (0, 0)
    np.testing.assert_array_equal(U.numpy(), np.eye(3))
    U, S, Vh = gdcore.linalg.svd(gdcore.zeros(2, 0, 4), full_matrices=False)
    assert (U.shape, S.shape, Vh.shape) == ((2, 0, 0), (2, 0), (2, 0, 4))
    assert gdcore.linalg.matrix_norm(gdcore.zeros(3, 0), 2).item() == 0.0
    assert gdcore.linalg.matrix_norm(gdcore.zeros(3, 0), "nuc").item() == 0.0
    with pytest.raises(IndexError, match="empty matrix"):
        gdcore.linalg.matrix_norm(gdcore.zeros(3, 0), -2)


def test_grad_fn_and_saved_factors_released():
    x = leaf(np.random.default_rng(12).normal(size=(3, 3)))
    U, S, Vh = gdcore.linalg.svd(x)
    assert type(U.grad_fn).__name__ != "NoneType" and U.grad_fn.name() == "LinalgSvdBackward"
    loss = S.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()
    with gdcore.no_grad():
        assert gdcore.linalg.svdvals(x).grad_fn is None


def test_in_place_change_of_a_factor_is_caught():
    x = leaf(np.random.default_rng(13).normal(size=(3, 3)))
    U, S, Vh = gdcore.linalg.svd(x)
    loss = (U @ Vh).sum()
    with gdcore.no_grad():
        U.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place"):
        loss.backward()


def test_compile_replays_svd_op_by_op():
    W = gdcore.tensor(np.random.default_rng(14).normal(size=(4, 3)), dtype=gdcore.float64, requires_grad=True)
    opt = gdcore.optim.SGD([W], lr=0.01)

    def step(X):
        opt.zero_grad()
        loss = gdcore.linalg.matrix_norm(X @ W, "nuc") + gdcore.linalg.svdvals(W.detach() * 2).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = gdcore.compile(step)
    W_eager = W.detach().clone()
    rng = np.random.default_rng(15)
    xs = [gdcore.tensor(rng.normal(size=(5, 4))) for _ in range(4)]
    losses = [compiled(X).item() for X in xs]
    # Eager reference from the same start.
    W2 = gdcore.tensor(W_eager.numpy(), dtype=gdcore.float64, requires_grad=True)
    opt2 = gdcore.optim.SGD([W2], lr=0.01)
    for X, got in zip(xs, losses):
        opt2.zero_grad()
        loss = gdcore.linalg.matrix_norm(X @ W2, "nuc") + gdcore.linalg.svdvals(W2.detach() * 2).sum()
        loss.backward()
        opt2.step()
        assert loss.item() == got
    np.testing.assert_array_equal(W.detach().numpy(), W2.detach().numpy())
    program = next(iter(compiled._captures.values())).program
    assert program.lowering.startswith("op by op") and "LAPACK's gesdd" in program.lowering
