"""micrograd's Value internals on gdcore.Value: the constructor's (data, _children, _op, label),
``_prev`` (the set of input Values, the same objects every time, so micrograd's trace and
draw_dot work), ``_op`` spelled as micrograd spells it, labels, and gdcore.autograd.graph /
render_graph drawing a Value's graph as draw_dot would. Expected values are written out from
micrograd's engine.py conventions and Karpathy's lecture example, not computed by gdcore."""
import gc
import os
import shutil

import pytest

import gdcore
from gdcore import Value
from gdcore.autograd import graph, render_graph


def trace(root):
    """micrograd's trace(): every Value and (child, parent) edge reachable through _prev (written with a stack)."""
    nodes, edges, stack = set(), set(), [root]
    while stack:
        v = stack.pop()
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                stack.append(child)
    return nodes, edges


@pytest.mark.parametrize("make, op, prev_data", [
    (lambda a, b: a + b, "+", {2.0, -3.0}),
    (lambda a, b: a * b, "*", {2.0, -3.0}),
    (lambda a, b: a - b, "-", {2.0, -3.0}),
    (lambda a, b: a / b, "/", {2.0, -3.0}),
    (lambda a, b: a ** 2, "**2", {2.0}),
    (lambda a, b: a ** -1, "**-1", {2.0}),
    (lambda a, b: a ** 0.5, "**0.5", {2.0}),
    (lambda a, b: a.relu(), "ReLU", {2.0}),
    (lambda a, b: a.tanh(), "tanh", {2.0}),
    (lambda a, b: a.exp(), "exp", {2.0}),
    (lambda a, b: a.log(), "log", {2.0}),
    (lambda a, b: a.sigmoid(), "sigmoid", {2.0}),
    (lambda a, b: -a, "neg", {2.0}),
    (lambda a, b: a + 1, "+", {2.0, 1.0}),   # micrograd wraps the number in a Value
    (lambda a, b: 4 * a, "*", {2.0, 4.0}),
    (lambda a, b: 1 - a, "-", {2.0, 1.0}),
    (lambda a, b: a / 8, "/", {2.0, 8.0}),
])
def test_op_and_prev_follow_micrograd(make, op, prev_data):
    a, b = Value(2.0), Value(-3.0)
    out = make(a, b)
    assert out._op == op
    assert isinstance(out._prev, set) and {v.data for v in out._prev} == prev_data
    assert all(isinstance(v, Value) for v in out._prev)


def test_prev_holds_the_users_values_and_the_same_objects_each_time():
    a, b = Value(2.0), Value(3.0)
    c = a * b
    assert c._prev == {a, b}
    d = c + 1.0
    (first,) = [v for v in d._prev if v.data == 6.0]
    # c was made by an op and never labelled, so nothing tells its node about it (ops register nothing, to stay
    # fast): _prev stands in another Value for that node, the same one at every call while it lives.
    assert first is not c and first.data == c.data and next(v for v in d._prev if v.data == 6.0) is first
    first.grad = 5.0
    assert c.grad == 5.0  # the same node
    e = (a * b).tanh()
    (inner,) = e._prev
    assert inner in e._prev and next(iter(e._prev)) is inner  # a Value made for _prev is kept for its node
    assert (a * a)._prev == {a}  # a diamond: one input twice, as micrograd's set gives
    assert Value(1.0)._prev == set() and Value(1.0)._op == ""


def test_constructor_children_op_and_label():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    out = Value(5.0, (a, b), "+")
    assert out._prev == {a, b} and out._op == "+" and out.data == 5.0 and out.label == ""
    out2 = Value(1.0, _children=[a], _op="custom", label="z")
    assert out2._prev == {a} and out2._op == "custom" and out2.label == "z"
    out.backward()  # a leaf of the tape, as a micrograd Value built this way is without a _backward
    assert out.grad == 1.0 and a.grad == 0.0
    with pytest.raises(TypeError, match="_children.*child 1 is float"):
        Value(1.0, (a, 2.0))
    with pytest.raises(TypeError, match="_children=...\\): expected a tuple of Values, got int"):
        Value(1.0, 5)
    with pytest.raises(TypeError, match="_op must be a str"):
        Value(1.0, (), 3)


def test_label_is_settable_and_a_labelled_value_is_what_prev_shows():
    a, b = Value(2.0), Value(3.0)
    c = a * b
    d = c * 2.0
    stand_in = next(v for v in d._prev if v.data == 6.0)
    c2 = a * b  # another node: not involved
    del c2
    c.label = "c"  # c becomes the object that _prev gives for its node
    assert next(v for v in d._prev if v.data == 6.0) is c and c.label == "c"
    del stand_in
    with pytest.raises(TypeError, match="label must be a str"):
        c.label = 3


def test_micrograd_trace_and_draw_dot_on_the_lecture_example():
    # Karpathy's "building micrograd" lecture: L = (a*b + c) * f.
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f
    L.label = "L"
    L.backward()
    nodes, edges = trace(L)
    assert {v.label for v in nodes} == {"a", "b", "c", "d", "e", "f", "L"}
    assert {(x.label, y.label) for x, y in edges} == {("a", "e"), ("b", "e"), ("e", "d"), ("c", "d"), ("d", "L"),
                                                      ("f", "L")}
    ids = {id(v) for v in nodes}
    assert all(id(x) in ids and id(y) in ids for x, y in edges)  # draw_dot names nodes by id()
    # The lecture's gradients, worked by hand: dL/dd = f, dL/df = d, dL/de = dL/dc = f, dL/da = f*b, dL/db = f*a.
    assert [v.grad for v in (L, d, f, e, c, a, b)] == [1.0, -2.0, 4.0, -2.0, -2.0, 6.0, -4.0]
    dot = graph(L)
    for text in ('{ L | data -8.0000 | grad 1.0000 }', '{ a | data 2.0000 | grad 6.0000 }',
                 '{ f | data -2.0000 | grad 4.0000 }', 'label="*"', 'label="+"'):
        assert text in dot
    assert dot.count("shape=record") == 7 and dot.count("_op [label=") == 3
    assert dot.count("->") == 3 + 6  # op -> its Value, and each input -> the op


def test_graph_of_a_value_escapes_labels_and_names_an_unlabelled_root():
    x = Value(1.0, label="x|{y}")
    dot = graph((x * 2).tanh(), name="out")
    assert "{ x\\|\\{y\\} | data 1.0000" in dot and "{ out | data" in dot
    assert "{  | data 2.0000" in dot  # the number 2 as micrograd's Value(2)
    with pytest.raises(TypeError, match="expected a Tensor or a Value, got float"):
        graph(1.0)


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_render_graph_of_a_value(tmp_path):
    v = (Value(2.0, label="w") * Value(3.0)).relu()
    path = render_graph(v, str(tmp_path / "value.svg"))
    assert os.path.getsize(path) > 0 and "ReLU" in open(path).read()


def test_prev_values_do_not_keep_nodes_alive():
    gc.collect()
    before = gdcore._core._scalar_tape_stats()["live_nodes"]
    a = Value(1.0)
    out = ((a * 2 + 1).tanh() * a) ** 2
    nodes, edges = trace(out)
    assert len(nodes) == 8 and len(edges) == 8  # a, 2, a*2, 1, +, tanh, *, **2
    del nodes, edges, out, a
    assert gdcore._core._scalar_tape_stats()["live_nodes"] == before
