"""The scalar tape under gdcore.Value: graph lifetime (Values keep their inputs alive, a dropped
graph returns every node to the pool), deep chains (no recursion in backward or in release),
Values built, differentiated and dropped on several threads, and bad input with a TypeError
that says what to do. Node counts come from gdcore._core._scalar_tape_stats(); expected
gradients from closed forms.
"""
import math
import queue
import sys
import threading

import pytest

from gdcore import Value, _core


def live_nodes():
    return _core._scalar_tape_stats()["live_nodes"]


def test_values_keep_their_inputs_alive():
    base = live_nodes()
    a, b = Value(0.5), Value(-2.0)
    y = (a * b).tanh()
    del a, b  # y still reaches both leaves through its graph
    assert live_nodes() == base + 4
    y.backward()
    assert y.data == pytest.approx(math.tanh(-1.0))
    del y
    assert live_nodes() == base


def test_dropped_graphs_are_freed_over_many_steps():
    base = live_nodes()
    w = Value(0.3)
    for _ in range(3000):
        loss = ((w * 1.5 - 2.0) ** 2 + w.tanh()).exp()
        w.grad = 0.0
        loss.backward()
        w.data -= 1e-3 * w.grad
    del loss
    assert live_nodes() == base + 1  # only w
    reserved = _core._scalar_tape_stats()["reserved_nodes"]
    for _ in range(3000):  # steady state: the pool does not grow
        ((w * 1.5 - 2.0) ** 2 + w.tanh()).exp().backward()
    assert _core._scalar_tape_stats()["reserved_nodes"] == reserved


def test_kept_graphs_are_counted():
    # The control for the test above: graphs that are kept stay alive, so the counter can fail.
    base = live_nodes()
    w = Value(0.3)
    kept = [w * 2.0 + 1.0 for _ in range(100)]
    assert live_nodes() == base + 1 + 200
    del kept, w
    assert live_nodes() == base


def test_deep_chain_backward_and_release():
    # c_n = x * k^n + n * 0.5 (mul and add alternate): dc_n/dx = k^n. 100,000 links deep.
    n, k = 100_000, 1.000001
    base = live_nodes()
    x = Value(1.0)
    c = x
    for _ in range(n):
        c = c * k + 0.5
    c.backward()
    assert x.grad == pytest.approx(k ** n, rel=1e-9)
    assert c.data == pytest.approx(k ** n + 0.5 * sum(k ** i for i in range(n)), rel=1e-9)
    assert live_nodes() == base + 2 * n + 1
    del c  # frees the whole chain without recursion
    assert live_nodes() == base + 1


def test_shared_intermediate_accumulates_the_true_gradient():
    # h = 2x feeds two losses: d(3h)/dx + d(5h)/dx = 6 + 10. (micrograd would give 22 here,
    # because its second backward re-propagates h's grad left over from the first one.)
    x = Value(1.0)
    h = x * 2.0
    (h * 3.0).backward()
    (h * 5.0).backward()
    assert x.grad == 16.0 and h.grad == 8.0


def test_assigning_data_to_a_computed_value_makes_a_leaf():
    a = Value(2.0)
    y = a * 3.0
    z = y * y  # built from y's old node
    y.data = 10.0
    y.backward()
    assert y.grad == 1.0 and a.grad == 0.0  # y is a fresh leaf now
    z.backward()
    assert z.data == 36.0 and a.grad == pytest.approx(36.0)  # z's graph still has the old y = 6


def test_leaf_data_can_be_set_and_label_kept():
    v = Value(1.0, label="w")
    v.data = 4
    v.grad = 0.5
    assert v.data == 4.0 and v.grad == 0.5 and v.label == "w"
    v.label = "bias"
    assert v.label == "bias" and Value(1.0).label == ""


def test_subclass_of_value():
    class Named(Value):
        pass

    x = Named(3.0, label="x")
    y = x * x + 1
    y.backward()
    assert isinstance(x, Named) and type(y) is Value and x.grad == 6.0 and x.label == "x"
    assert (2.0 * x).data == 6.0 and (x - Value(1.0)).data == 2.0


def test_type_references_balance():
    # Each Value holds a reference to its (heap) type, also when freed Values are reused.
    class Named(Value):
        pass

    before = sys.getrefcount(Value), sys.getrefcount(Named)
    values = [Named(float(i)) * 2.0 - i for i in range(1000)]
    assert sys.getrefcount(Value) == before[0] + 1000
    del values
    assert (sys.getrefcount(Value), sys.getrefcount(Named)) == before


def run_threads(target, count):
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_threads_build_and_differentiate_values():
    base = live_nodes()
    results = {}

    def work(i):
        w = Value(0.1 * (i + 1))
        for _ in range(2000):
            loss = (w * w * 3.0 - w).tanh()
            w.grad = 0.0
            loss.backward()
            # d tanh(3w^2 - w)/dw = (1 - tanh^2) (6w - 1)
            t = math.tanh(3 * w.data ** 2 - w.data)
            assert w.grad == pytest.approx((1 - t * t) * (6 * w.data - 1), rel=1e-12)
            w.data -= 0.01 * w.grad
        results[i] = w.data

    run_threads(work, 4)
    for i in range(4):  # the same loop on floats
        w = 0.1 * (i + 1)
        for _ in range(2000):
            t = math.tanh(3 * w * w - w)
            w -= 0.01 * (1 - t * t) * (6 * w - 1)
        assert results[i] == pytest.approx(w, rel=1e-12)
    assert live_nodes() == base


def test_nodes_freed_on_another_thread():
    # One thread builds graphs, another drops them; a thread exits while its Values live on.
    base = live_nodes()
    handoff = queue.Queue()

    def producer(_):
        for i in range(5000):
            handoff.put((Value(float(i)) * 2.0).exp())
        handoff.put(None)

    def consumer(_):
        while handoff.get() is not None:
            pass

    run_threads(lambda i: (producer if i == 0 else consumer)(i), 2)
    assert live_nodes() == base

    survivors = []
    run_threads(lambda i: survivors.append(Value(1.0) * 3.0), 3)  # threads have exited
    assert live_nodes() == base + 6
    total = sum(survivors, Value(0.0))
    total.backward()
    assert total.data == 9.0
    del survivors, total
    assert live_nodes() == base


@pytest.mark.parametrize("make,match", [
    (lambda: Value("a"), r"Value\(data\): expected a real number .*got str 'a'.*float\(x\)"),
    (lambda: Value(None), r"Value\(data\): expected a real number .*NoneType"),
    (lambda: Value([1.0]), r"Value\(data\): expected a real number .*list"),
    (lambda: Value(Value(1.0)), r"Value\(data\): got a Value; pass a number"),
    (lambda: Value(1.0, label=3), r"label must be a str, got int"),
    (lambda: Value(1.0) + "a", r"Value \+ x: expected a Value or a number .*str 'a'.*float\(x\)"),
    (lambda: "a" * Value(1.0), r"x \* Value: expected a Value or a number .*str 'a'"),
    (lambda: Value(1.0) - None, r"Value - x: expected a Value or a number .*NoneType"),
    (lambda: [1.0] / Value(1.0), r"x / Value: expected a Value or a number .*list"),
    (lambda: Value(2.0) ** Value(3.0), r"only int/float powers.*\(b \* a.log\(\)\).exp\(\)"),
    (lambda: Value(2.0) ** "2", r"Value \*\* x: only int/float powers are supported, got str"),
    (lambda: 2.0 ** Value(3.0), r"x \*\* Value is not supported.*math.log"),
    (lambda: pow(Value(2.0), 2, 5), r"modulus is not supported"),
])
def test_bad_input_raises_type_error(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_bad_assignments():
    v = Value(1.0)
    with pytest.raises(TypeError, match=r"Value.data: expected a real number .*str"):
        v.data = "x"
    with pytest.raises(TypeError, match=r"Value.grad: expected a real number .*NoneType"):
        v.grad = None
    with pytest.raises(TypeError, match=r"cannot delete Value.data"):
        del v.data
    with pytest.raises(TypeError, match=r"Value.label must be a str"):
        v.label = 5
    with pytest.raises(OverflowError):
        v.data = 10 ** 400
    with pytest.raises(OverflowError):
        v + 10 ** 400
    assert v.data == 1.0 and v.grad == 0.0  # nothing changed
