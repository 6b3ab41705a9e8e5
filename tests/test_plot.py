"""gdcore.plot: every function returns a matplotlib Figure, draws what it was given (checked on the
artists' data), saves a file when given a path, and rejects bad input with a clear error."""
import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

import gdcore
from gdcore import optimize
from gdcore.plot import plot_fit, plot_losses, show_trace, show_trace_2d
from gdcore.train import History


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def saved_png(path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_backend_is_headless():
    assert matplotlib.get_backend().lower() == "agg"


def test_show_trace_draws_f_and_the_iterates(tmp_path):
    c = 0.15 * math.pi
    f = lambda x: x * gdcore.cos(c * x)  # noqa: E731
    result = optimize.gd(f, 10.0, 2, steps=10)
    fig = show_trace(result, f, tmp_path / "trace.png", title="local minimum")
    assert isinstance(fig, Figure) and saved_png(tmp_path / "trace.png")
    curve, path = fig.axes[0].get_lines()
    np.testing.assert_allclose(path.get_xdata(), result.trace.x)
    np.testing.assert_allclose(path.get_ydata(), result.trace.fx)
    xs = np.asarray(curve.get_xdata())
    np.testing.assert_allclose(curve.get_ydata(), xs * np.cos(c * xs), rtol=1e-12, atol=1e-12)
    assert xs.min() <= result.trace.x.min() and xs.max() >= result.trace.x.max()
    assert fig.axes[0].get_title() == "local minimum"


def test_show_trace_takes_a_plain_list_and_a_pointwise_only_function():
    calls = []

    def f(x):  # works on one point only (float(x) fails on a whole grid)
        calls.append(1)
        return float(x) ** 2
    fig = show_trace([3.0, 1.0, 0.5], f)
    curve, path = fig.axes[0].get_lines()
    np.testing.assert_allclose(path.get_ydata(), [9.0, 1.0, 0.25])
    np.testing.assert_allclose(curve.get_ydata(), np.asarray(curve.get_xdata()) ** 2, rtol=1e-12)


def test_show_trace_2d_draws_contours_and_the_path(tmp_path):
    f = lambda x: x[0] ** 2 + 2 * x[1] ** 2  # noqa: E731
    result = optimize.gd(f, [-5.0, -2.0], 0.1, steps=20)
    fig = show_trace_2d(result, f, tmp_path / "trace2d.png")
    assert isinstance(fig, Figure) and saved_png(tmp_path / "trace2d.png")
    ax = fig.axes[0]
    (path,) = ax.get_lines()
    np.testing.assert_allclose(path.get_xdata(), result.trace.x[:, 0])
    np.testing.assert_allclose(path.get_ydata(), result.trace.x[:, 1])
    assert ax.collections  # the contour set
    x_lo, x_hi = ax.get_xlim()
    assert x_lo <= -5.0 and x_hi >= 0.0


def test_show_trace_2d_falls_back_to_pointwise_for_a_matrix_function():
    a = gdcore.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=gdcore.float64)
    f = lambda x: x @ (a @ x)  # noqa: E731  (not elementwise: a grid cannot go through it in one call)
    result = optimize.gd(f, [1.0, -1.0], 0.2, steps=5)
    fig = show_trace_2d(result, f, grid_points=12)
    assert isinstance(fig, Figure) and fig.axes[0].collections


def test_traces_reject_the_wrong_dimension(tmp_path):
    two_d = optimize.gd(lambda x: (x ** 2).sum(), [1.0, 1.0], 0.1, steps=2)
    with pytest.raises(ValueError, match="use show_trace_2d"):
        show_trace(two_d, lambda x: (x ** 2).sum())
    with pytest.raises(ValueError, match="use show_trace for 1-D"):
        show_trace_2d(optimize.gd(lambda x: x ** 2, 1.0, 0.1, steps=2), lambda x: x ** 2)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        show_trace([1.0, 0.5], lambda x: x ** 2, tmp_path / "missing" / "t.png")


def test_plot_losses_takes_a_history_lists_and_dicts(tmp_path):
    history = History(epochs=[0.5, 1.0, 1.5, 2.0], losses=[4.0, 2.0, 1.0, 0.5], label="sgd")
    fig = plot_losses(history, path=tmp_path / "one.png")
    assert isinstance(fig, Figure) and saved_png(tmp_path / "one.png")
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_allclose(line.get_xdata(), history.epochs)
    np.testing.assert_allclose(line.get_ydata(), history.losses)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["sgd"]

    fig = plot_losses([history, [3.0, 1.5, 0.7]], labels=["a", "b"], yscale="log")
    lines = fig.axes[0].get_lines()
    np.testing.assert_allclose(lines[1].get_xdata(), [1, 2, 3])  # a plain list is drawn against epochs 1..n
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a", "b"]
    assert fig.axes[0].get_yscale() == "log"

    fig = plot_losses({"adam": np.array([1.0, 0.5]), "sgd": gdcore.tensor([2.0, 1.0])})
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["adam", "sgd"]
    np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_ydata(), [2.0, 1.0])

    fig = plot_losses([5.0, 4.0, 3.0])  # one curve, no legend
    assert len(fig.axes[0].get_lines()) == 1 and fig.axes[0].get_legend() is None


def test_plot_losses_rejects_bad_input():
    with pytest.raises(ValueError, match="2 labels for 1 curves"):
        plot_losses([1.0, 2.0], labels=["a", "b"])
    with pytest.raises(ValueError, match="3 epochs but 2 losses"):
        plot_losses(History(epochs=[1, 2, 3], losses=[1.0, 2.0]))
    with pytest.raises(ValueError, match="no curves"):
        plot_losses([])
    with pytest.raises(ValueError, match="yscale"):
        plot_losses([1.0], yscale="symlog-ish")
    with pytest.raises(TypeError, match="sequence of numbers"):
        plot_losses([["a", "b"]])


def test_plot_fit_with_a_function_values_and_a_model(tmp_path):
    x = np.arange(1.0, 21.0)
    y = 2 * x + 1 + np.sin(x)
    fig = plot_fit(x, y, lambda t: 2 * t + 1, tmp_path / "fit.png", title="line")
    assert isinstance(fig, Figure) and saved_png(tmp_path / "fit.png")
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.column_stack([x, y]))
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), 2 * np.asarray(line.get_xdata()) + 1)

    fitted = 2 * x[::-1] + 1  # values given per point, in any order of x
    fig = plot_fit(x[::-1], y[::-1], fitted)
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_allclose(line.get_xdata(), x)

    w = gdcore.tensor([[3.0]])

    def model(t):  # like nn.Linear(1, 1): needs an (N, 1) float32 tensor
        if not isinstance(t, gdcore.Tensor) or t.dim() != 2:
            raise TypeError("expects an (N, 1) tensor")
        return t @ w
    fig = plot_fit(gdcore.tensor(x).reshape(-1, 1), gdcore.tensor(y), model)
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_allclose(line.get_ydata(), 3 * np.asarray(line.get_xdata()), rtol=1e-6)


def test_plot_fit_rejects_bad_input():
    with pytest.raises(ValueError, match="x has 3 values but y has 2"):
        plot_fit([1, 2, 3], [1, 2], lambda t: t)
    with pytest.raises(ValueError, match="2 fitted values for 3 points"):
        plot_fit([1, 2, 3], [1, 2, 3], [1, 2])
    with pytest.raises(TypeError, match="could not call the prediction function"):
        plot_fit([1, 2, 3], [1, 2, 3], lambda t: "nope")
