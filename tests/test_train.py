"""gdcore.train: fit's loss curves against a plain numpy replay of the same updates, the divergence check,
the progress bar switch, and argument checking. Models here are plain closures and the optimizer is
hand-written, so these tests exercise fit alone."""
import math

import numpy as np
import pytest

import gdcore
from gdcore.train import DivergenceError, History, check_finite, evaluate_loss, fit


class HandSGD:
    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr
        self.param_groups = [{"params": self.params, "lr": lr}]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        for p in self.params:
            p.data -= self.lr * p.grad.data


def mse(y_hat, y):
    return ((y_hat - y) ** 2).mean()


def make_problem(n=24, batch=6, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.normal(size=(n, 1))
    as64 = lambda a: gdcore.tensor(a, dtype=gdcore.float64)  # noqa: E731
    batches = [(as64(X[i:i + batch]), as64(y[i:i + batch])) for i in range(0, n, batch)]
    return X, y, batches


def linear_model():
    w = gdcore.zeros(3, 1, dtype=gdcore.float64, requires_grad=True)
    b = gdcore.zeros(1, dtype=gdcore.float64, requires_grad=True)
    return (lambda X: X @ w + b), [w, b]


def numpy_replay(X, y, batch, lr, epochs, eval_every=None):
    """The same mini-batch gradient descent in numpy: per-epoch mean batch loss and full-data eval points."""
    w, b = np.zeros((3, 1)), 0.0
    full = lambda: float(np.mean((X @ w + b - y) ** 2))  # noqa: E731
    evals, epoch_means, step = [(0.0, full())] if eval_every else [], [], 0
    nb = len(range(0, len(X), batch))
    for _ in range(epochs):
        total = 0.0
        for i in range(0, len(X), batch):
            Xb, yb = X[i:i + batch], y[i:i + batch]
            r = Xb @ w + b - yb
            total += float(np.mean(r ** 2)) * len(Xb)
            w = w - lr * 2 * Xb.T @ r / len(Xb)
            b = b - lr * 2 * float(np.mean(r))
            step += 1
            if eval_every and step % eval_every == 0:
                evals.append((step / nb, full()))
        epoch_means.append(total / len(X))
    return w, b, epoch_means, evals


def test_fit_per_epoch_curve_matches_numpy_replay():
    X, y, batches = make_problem()
    model, params = linear_model()
    history = fit(model, mse, HandSGD(params, 0.1), batches, 5, progress=False)
    w, b, epoch_means, _ = numpy_replay(X, y, 6, 0.1, 5)
    assert history.epochs == [1.0, 2.0, 3.0, 4.0, 5.0]
    np.testing.assert_allclose(history.losses, epoch_means, rtol=1e-10)
    assert history.train_losses == history.losses
    np.testing.assert_allclose(params[0].detach().numpy(), w, rtol=1e-10)
    assert history.steps == 20 and len(history.seconds_per_epoch) == 5
    assert all(s >= 0 for s in history.seconds_per_epoch)
    assert history.final_loss == history.losses[-1]
    assert "5 epochs, 20 steps" in history.summary()


def test_fit_eval_every_records_full_data_loss_at_fractional_epochs():
    X, y, batches = make_problem()
    model, params = linear_model()
    full = (gdcore.tensor(X, dtype=gdcore.float64), gdcore.tensor(y, dtype=gdcore.float64))
    history = fit(model, mse, HandSGD(params, 0.05), batches, 3, eval_every=3, eval_data=full, progress=False)
    *_, evals = numpy_replay(X, y, 6, 0.05, 3, eval_every=3)
    assert history.epochs == pytest.approx([e for e, _ in evals])
    assert history.epochs[:3] == pytest.approx([0.0, 0.75, 1.5])
    np.testing.assert_allclose(history.losses, [v for _, v in evals], rtol=1e-10)
    assert len(history.train_losses) == 3


def test_fit_recovers_parameters_of_a_linear_model():
    X, y, batches = make_problem(n=60, batch=60)           # full batch: gradient descent reaches least squares
    model, params = linear_model()
    fit(model, mse, HandSGD(params, 0.2), batches, 300, progress=False)
    A = np.c_[X, np.ones(len(X))]
    exact = np.linalg.lstsq(A, y, rcond=None)[0].ravel()
    learned = np.r_[params[0].detach().numpy().ravel(), params[1].item()]
    np.testing.assert_allclose(learned, exact, atol=1e-6)
    # and the truth (1.5, -2, 0.5, 0.3) within 5 standard errors of noise 0.1 over 60 samples (~0.065)
    np.testing.assert_allclose(learned, [1.5, -2.0, 0.5, 0.3], atol=5 * 0.1 / np.sqrt(60))


def test_fit_means_per_sample_losses_and_evaluates_loaders():
    X, y, batches = make_problem()
    model, params = linear_model()
    per_sample = lambda y_hat, y: (y_hat - y) ** 2  # noqa: E731  (one value per sample, like squared_loss)
    history = fit(model, per_sample, HandSGD(params, 0.1), batches, 2, progress=False)
    _, _, epoch_means, _ = numpy_replay(X, y, 6, 0.1, 2)
    np.testing.assert_allclose(history.losses, epoch_means, rtol=1e-10)
    w = params[0].detach().numpy()
    expected = float(np.mean((X @ w + params[1].item() - y) ** 2))
    assert evaluate_loss(model, mse, batches) == pytest.approx(expected, rel=1e-10)


def test_fit_stops_on_divergence_naming_step_epoch_and_lr():
    _, _, batches = make_problem()
    model, params = linear_model()
    calls = {"n": 0}

    def loss_that_breaks(y_hat, y):
        calls["n"] += 1
        loss = mse(y_hat, y)
        return loss * math.nan if calls["n"] == 7 else loss

    with pytest.raises(DivergenceError) as info:
        fit(model, loss_that_breaks, HandSGD(params, 0.25), batches, 3, progress=False)
    err = info.value
    assert isinstance(err, FloatingPointError)
    assert (err.step, err.epoch, err.lr) == (7, 2, 0.25)
    assert "step 7" in str(err) and "epoch 2" in str(err) and "lr=0.25" in str(err)
    assert "smaller learning rate" in str(err) and "standardise" in str(err)


def test_fit_catches_a_real_divergence():
    X, y, batches = make_problem()
    X = X * 100.0                                   # unscaled features: lr=0.1 is far beyond 2 / lambda_max
    batches = [(gdcore.tensor(X[i:i + 6], dtype=gdcore.float32), gdcore.tensor(y[i:i + 6], dtype=gdcore.float32))
               for i in range(0, 24, 6)]
    w = gdcore.zeros(3, 1, requires_grad=True)
    b = gdcore.zeros(1, requires_grad=True)
    with pytest.raises(DivergenceError, match="lr=0.1"):
        fit(lambda X: X @ w + b, mse, HandSGD([w, b], 0.1), batches, 50, progress=False)


def test_check_finite():
    assert check_finite(gdcore.tensor(2.5)) == 2.5
    assert check_finite(1.0, step=3, lr=0.1) == 1.0
    with pytest.raises(DivergenceError, match=r"became inf \(step 4, lr=0.001\)") as info:
        check_finite(gdcore.tensor([math.inf]), step=4, lr=0.001)
    assert "lr=0.0001" in str(info.value)            # the suggestion is ten times smaller
    with pytest.raises(DivergenceError, match="nan"):
        check_finite(math.nan)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        check_finite(gdcore.tensor([1.0, 2.0]))


def test_callback_runs_after_every_epoch():
    _, _, batches = make_problem()
    model, params = linear_model()
    seen = []
    fit(model, mse, HandSGD(params, 0.1), batches, 4, progress=False, callback=lambda h: seen.append(len(h.losses)))
    assert seen == [1, 2, 3, 4]


def test_progress_bar_only_when_asked_or_on_a_terminal(capsys):
    _, _, batches = make_problem()
    model, params = linear_model()
    fit(model, mse, HandSGD(params, 0.1), batches, 2)      # stderr is captured, not a terminal: no bar
    assert capsys.readouterr().err == ""
    fit(model, mse, HandSGD(params, 0.1), batches, 2, progress=True)
    assert "step" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, error, match", [
    ({"epochs": 0}, ValueError, "epochs must be a positive integer"),
    ({"epochs": 2, "eval_every": 0}, ValueError, "eval_every"),
    ({"epochs": 2, "optimizer": object()}, TypeError, "zero_grad"),
    ({"epochs": 2, "loader": []}, ValueError, "no batches"),
    ({"epochs": 2, "loader": [1, 2]}, TypeError, r"\(inputs, targets\) pair"),
])
def test_fit_rejects_bad_arguments(kwargs, error, match):
    _, _, batches = make_problem()
    model, params = linear_model()
    args = {"loader": batches, "optimizer": HandSGD(params, 0.1), **kwargs}
    with pytest.raises(error, match=match):
        fit(model, mse, args["optimizer"], args["loader"], args["epochs"], eval_every=args.get("eval_every"),
            progress=False)


def test_history_is_accepted_by_plot_losses(tmp_path):
    from gdcore import plot
    history = History(epochs=[1.0, 2.0, 3.0], losses=[3.0, 2.0, 1.5], label="run")
    path = tmp_path / "loss.png"
    fig = plot.plot_losses(history, path=str(path))
    assert path.stat().st_size > 0 and fig is not None
