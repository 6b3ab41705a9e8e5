"""The gradient tools of gdcore.autograd: numerical_grad (central and forward) against
closed forms, gradcheck passing on correct gradients and reporting a wrong one (input
and worst index), graph() DOT text, and render_graph() with and without Graphviz's dot.
"""
import re
import shutil
import subprocess

import numpy as np
import pytest

import gdcore
from gdcore.autograd import GradcheckError, gradcheck, graph, numerical_grad, render_graph


def f64(values, requires_grad=False):
    return gdcore.tensor(np.asarray(values, dtype=np.float64), dtype=gdcore.float64, requires_grad=requires_grad)


# ---- numerical_grad ---------------------------------------------------------------------

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def test_numerical_grad_central_matches_closed_form():
    (g,) = numerical_grad(lambda x: (x ** 3).sum(), f64(X), eps=1e-5)
    assert g.shape == X.shape and g.dtype == np.float64
    # Central differences of x^3 are exact up to eps^2 (the x^3 term cancels): 3x^2 + eps^2.
    np.testing.assert_allclose(g, 3 * X ** 2 + 1e-10, rtol=0, atol=1e-8)


def test_numerical_grad_forward_has_first_order_error():
    eps = 1e-4
    (g,) = numerical_grad(lambda x: (x ** 3).sum(), f64(X), eps=eps, method="forward")
    # ((x+e)^3 - x^3)/e = 3x^2 + 3x e + e^2: the O(eps) term is visible and predictable.
    np.testing.assert_allclose(g, 3 * X ** 2 + 3 * X * eps + eps ** 2, rtol=0, atol=1e-8)
    assert np.max(np.abs(g - 3 * X ** 2)) > 1e-4  # clearly worse than central


def test_numerical_grad_several_inputs_and_integer_inputs():
    a, b = f64([1.0, 2.0]), f64([3.0, -4.0])
    idx = gdcore.tensor([1, 1, 0])
    ga, gb, gi = numerical_grad(lambda x, y, i: (x * y).index_select(0, i).sum(), [a, b, idx])
    np.testing.assert_allclose(ga, [3.0 * 1, -4.0 * 2], atol=1e-7)  # row 0 picked once, row 1 twice
    np.testing.assert_allclose(gb, [1.0 * 1, 2.0 * 2], atol=1e-7)
    assert gi is None  # an index tensor is passed through, not differentiated


def test_numerical_grad_leaves_inputs_untouched_and_checks_arguments():
    x = f64([1.0, 2.0])
    numerical_grad(lambda t: (t * t).sum(), x)
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    with pytest.raises(ValueError, match="method"):
        numerical_grad(lambda t: t.sum(), x, method="backward")
    with pytest.raises(ValueError, match="eps"):
        numerical_grad(lambda t: t.sum(), x, eps=0.0)
    with pytest.raises(ValueError, match="scalar"):
        numerical_grad(lambda t: t * 2, x)


# ---- gradcheck ----------------------------------------------------------------------------

def test_gradcheck_passes_on_correct_gradients():
    a = f64(X, requires_grad=True)
    b = f64(X[0], requires_grad=True)
    assert gradcheck(lambda x, y: (x * y).sin() / (1.0 + y ** 2), [a, b]) is True  # non-scalar output
    assert gradcheck(lambda x: (x @ x.T).sum(), a) is True


def test_gradcheck_reports_a_wrong_gradient():
    # x.detach() * x has true derivative 2x, but autodiff sees the detached factor as a
    # constant and returns x: an honest wrong gradient. The worst mismatch is at max |x|.
    a = f64([[0.3, 0.1]], requires_grad=True)
    x = f64(X, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda p, q: (p * p).sum() + (q.detach() * q).sum(), [a, x])
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    worst = np.unravel_index(np.argmax(np.abs(X)), X.shape)  # (0, 2): x = 2.0
    assert "input 1 (shape (2, 3))" in message
    assert f"index {tuple(int(i) for i in worst)}" in message
    assert "input 0" not in message  # the correct input is not blamed
    numbers = re.search(r"analytical ([-\d.e]+), numerical ([-\d.e]+)", message)
    assert float(numbers.group(1)) == pytest.approx(2.0)
    assert float(numbers.group(2)) == pytest.approx(4.0, rel=1e-6)
    assert "6 of 6 elements differ" in message


def test_gradcheck_catches_non_finite_gradients():
    x = f64([0.0, 1.0], requires_grad=True)
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda t: gdcore.sqrt(t).sum(), x)  # d sqrt(x)/dx is inf at 0


def test_gradcheck_argument_checks():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda t: t.sum(), f64([1.0]))
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda t: t.sum(), gdcore.tensor([1.0], requires_grad=True))


# ---- graph and render_graph ------------------------------------------------------------------

PARAMS = {}


def _model():
    """((w * x + b).tanh() * w).sum(): ops Mul, Add, Tanh, Mul, Sum; leaves w and b (kept in PARAMS)."""
    w = f64([0.5, -1.0, 2.0], requires_grad=True)
    w.name = "w"
    b = f64([0.1, 0.2, 0.3], requires_grad=True)
    b.name = "b"
    PARAMS.update(w=w, b=b)  # the graph holds leaves weakly: a model keeps its parameters alive
    x = f64([1.0, 2.0, 3.0])
    return ((w * x + b).tanh() * w).sum()


def _nodes(dot):
    """{node id: label} for every node line of the DOT text."""
    return dict(re.findall(r'^\s*(n\d+) \[label="([^"]*)"', dot, flags=re.M))


def test_graph_dot_has_one_node_per_op_and_named_leaves():
    dot = graph(_model(), name="loss")
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    labels = sorted(_nodes(dot).values())
    assert labels == sorted([
        "loss\\n()", "SumBackward\\n()", "MulBackward\\n(3,)", "MulBackward\\n(3,)", "TanhBackward\\n(3,)",
        "AddBackward\\n(3,)", "w\\n(3,)", "b\\n(3,)",
    ])
    edges = re.findall(r"^\s*(n\d+) -> (n\d+);", dot, flags=re.M)
    ids = {label: node for node, label in _nodes(dot).items()}
    assert (ids["w\\n(3,)"], ids["TanhBackward\\n(3,)"]) not in edges
    assert sum(1 for src, _ in edges if src == ids["w\\n(3,)"]) == 2  # w feeds both Muls
    assert len(edges) == 8


def test_graph_shows_a_dropped_leaf_as_freed():
    x = f64([1.0, 2.0])
    b = f64([0.5, 0.5], requires_grad=True)
    y = (x + b).sum()
    del b  # nothing holds the leaf any more; the drawing still shows the input slot
    labels = list(_nodes(graph(y)).values())
    assert "freed leaf\\n(2,)" in labels and len(labels) == 4


def test_graph_of_a_leaf_and_unnamed_leaves():
    assert len(_nodes(graph(f64([1.0])))) == 1
    x = f64([[1.0, 2.0]], requires_grad=True)
    labels = list(_nodes(graph(x @ x.T)).values())
    assert "leaf\\n(1, 2)" in labels and "MmBackward\\n(1, 1)" in labels
    with pytest.raises(TypeError, match="Tensor"):
        graph([1.0])


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot (installed in the dev image)")
@pytest.mark.parametrize("suffix,magic", [(".svg", b"<svg"), (".png", b"\x89PNG")])
def test_render_graph_writes_file(tmp_path, suffix, magic):
    path = tmp_path / f"graph{suffix}"
    assert render_graph(_model(), str(path)) == str(path)
    content = path.read_bytes()
    assert magic in content[:400]
    if suffix == ".svg":
        assert b"TanhBackward" in content and b">w<" in content.replace(b"&#45;", b"-")
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary files left


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_graph_dot_is_valid_graphviz():
    proc = subprocess.run(["dot", "-Tplain"], input=graph(_model()).encode(), capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(b"\nnode ") == 8


def test_render_graph_without_dot_raises_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert shutil.which("dot") is None
    path = tmp_path / "graph.svg"
    with pytest.raises(RuntimeError, match=r"Graphviz.*dot.*graph\(t\)"):
        render_graph(_model(), str(path))
    assert not path.exists()


def test_render_graph_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError, match=r"'txt'.*\.svg"):
        render_graph(_model(), str(tmp_path / "graph.txt"))
