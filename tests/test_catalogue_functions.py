"""Bad-input catalogue (see catalogue.py) for custom autograd Functions and micrograd's Value
internals: each wrong use raises the named error with a message that says what was wrong."""
import pytest

import gdcore as g
from catalogue import bad, check
from gdcore.autograd import Function


def _fn(backward, forward=lambda ctx, x, *rest: x * 2):
    return type("Custom", (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def _leaf():
    return g.tensor([1.0, 2.0], requires_grad=True)


def _backward(fn, *extra):
    return lambda: fn.apply(_leaf(), *extra).sum().backward()


def _twice_with_saved():
    class Saves(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2

    y = Saves.apply(_leaf()).sum()
    y.backward()
    y.backward()


def _mark_dirty_not_an_input():
    def forward(ctx, x):
        y = x * 2
        ctx.mark_dirty(y)
        return y
    _fn(lambda ctx, grad: grad, forward).apply(_leaf())


FUNCTIONS = [
    bad("too-many-gradients", _backward(_fn(lambda ctx, grad: (grad, grad))), RuntimeError,
        "function CustomBackward returned an incorrect number of gradients (expected 1, got 2)"),
    bad("too-few-gradients", _backward(_fn(lambda ctx, grad: grad), 3.0), RuntimeError,
        "incorrect number of gradients (expected 2, got 1)"),
    bad("wrong-gradient-shape", _backward(_fn(lambda ctx, grad: g.ones(3))), RuntimeError,
        "returned an invalid gradient at index 0 - got [3] but expected shape compatible with [2]"),
    bad("gradient-not-a-tensor", _backward(_fn(lambda ctx, grad: [1.0, 1.0])), TypeError,
        "returned a list ([1.0, 1.0]) as the gradient at position 1; expected a Tensor or None"),
    bad("gradient-for-a-number", _backward(_fn(lambda ctx, grad, *rest: (grad, grad)), 2.0), RuntimeError,
        "different than None at position 2, but the corresponding forward input was not a Tensor (it was a float)"),
    bad("save-a-number", lambda: _fn(lambda ctx, grad: grad, lambda ctx, x: ctx.save_for_backward(2.0)).apply(_leaf()),
        TypeError, "save_for_backward can only save tensors (or None), but argument 0 is a float"),
    bad("saved-after-free", _twice_with_saved, RuntimeError, "SavesBackward freed its saved tensors"),
    bad("mark-dirty-not-an-input", _mark_dirty_not_an_input, RuntimeError, "not an input of forward"),
    bad("legacy-call", lambda: _fn(lambda ctx, grad: grad)()(_leaf()), RuntimeError, "Custom.apply(...)"),
    bad("no-forward", lambda: Function.apply(_leaf()), NotImplementedError, "implement the forward function"),
    bad("value-children-not-values", lambda: g.Value(1.0, (g.Value(2.0), "x")), TypeError,
        "Value(_children=...): child 1 is str"),
    bad("value-op-not-a-string", lambda: g.Value(1.0, (), 5), TypeError, "_op must be a str"),
    bad("value-no-backward-attribute", lambda: setattr(g.Value(1.0), "_backward", lambda: None), AttributeError,
        "_backward"),
    bad("graph-of-a-number", lambda: g.autograd.graph(3.0), TypeError, "expected a Tensor or a Value, got float"),
]


@pytest.mark.parametrize("call, error, words", FUNCTIONS)
def test_bad_input_raises_a_clear_error(call, error, words, tmp_path):
    check(call, error, words, tmp_path)
