"""gdcore.curvature against the dense Hessian: top eigenvalues and eigenvectors against numpy.linalg.eigvalsh /
eigh of gdcore.autograd.hessian (float64, relative 1e-6), Hutchinson's trace against the exact trace and the
closed-form variance of its samples, and the SLQ density (integrates to 1, its grid brackets the spectrum,
its nodes are the eigenvalues after n steps). Quadratics with a chosen spectrum check the rest."""
import math

import numpy as np
import pytest

import gdcore
from gdcore import curvature, nn
from gdcore.nn import functional as F


def tiny_mlp(dtype=gdcore.float64, seed=0):
    """A 1-5-1 tanh MLP (16 parameters) on 30 points, its closure, and a function of one flat parameter vector
    computing the same loss (for gdcore.autograd.hessian)."""
    gdcore.manual_seed(seed)
    model = nn.Sequential(nn.Linear(1, 5), nn.Tanh(), nn.Linear(5, 1)).to(dtype)
    X = gdcore.linspace(-2, 2, 30, dtype=dtype).reshape(-1, 1)
    y = (3 * X).sin()

    def closure():
        return F.mse_loss(model(X), y)

    shapes = [tuple(p.shape) for p in model.parameters()]
    X64, y64 = X.to(gdcore.float64), y.to(gdcore.float64)

    def loss_of(v):
        parts, start = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            parts.append(v[start:start + size].reshape(*shape))
            start += size
        hidden = (X64 @ parts[0].t() + parts[1]).tanh()
        return F.mse_loss(hidden @ parts[2].t() + parts[3], y64)

    return model, closure, loss_of


def dense_hessian(model, loss_of):
    flat = np.concatenate([p.detach().numpy().astype(np.float64).ravel() for p in model.parameters()])
    return gdcore.autograd.hessian(loss_of, gdcore.tensor(flat)).numpy()


def quadratic(eigenvalues, seed=0, dtype=gdcore.float64):
    """loss = 0.5 x^T A x with A = Q diag(eigenvalues) Q^T (random orthogonal Q); returns (x, closure, A)."""
    rng = np.random.default_rng(seed)
    n = len(eigenvalues)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = Q @ np.diag(eigenvalues) @ Q.T
    A = (A + A.T) / 2
    At = gdcore.tensor(A, dtype=dtype)
    x = gdcore.tensor(rng.normal(size=n), dtype=dtype, requires_grad=True)
    return x, (lambda: 0.5 * (x * (At @ x)).sum()), A


def flat(tensors):
    return np.concatenate([t.numpy().astype(np.float64).ravel() for t in tensors])


def test_top_eigenvalues_match_eigvalsh_of_the_dense_hessian():
    model, closure, loss_of = tiny_mlp()
    H = dense_hessian(model, loss_of)
    exact = np.linalg.eigvalsh(H)[::-1]
    result = curvature.top_eigenvalues(closure, model, k=3, tol=1e-10)
    np.testing.assert_allclose(result.eigenvalues, exact[:3], rtol=1e-6)
    assert result.converged and result.matvecs <= H.shape[0]
    vectors = np.array([flat(v) for v in result.eigenvectors])
    np.testing.assert_allclose(vectors @ vectors.T, np.eye(3), atol=1e-8)
    for value, v in zip(result.eigenvalues, vectors):
        assert np.linalg.norm(H @ v - value * v) < 1e-6 * abs(exact[0])
    assert all(p.grad is None for p in model.parameters())        # the tools never touch .grad


def test_default_tolerance_and_unpacking_on_one_eigenvalue():
    model, closure, loss_of = tiny_mlp(seed=3)
    exact = np.linalg.eigvalsh(dense_hessian(model, loss_of))[-1]
    values, vectors = curvature.top_eigenvalues(closure, list(model.parameters()))
    assert values[0] == pytest.approx(exact, rel=1e-6)
    assert [tuple(t.shape) for t in vectors[0]] == [tuple(p.shape) for p in model.parameters()]


def test_float32_model_agrees_with_the_float64_hessian():
    model, closure, loss_of = tiny_mlp(dtype=gdcore.float32)
    exact = np.linalg.eigvalsh(dense_hessian(model, loss_of))[::-1]
    result = curvature.top_eigenvalues(closure, model, k=2, tol=1e-6)
    np.testing.assert_allclose(result.eigenvalues, exact[:2], rtol=1e-4)
    assert result.eigenvectors[0][0].dtype == gdcore.float32


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_quadratic_with_a_known_spectrum(method):
    spectrum = [10.0, 5.0, 2.0, 1.0, 0.5, 0.1]
    x, closure, _ = quadratic(spectrum)
    result = curvature.top_eigenvalues(closure, x, k=3, method=method, max_iter=2000, tol=1e-12)
    np.testing.assert_allclose(result.eigenvalues, spectrum[:3], rtol=1e-6)


def test_lanczos_returns_the_algebraic_top_and_power_the_largest_magnitude():
    spectrum = [3.0, 1.0, -0.5, -8.0]
    x, closure, _ = quadratic(spectrum, seed=1)
    lanczos = curvature.top_eigenvalues(closure, x, k=1, tol=1e-10)
    power = curvature.top_eigenvalues(closure, x, k=1, method="power", max_iter=2000, tol=1e-12)
    assert lanczos.eigenvalues[0] == pytest.approx(3.0, rel=1e-9)
    assert power.eigenvalues[0] == pytest.approx(-8.0, rel=1e-6)


def test_repeated_eigenvalues_all_found():
    # Hessian 2 I: every start vector is an eigenvector, the Krylov space closes after one step and the
    # iteration must restart to find the other k - 1.
    p = gdcore.randn(3, 2, dtype=gdcore.float64, requires_grad=True)
    result = curvature.top_eigenvalues(lambda: (p ** 2).sum(), p, k=6)
    np.testing.assert_allclose(result.eigenvalues, [2.0] * 6, rtol=1e-12)
    vectors = np.array([flat(v) for v in result.eigenvectors])
    np.testing.assert_allclose(vectors @ vectors.T, np.eye(6), atol=1e-10)


def test_parameters_the_loss_ignores_and_a_linear_loss():
    a = gdcore.tensor([1.0, 2.0], dtype=gdcore.float64, requires_grad=True)
    unused = gdcore.zeros(3, dtype=gdcore.float64, requires_grad=True)
    result = curvature.top_eigenvalues(lambda: (a[0] ** 2) * 3 + a[1] * 2, [a, unused], k=2, tol=1e-12)
    np.testing.assert_allclose(result.eigenvalues, [6.0, 0.0], atol=1e-12)
    linear = curvature.top_eigenvalues(lambda: (a * 2).sum(), a, k=2)
    assert linear.eigenvalues == [0.0, 0.0]


def test_warm_start_from_an_eigenvector_converges_at_once():
    x, closure, _ = quadratic([4.0, 3.0, 1.0, 0.5, 0.2], seed=2)
    first = curvature.top_eigenvalues(closure, x, tol=1e-12)
    again = curvature.top_eigenvalues(closure, x, tol=1e-8, init=first.eigenvectors[0])
    assert again.matvecs <= 2 and again.eigenvalues[0] == pytest.approx(4.0, rel=1e-9)


def test_the_generator_makes_runs_repeatable_and_leaves_the_default_stream_alone():
    x, closure, _ = quadratic([4.0, 3.9, 1.0, 0.5], seed=4)
    state = gdcore.get_rng_state()
    one = curvature.top_eigenvalues(closure, x, max_iter=2, generator=gdcore.Generator(5))
    two = curvature.top_eigenvalues(closure, x, max_iter=2, generator=gdcore.Generator(5))
    assert one.eigenvalues == two.eigenvalues and not one.converged
    assert gdcore.get_rng_state().tolist() == state.tolist()


def test_hutchinson_trace_within_its_standard_error():
    model, closure, loss_of = tiny_mlp(seed=1)
    H = dense_hessian(model, loss_of)
    exact = np.trace(H)
    off_diagonal = np.sum(H ** 2) - np.sum(np.diag(H) ** 2)
    deviations = []
    for seed in range(8):
        estimate = curvature.hessian_trace(closure, model, samples=100, generator=gdcore.Generator(seed))
        deviations.append(abs(estimate.trace - exact) / estimate.stderr)
        # one sample's variance is 2 sum_{i != j} H_ij^2 (Rademacher vectors): the standard error matches it
        assert estimate.stderr == pytest.approx(math.sqrt(2 * off_diagonal / 100), rel=0.35)
    assert max(deviations) < 3.5                                   # every run within 3.5 standard errors
    assert sum(d <= 1 for d in deviations) >= 4                    # about 68% within one (here: at least half)


def test_hutchinson_is_exact_for_a_diagonal_hessian():
    p = gdcore.tensor([1.0, -2.0, 0.5], dtype=gdcore.float64, requires_grad=True)
    c = gdcore.tensor([1.0, 2.0, 3.0], dtype=gdcore.float64)
    trace, stderr = curvature.hessian_trace(lambda: (c * p ** 2).sum(), p, samples=5)
    assert trace == pytest.approx(12.0, rel=1e-14) and stderr == pytest.approx(0.0, abs=1e-12)


def test_spectral_density_integrates_to_one_and_brackets_the_spectrum():
    model, closure, loss_of = tiny_mlp(seed=2)
    exact = np.linalg.eigvalsh(dense_hessian(model, loss_of))
    grid, density = curvature.spectral_density(closure, model, iterations=100, runs=2)
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-4)
    assert grid[0] <= exact[0] and grid[-1] >= exact[-1]
    assert np.all(density >= 0) and np.all(np.diff(grid) > 0)


def test_spectral_density_nodes_are_the_eigenvalues_after_n_steps():
    spectrum = np.array([-1.0, 0.5, 2.0, 2.5, 7.0])
    x, closure, _ = quadratic(spectrum, seed=3)
    result = curvature.spectral_density(closure, x, iterations=50, sigma=0.05)
    np.testing.assert_allclose(np.sort(result.nodes), spectrum, atol=1e-9)
    assert result.weights.sum() == pytest.approx(1.0, abs=1e-12)
    # the density of (1/n) sum delta(t - lambda_j), smoothed, has mass ~ 1/n around each eigenvalue on average
    # over start vectors; for one vector the weights are (v . u_j)^2 / n with Rademacher v
    inside = [(result.grid > lam - 0.3) & (result.grid < lam + 0.3) for lam in spectrum]
    masses = [np.trapezoid(result.density[m], result.grid[m]) for m in inside]
    np.testing.assert_allclose(sum(masses), 1.0, atol=1e-3)


def test_float32_trace_and_density_run():
    model, closure, loss_of = tiny_mlp(dtype=gdcore.float32, seed=4)
    exact = np.linalg.eigvalsh(dense_hessian(model, loss_of))
    grid, density = curvature.spectral_density(closure, model, iterations=16)
    assert grid.dtype == np.float64 and grid[0] <= exact[0] + 1e-4 and grid[-1] >= exact[-1] - 1e-4
    estimate = curvature.hessian_trace(closure, model, samples=20)
    assert abs(estimate.trace - exact.sum()) < 5 * estimate.stderr + 1e-4
