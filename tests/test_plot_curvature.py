"""gdcore.plot.sharpness, plot.lr_find and plot.optimizer_race: the figures are drawn and saved headless, the race's
paths equal the same optimizers' updates written out in numpy (SGD, heavy-ball momentum, Adam), a diverging
optimizer is cut at its first non-finite step and named in the legend, and the GIF holds the asked-for frames."""
import numpy as np
import pytest

import gdcore
from gdcore import nn, optim, plot
from gdcore.plot.race import RACE_TRACKS, race_trajectories
from gdcore.train import fit, lr_find


def numpy_quadratic_grad(x):
    return np.array([0.2 * x[0], 4.0 * x[1]])


def numpy_rosenbrock_grad(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def numpy_sgd(grad, x0, lr, steps, momentum=0.0):
    x, b, out = np.array(x0, float), None, [np.array(x0, float)]
    for _ in range(steps):
        g = grad(x)
        b = g if b is None or momentum == 0 else momentum * b + g
        x = x - lr * b
        out.append(x.copy())
    return np.array(out)


def numpy_adam(grad, x0, lr, steps, beta1=0.9, beta2=0.999, eps=1e-8):
    x, m, v, out = np.array(x0, float), 0.0, 0.0, [np.array(x0, float)]
    for t in range(1, steps + 1):
        g = grad(x)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = x - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
        out.append(x.copy())
    return np.array(out)


def test_race_paths_match_numpy_updates():
    runs = race_trajectories("quadratic", None, {
        "sgd": lambda p: optim.SGD(p, lr=0.4),
        "momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.5)}, 30)
    np.testing.assert_allclose(runs["sgd"].points, numpy_sgd(numpy_quadratic_grad, (-5, -2), 0.4, 30), rtol=1e-12)
    np.testing.assert_allclose(runs["momentum"].points,
                               numpy_sgd(numpy_quadratic_grad, (-5, -2), 0.1, 30, momentum=0.5), rtol=1e-12)
    losses = [0.1 * a ** 2 + 2 * b ** 2 for a, b in runs["sgd"].points]
    np.testing.assert_allclose(runs["sgd"].losses, losses, rtol=1e-12)
    adam = race_trajectories("rosenbrock", (-1.0, 1.5), {"adam": lambda p: optim.Adam(p, lr=0.05)}, 50)["adam"]
    np.testing.assert_allclose(adam.points, numpy_adam(numpy_rosenbrock_grad, (-1.0, 1.5), 0.05, 50), rtol=1e-9)
    default = race_trajectories("rosenbrock", (-1.0, 1.5), {"Adam": optim.Adam}, 5)["Adam"]   # a class works too
    np.testing.assert_allclose(default.points, numpy_adam(numpy_rosenbrock_grad, (-1.0, 1.5), 1e-3, 5), rtol=1e-9)


def test_race_marks_the_diverged_optimizer(tmp_path):
    path = tmp_path / "race.png"
    fig = plot.optimizer_race("quadratic", None, {"too fast": lambda p: optim.SGD(p, lr=2.0),
                                                  "fine": lambda p: optim.SGD(p, lr=0.4)}, 400, path=path)
    runs = fig.race_runs
    assert runs["fine"].diverged_at is None and len(runs["fine"].points) == 401
    bad = runs["too fast"]
    assert bad.diverged_at is not None and len(bad.points) == len(bad.losses) == bad.diverged_at
    assert np.all(np.isfinite(bad.points)) and np.all(np.isfinite(bad.losses))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"too fast (diverged at step {bad.diverged_at})" in labels and "fine" in labels
    assert path.stat().st_size > 0


def test_race_on_every_track_and_on_a_custom_function(tmp_path):
    for name in RACE_TRACKS:
        fig = plot.optimizer_race(name, None, {"Adam": lambda p: optim.Adam(p, lr=0.05)}, 20, grid_points=30)
        assert fig.axes[0].get_xlim() == RACE_TRACKS[name].window[0]
    fig = plot.optimizer_race(lambda x: (x[0] - 1) ** 2 + 3 * x[1] ** 2, gdcore.tensor([3.0, 1.0]),
                              {"SGD": lambda p: optim.SGD(p, lr=0.1)}, 25, path=tmp_path / "own.png", grid_points=30)
    end = fig.race_runs["SGD"].points[-1]
    assert end == pytest.approx([1.0, 0.0], abs=1e-2)
    low, high = fig.axes[0].get_xlim()
    assert low < 1.0 < 3.0 < high


def test_race_gif_has_the_frames(tmp_path):
    from PIL import Image
    path = tmp_path / "race.gif"
    plot.optimizer_race("beale", None, {"SGD": lambda p: optim.SGD(p, lr=0.01),
                                        "Adam": lambda p: optim.Adam(p, lr=0.05)}, 30, animate=True, path=path,
                        frames=4, grid_points=25, figsize=(2.5, 2))
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 4


def test_sharpness_plot_draws_both_curves(tmp_path):
    X = gdcore.linspace(-1, 1, 16).reshape(-1, 1)
    model = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1))
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), [(X, X ** 2)], 6,
                  track_sharpness=2, progress=False)
    fig = plot.sharpness(history, tmp_path / "s.png", title="sharpness")
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_ydata(), history.sharpness)
    np.testing.assert_allclose(lines[1].get_ydata(), [20.0] * 4)
    adam_model = nn.Linear(1, 1)
    adam = fit(adam_model, nn.MSELoss(), optim.Adam(adam_model.parameters(), lr=0.1), [(X, X)], 2,
               track_sharpness=1, progress=False)
    assert np.all(np.isnan(adam.sharpness_limits))
    assert len(plot.sharpness(adam).axes[0].get_lines()) == 1     # no 2 / lr line for Adam


def test_lr_find_plot(tmp_path):
    X = gdcore.linspace(-1, 1, 32).reshape(-1, 1)
    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    result = lr_find(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), [(X, X.sin())],
                     start_lr=1e-3, end_lr=100.0, num_steps=40)
    fig = plot.lr_find(result, tmp_path / "lr.png")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 3
    assert (tmp_path / "lr.png").stat().st_size > 0
