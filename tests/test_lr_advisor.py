"""The learning-rate advisor and fit's curvature options. On quadratics 0.5 x^T A x with a chosen spectrum the
bound is exact: gdcore's own optim.SGD (plain, heavy-ball momentum, Nesterov, dampening, weight decay) converges
with lr 2% below suggest_lr's bound and diverges 2% above it, for several condition numbers; the bound itself is
checked against numpy's eigvalsh of A. fit(check_lr) warns or raises naming both numbers; fit(track_sharpness)
records what top_eigenvalues measures on a replay of the same updates (top_eigenvalues itself is checked against
the dense Hessian in test_curvature.py) and leaves the training run bit-for-bit unchanged."""
import math

import numpy as np
import pytest

import gdcore
from gdcore import curvature, nn, optim
from gdcore.curvature import UnstableLearningRateWarning
from gdcore.train import fit, suggest_lr


class Quadratic(nn.Module):
    """A 'model' whose output is the loss 0.5 x^T A x of its one parameter x (the input is A)."""

    def __init__(self, x0):
        super().__init__()
        self.x = nn.Parameter(gdcore.tensor(x0, dtype=gdcore.float64))

    def forward(self, A):
        return 0.5 * (self.x * (A @ self.x)).sum()


def loss_is_output(output, target):
    return output


def problem(condition, n=6, seed=0, top=4.0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    spectrum = np.geomspace(top / condition, top, n)
    A = Q @ np.diag(spectrum) @ Q.T
    A = (A + A.T) / 2
    x0 = Q @ np.ones(n)                     # every eigen-direction excited equally
    return A, x0, Q[:, -1]


def run_sgd(A, x0, lr, steps, **options):
    model = Quadratic(x0)
    opt = optim.SGD(model.parameters(), lr=lr, **options)
    At = gdcore.tensor(A, dtype=gdcore.float64)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            opt.zero_grad()
            model(At).backward()
            opt.step()
    return model.x.detach().numpy().copy()


SETTINGS = [
    dict(),
    dict(momentum=0.9),
    dict(momentum=0.5, nesterov=True),
    dict(momentum=0.8, dampening=0.3),
    dict(weight_decay=0.5),
]


@pytest.mark.parametrize("condition", [1.0, 10.0, 1000.0])
@pytest.mark.parametrize("options", SETTINGS, ids=["plain", "momentum", "nesterov", "dampening", "weight-decay"])
def test_bound_is_exact_on_quadratics(condition, options):
    A, x0, top_direction = problem(condition)
    model = Quadratic(x0)
    At = gdcore.tensor(A, dtype=gdcore.float64)
    advice = suggest_lr(model, loss_is_output, (At, At), optim.SGD(model.parameters(), lr=10.0, **options),
                        tol=1e-10)
    lam = np.linalg.eigvalsh(A)[-1]
    beta, damp, wd = options.get("momentum", 0.0), options.get("dampening", 0.0), options.get("weight_decay", 0.0)
    if options.get("nesterov"):
        expected = 2 * (1 + beta) / ((1 + 2 * beta) * (lam + wd))
    else:
        expected = 2 * (1 + beta) / ((1 - damp) * (lam + wd))
    assert advice.lambda_max == pytest.approx(lam, rel=1e-9)
    assert advice.bound == pytest.approx(expected, rel=1e-9)
    assert advice.suggested_lr == pytest.approx(expected / 2, rel=1e-9) and advice.stable is False
    steps = 3000
    below = run_sgd(A, x0, 0.98 * advice.bound, steps, **options)
    above = run_sgd(A, x0, 1.02 * advice.bound, steps, **options)
    start = abs(x0 @ top_direction)
    assert abs(below @ top_direction) < 1e-6 * start               # the sharpest direction dies out below
    assert np.linalg.norm(below) < np.linalg.norm(x0)
    assert not np.all(np.isfinite(above)) or abs(above @ top_direction) > 1e6 * start   # and explodes above


def test_seed_000_bound_matches_the_closed_form_hessian():
    from gdcore.workflows import manual_updates
    X, y = manual_updates.make_data()
    model = nn.Linear(1, 1)
    advice = suggest_lr(model, lambda out, t: ((out - t) ** 2).sum(), (X.reshape(-1, 1), y.reshape(-1, 1)),
                        optim.SGD(model.parameters(), lr=0.001))
    x = X.numpy().astype(np.float64)
    lam = np.linalg.eigvalsh(2 * np.array([[x @ x, x.sum()], [x.sum(), len(x)]]))[-1]
    assert advice.lambda_max == pytest.approx(lam, rel=1e-5)       # float32 model
    assert advice.bound == pytest.approx(2 / lam, rel=1e-5) and advice.stable is False
    text = str(advice)
    assert "6344" in text and "0.001" in text and "0.0003152" in text and "Suggested: lr = 0.0001576" in text


def test_no_positive_curvature_gives_no_bound():
    x = nn.Parameter(gdcore.tensor([1.0, 2.0], dtype=gdcore.float64))
    model = nn.Module()
    model.x = x
    model.forward = lambda inp: -(x ** 2).sum()
    advice = suggest_lr(model, loss_is_output, (gdcore.zeros(1), gdcore.zeros(1)))
    assert math.isinf(advice.bound) and advice.suggested_lr is None and advice.stable is None
    assert "no positive curvature" in advice.explanation


def test_stability_bound_formulas():
    assert curvature.stability_bound(4.0) == 0.5
    assert curvature.stability_bound(4.0, momentum=0.9) == pytest.approx(0.95)
    assert curvature.stability_bound(-1.0) == math.inf
    assert curvature.stability_bound(4.0, momentum=1.0) == 0.0


def linear_data(scale=1.0):
    g = gdcore.Generator(7)
    X = scale * gdcore.randn(64, 3, generator=g)
    y = X @ gdcore.tensor([[1.0], [-1.0], [2.0]]) + 0.1 * gdcore.randn(64, 1, generator=g)
    return X, y


def test_fit_check_lr_warns_naming_both_numbers_and_error_raises():
    X, y = linear_data(scale=10.0)
    model = nn.Linear(3, 1)
    bound = suggest_lr(model, nn.MSELoss(), (X[:16], y[:16])).bound
    loader = [(X[:16], y[:16]), (X[16:32], y[16:32])]
    lr = 3 * bound
    with pytest.warns(UnstableLearningRateWarning) as caught:
        with pytest.raises(gdcore.train.DivergenceError):
            fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=lr), loader, 200, check_lr=True, progress=False)
    message = str(caught[0].message)
    assert f"lr={lr:g}" in message and f"{bound:.4g}" in message and "first batch" in message
    model = nn.Linear(3, 1)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    with pytest.raises(ValueError, match="above the stability bound"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=lr), loader, 5, check_lr="error", progress=False)
    assert all(np.array_equal(b, p.detach().numpy()) for b, p in zip(before, model.parameters()))  # no step taken


def test_fit_check_lr_is_silent_below_the_bound_and_changes_nothing():
    X, y = linear_data()
    loader = [(X[:32], y[:32]), (X[32:], y[32:])]
    runs = []
    for check in (False, "error", True):
        gdcore.manual_seed(1)
        model = nn.Linear(3, 1)
        history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9), loader, 5,
                      check_lr=check, progress=False)
        runs.append(history.train_losses)
    assert runs[0] == runs[1] == runs[2]


def test_track_sharpness_leaves_the_run_unchanged():
    X, y = linear_data()
    X, y = X.to(gdcore.float64), y.to(gdcore.float64)
    loader = gdcore.data.DataLoader(gdcore.data.TensorDataset(X, y), batch_size=16, shuffle=True)
    results = []
    for track in (None, 3):
        gdcore.manual_seed(2)
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
        history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1, momentum=0.5), loader, 2,
                      track_sharpness=track, progress=False)
        results.append((history, [p.detach().numpy().copy() for p in model.parameters()], model))
    (plain, plain_params, _), (tracked, tracked_params, model) = results
    assert plain.train_losses == tracked.train_losses             # bit for bit: same losses, same parameters
    assert all(np.array_equal(a, b) for a, b in zip(plain_params, tracked_params))
    assert plain.sharpness == [] and tracked.sharpness_steps == [0, 3, 6]   # 8 steps: before, then every 3
    assert tracked.sharpness_limits == pytest.approx([2 * 1.5 / 0.1] * 3)
    assert tracked.sharpness[0] > 0 and all(np.isfinite(tracked.sharpness))


def test_track_sharpness_values_match_a_replay():
    X, y = linear_data()
    batches = [(X[:32], y[:32]), (X[32:], y[32:])]

    def make():
        gdcore.manual_seed(4)
        return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).double()

    model = make()
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.2), [(a.double(), b.double())
                                                                              for a, b in batches], 3,
                  track_sharpness=2, progress=False)
    # replay the same updates by hand and measure at the recorded steps with a tight tolerance
    replay = make()
    opt = optim.SGD(replay.parameters(), lr=0.2)
    first = (batches[0][0].double(), batches[0][1].double())
    measured = []
    for step in range(7):
        if step % 2 == 0:
            measured.append(curvature.top_eigenvalues(lambda: gdcore.mse_loss(replay(first[0]), first[1]), replay,
                                                      tol=1e-10).eigenvalues[0])
        if step == 6:
            break
        Xb, yb = batches[step % 2]
        opt.zero_grad()
        gdcore.mse_loss(replay(Xb.double()), yb.double()).backward()
        opt.step()
    assert history.sharpness_steps == [0, 2, 4, 6]
    np.testing.assert_allclose(history.sharpness, measured, rtol=1e-3)


def test_suggest_lr_reads_the_first_batch_of_a_loader():
    X, y = linear_data(scale=3.0)
    model = nn.Linear(3, 1)
    loader = gdcore.data.DataLoader(gdcore.data.TensorDataset(X, y), batch_size=16)
    from_loader = suggest_lr(model, nn.MSELoss(), loader, tol=1e-8)
    from_batch = suggest_lr(model, nn.MSELoss(), (X[:16], y[:16]), tol=1e-8)
    x = X[:16].numpy().astype(np.float64)
    design = np.c_[x, np.ones(16)]
    exact = np.linalg.eigvalsh(2 * design.T @ design / 16)[-1]      # MSE of a linear model: H = 2 A^T A / m
    assert from_loader.lambda_max == pytest.approx(from_batch.lambda_max, rel=1e-6)
    assert from_loader.lambda_max == pytest.approx(exact, rel=1e-5)
    assert from_loader.lr is None and from_loader.stable is None and "Your lr" not in from_loader.explanation
