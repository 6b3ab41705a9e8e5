"""Custom autograd Functions (gdcore.autograd.Function): torch's protocol, checked against
closed forms, numpy and finite differences; second order through a Function; the errors a
wrong backward gets; lifetime (no cycles, saved tensors freed, deep chains, no leak); threads;
gdcore.compile replaying steps that use Functions."""
import gc
import json
import math
import os
import subprocess
import sys
import threading
import weakref

import numpy as np
import pytest

import gdcore
from gdcore import nn, optim
from gdcore.autograd import Function, gradcheck, once_differentiable

F64 = gdcore.float64


def rand(*shape, requires_grad=True, seed=0):
    rng = np.random.default_rng(seed)
    return gdcore.tensor(rng.standard_normal(shape), dtype=F64, requires_grad=requires_grad)


# ---- the PyTorch tutorials' Functions, unchanged but for the import ------------------------------


class LegendrePolynomial3(gdcore.autograd.Function):
    """From PyTorch's "Learning PyTorch with Examples" (polynomial_custom_function.py)."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class MyReLU(gdcore.autograd.Function):
    """From the same tutorial's older two-layer-net version (two_layer_net_custom_function.py)."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


def test_legendre_tutorial_fit_matches_numpy():
    # The tutorial's loop (its `device=` arguments left out: they are another item of issue 11).
    torch = gdcore
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    for t in range(2000):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    # The same gradient descent written out in numpy (float64), with P3 and P3' in closed form.
    xs = np.linspace(-math.pi, math.pi, 2000)
    ys = np.sin(xs)
    p = np.array([0.0, -1.0, 0.0, 0.3])
    for _ in range(2000):
        u = p[2] + p[3] * xs
        p3, dp3 = 0.5 * (5 * u ** 3 - 3 * u), 1.5 * (5 * u ** 2 - 1)
        r = 2 * (p[0] + p[1] * p3 - ys)
        p -= learning_rate * np.array([r.sum(), (r * p3).sum(), (r * p[1] * dp3).sum(), (r * p[1] * dp3 * xs).sum()])
    got = np.array([a.item(), b.item(), c.item(), d.item()])
    assert np.allclose(got, p, rtol=2e-3, atol=1e-5), (got, p)
    assert abs(got[1] - -2.2) < 0.05 and abs(got[3] - 0.255) < 0.01  # the tutorial's printed result


def test_my_relu_tutorial_two_layer_net_matches_numpy():
    torch = gdcore
    torch.manual_seed(0)
    N, D_in, H, D_out = 16, 10, 8, 3
    x, y = torch.randn(N, D_in, dtype=torch.float64), torch.randn(N, D_out, dtype=torch.float64)
    w1 = torch.randn(D_in, H, dtype=torch.float64, requires_grad=True)
    w2 = torch.randn(H, D_out, dtype=torch.float64, requires_grad=True)
    W1, W2, X, Y = w1.detach().numpy().copy(), w2.detach().numpy().copy(), x.numpy(), y.numpy()
    learning_rate = 1e-4
    for t in range(50):
        relu = MyReLU.apply
        y_pred = relu(x.mm(w1)).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
        h = X @ W1
        g = 2 * (np.maximum(h, 0) @ W2 - Y)
        gw2 = np.maximum(h, 0).T @ g
        gw1 = X.T @ ((g @ W2.T) * (h > 0))
        W1, W2 = W1 - learning_rate * gw1, W2 - learning_rate * gw2
    assert np.allclose(w1.detach().numpy(), W1) and np.allclose(w2.detach().numpy(), W2)


# The examples of PyTorch's "Extending PyTorch" note (LinearFunction with setup_context, MulConstant,
# MyCube's double backward, the Linear module around LinearFunction).


class LinearFunction(gdcore.autograd.Function):
    @staticmethod
    def forward(input, weight, bias):
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand(output.shape)  # the note: .expand_as(output) (not in gdcore yet)
        return output

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, weight, bias = inputs
        ctx.save_for_backward(input, weight, bias)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class MulConstant(gdcore.autograd.Function):
    @staticmethod
    def forward(tensor, constant):
        return tensor * constant

    @staticmethod
    def setup_context(ctx, inputs, output):
        tensor, constant = inputs
        ctx.constant = constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


class MyCube(gdcore.autograd.Function):
    @staticmethod
    def forward(x):
        result = x ** 3
        dx = 3 * x ** 2
        return result, dx

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, = inputs
        result, dx = output
        ctx.save_for_backward(x, dx)

    @staticmethod
    def backward(ctx, grad_output, grad_dx):
        x, dx = ctx.saved_tensors
        result = grad_output * dx + grad_dx * 6 * x
        return result


def my_cube(x):
    result, dx = MyCube.apply(x)
    return result


class Linear(nn.Module):
    def __init__(self, input_features, output_features, bias=True):
        super().__init__()
        self.input_features = input_features
        self.output_features = output_features
        self.weight = nn.Parameter(gdcore.empty(output_features, input_features))
        if bias:
            self.bias = nn.Parameter(gdcore.empty(output_features))
        else:
            self.register_parameter('bias', None)
        nn.init.uniform_(self.weight, -0.1, 0.1)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -0.1, 0.1)

    def forward(self, input):
        return LinearFunction.apply(input, self.weight, self.bias)


def test_extending_pytorch_examples():
    torch = gdcore
    input = (torch.randn(20, 20, dtype=torch.double, requires_grad=True),
             torch.randn(30, 20, dtype=torch.double, requires_grad=True))
    assert torch.autograd.gradcheck(lambda x, w: LinearFunction.apply(x, w, None), input, eps=1e-6, atol=1e-4)
    b = torch.randn(30, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(LinearFunction.apply, (*input, b))
    assert torch.autograd.gradcheck(lambda t: MulConstant.apply(t, 2.5), (input[0],))
    x = torch.randn(5, requires_grad=True, dtype=torch.double)
    assert torch.autograd.gradcheck(my_cube, (x,))
    # gradgradcheck's job, by hand: the derivative of 3x^2 (through the saved output dx) is 6x.
    (g,) = torch.autograd.grad(my_cube(x).sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    assert np.allclose(g.detach().numpy(), 3 * x.detach().numpy() ** 2) and np.allclose(h.numpy(), 6 * x.detach().numpy())


def test_linear_module_around_a_function_trains_like_nn_linear():
    gdcore.manual_seed(0)
    custom = Linear(3, 2)
    reference = nn.Linear(3, 2)
    with gdcore.no_grad():
        reference.weight.copy_(custom.weight)
        reference.bias.copy_(custom.bias)
    x, y = gdcore.randn(8, 3), gdcore.randn(8, 2)
    for model in (custom, reference):
        opt = optim.SGD(model.parameters(), lr=0.1)
        for _ in range(20):
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()
    assert np.allclose(custom.weight.detach().numpy(), reference.weight.detach().numpy(), atol=1e-6)
    assert np.allclose(custom.bias.detach().numpy(), reference.bias.detach().numpy(), atol=1e-6)
    no_bias = Linear(3, 2, bias=False)
    no_bias(x).sum().backward()
    assert no_bias.bias is None and no_bias.weight.grad.shape == (2, 3)


# ---- the protocol ---------------------------------------------------------------------------------


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)  # an output: kept detached, attached again for create_graph
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class ScaledPow(Function):
    """x ** n * alpha with two non-tensor arguments; backward returns None for them."""

    @staticmethod
    def forward(ctx, x, n, alpha=1.0):
        ctx.save_for_backward(x)
        ctx.n, ctx.alpha = n, alpha
        return x ** n * alpha

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.n * x ** (ctx.n - 1) * ctx.alpha, None, None


class MulAdd(Function):
    """x * y + z with broadcasting; backward returns broadcast gradients, which apply() reduces as torch does."""

    @staticmethod
    def forward(ctx, x, y, z):
        ctx.save_for_backward(x, y)
        return x * y + z

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * y, grad * x, grad


class SplitHalves(Function):
    """Two outputs: the first and the second half of a 1-d tensor, the second one scaled by 3."""

    @staticmethod
    def forward(ctx, x):
        n = x.shape[0] // 2
        ctx.n = n
        return x[:n].clone(), x[n:] * 3

    @staticmethod
    def backward(ctx, ga, gb):
        return gdcore.cat([ga, gb * 3])


def test_save_for_backward_and_second_order_through_saved_output():
    x = gdcore.tensor([0.5, -1.0, 2.0], dtype=F64, requires_grad=True)
    y = Exp.apply(x)
    assert y.grad_fn.name() == "ExpBackward" and y.requires_grad and not y.is_leaf
    (g,) = gdcore.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = gdcore.autograd.grad(g.sum(), x)
    assert np.allclose(g.detach().numpy(), np.exp([0.5, -1.0, 2.0]))
    assert np.allclose(h.numpy(), np.exp([0.5, -1.0, 2.0]))  # d/dx exp = exp, twice


def test_second_order_of_legendre_and_hessian():
    x = gdcore.tensor([0.3, -0.7], dtype=F64, requires_grad=True)
    (g,) = gdcore.autograd.grad(LegendrePolynomial3.apply(x).sum(), x, create_graph=True)
    (h,) = gdcore.autograd.grad(g.sum(), x)
    xs = np.array([0.3, -0.7])
    assert np.allclose(g.detach().numpy(), 1.5 * (5 * xs ** 2 - 1)) and np.allclose(h.numpy(), 15 * xs)
    H = gdcore.autograd.hessian(lambda v: LegendrePolynomial3.apply(v).sum(), x)
    assert np.allclose(H.numpy(), np.diag(15 * xs))


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 4)])
def test_gradcheck_on_functions(shape):
    x = rand(*shape, seed=1)
    assert gradcheck(LegendrePolynomial3.apply, [x])
    assert gradcheck(Exp.apply, [x])
    assert gradcheck(lambda v: ScaledPow.apply(v, 3, alpha=0.5), [x])


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3), (2, 3)), ((3, 1), (1, 4), (4,)), ((), (2, 2), (1,))])
def test_gradcheck_broadcasting_function(shapes):
    xs = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    assert gradcheck(MulAdd.apply, xs)


def test_gradcheck_through_two_outputs():
    x = rand(6, seed=3)
    assert gradcheck(lambda v: (lambda a, b: a * a + b.exp())(*SplitHalves.apply(v)), [x])


def test_non_tensor_arguments_kwargs_and_needs_input_grad():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x, k, w):
            seen["needs"] = ctx.needs_input_grad
            return x * k * w

        @staticmethod
        def backward(ctx, grad):
            return None, None, grad * 2.0

    x = gdcore.tensor([1.0, 2.0])
    w = gdcore.tensor([3.0, 4.0], requires_grad=True)
    out = Probe.apply(x, 2.0, w=w)
    assert seen["needs"] == (False, False, True)
    out.sum().backward()
    assert w.grad.tolist() == [2.0, 2.0] and x.grad is None
    with gdcore.no_grad():
        Probe.apply(x, 2.0, w)
    assert seen["needs"] == (False, False, False)


def test_several_outputs_materialized_and_not():
    x = gdcore.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = SplitHalves.apply(x)
    assert a.grad_fn is b.grad_fn and a.grad_fn.name() == "SplitHalvesBackward"
    (b * gdcore.tensor([1.0, 10.0])).sum().backward()  # no gradient reaches a: backward gets zeros for it
    assert x.grad.tolist() == [0.0, 0.0, 3.0, 30.0]

    got = {}

    class Lazy(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x.clone(), x * 2

        @staticmethod
        def backward(ctx, ga, gb):
            got["ga"], got["gb"] = ga, gb
            return gb * 2 if ga is None else ga + gb * 2

    x = gdcore.tensor([1.0, 2.0], requires_grad=True)
    _, second = Lazy.apply(x)
    second.sum().backward()
    assert got["ga"] is None and got["gb"].tolist() == [1.0, 1.0] and x.grad.tolist() == [2.0, 2.0]


def test_grad_with_respect_to_an_output_and_next_functions_name_the_output():
    x = gdcore.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = SplitHalves.apply(x)
    (gb, ga) = gdcore.autograd.grad((b * 5 + a).sum(), [b, a])
    assert gb.tolist() == [5.0, 5.0] and ga.tolist() == [1.0, 1.0]
    c = MulAdd.apply(b, a, 1.0)
    assert [(fn.name(), nr) for fn, nr in c.grad_fn.next_functions] == [("SplitHalvesBackward", 1),
                                                                          ("SplitHalvesBackward", 0)]
    assert "MulAddBackward" in gdcore.autograd.graph(c)


def test_in_place_change_of_an_output_keeps_its_output_number():
    x = gdcore.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = SplitHalves.apply(x)
    b.mul_(2)  # the copy of b's history that mul_ records must still be output 1
    b.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 6.0, 6.0]


def test_mark_non_differentiable_and_integer_outputs():
    class SortLike(Function):
        @staticmethod
        def forward(ctx, x):
            mask = (x * 0 + 1)
            ctx.mark_non_differentiable(mask)
            return x * 2, mask, gdcore.arange(3)

        @staticmethod
        def backward(ctx, g, gmask, gidx):
            assert gmask.tolist() == [0.0, 0.0, 0.0]  # materialized zeros for the non-differentiable output
            assert gidx.tolist() == [0, 0, 0]
            return g * 2

    x = gdcore.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y, mask, idx = SortLike.apply(x)
    assert y.requires_grad and not mask.requires_grad and not idx.requires_grad and mask.grad_fn is None
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_mark_dirty_in_place_function():
    class AddOne_(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1.0)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = gdcore.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    out = AddOne_.apply(h)
    assert out is h and h.tolist() == [4.0, 7.0] and h.grad_fn.name() == "AddOne_Backward"
    h.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        AddOne_.apply(gdcore.tensor([1.0], requires_grad=True))


def test_returning_an_input_does_not_change_the_input():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = gdcore.tensor([1.0, 2.0], requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and y.grad_fn.name() == "IdentityBackward"
    assert y.data_ptr() == x.data_ptr()  # an alias, as torch's view of the input
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_setup_context_style():
    class Cube(Function):
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    x = rand(4)
    assert gradcheck(Cube.apply, [x])
    y = Cube.apply(x)
    (g,) = gdcore.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = gdcore.autograd.grad(g.sum(), x)
    assert np.allclose(h.numpy(), 6 * x.detach().numpy())


def test_once_differentiable():
    class NumpyTanh(Function):
        @staticmethod
        def forward(ctx, x):
            y = gdcore.tensor(np.tanh(x.detach().numpy()), dtype=x.dtype)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return gdcore.tensor(g.numpy() * (1 - y.numpy() ** 2), dtype=g.dtype)

    x = rand(5)
    assert gradcheck(NumpyTanh.apply, [x])
    (g,) = gdcore.autograd.grad(NumpyTanh.apply(x).sum(), x, create_graph=True)
    assert np.allclose(g.detach().numpy(), 1 - np.tanh(x.detach().numpy()) ** 2)
    with pytest.raises(RuntimeError, match="differentiate twice a function that was marked with @once_differentiable"):
        gdcore.autograd.grad(g.sum(), x)


def test_retain_graph_and_freed_saved_tensors():
    x = gdcore.tensor([1.0, 2.0], requires_grad=True)
    y = LegendrePolynomial3.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [2 * 1.5 * (5 - 1), 2 * 1.5 * (20 - 1)]
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*LegendrePolynomial3Backward"):
        y.backward()


def test_saved_tensor_changed_in_place_is_caught():
    x = gdcore.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = LegendrePolynomial3.apply(h)
    with gdcore.no_grad():
        h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*LegendrePolynomial3Backward"):
        y.sum().backward()


def test_retain_grad_on_a_function_output():
    x = gdcore.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = SplitHalves.apply(x)
    b.retain_grad()
    (b * 2).sum().backward()
    assert b.grad.tolist() == [2.0, 2.0] and x.grad.tolist() == [0.0, 0.0, 6.0, 6.0]


# ---- what a wrong Function gets -----------------------------------------------------------------------


def _function(backward, forward=lambda ctx, x, *rest: x * 2):
    return type("Bad", (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def test_too_many_and_too_few_gradients():
    x = gdcore.tensor([1.0, 2.0], requires_grad=True)
    too_many = _function(lambda ctx, g: (g, g))
    with pytest.raises(RuntimeError, match=r"function BadBackward returned an incorrect number of gradients "
                                           r"\(expected 1, got 2\).*float32 Tensor of shape \(2,\)"):
        too_many.apply(x).sum().backward()
    too_few = _function(lambda ctx, g: (g,))
    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 2, got 1\).*\(Tensor, float\)"):
        too_few.apply(x, 3.0).sum().backward()
    extra_nones = _function(lambda ctx, g: (g * 2, None, None))  # accepted, as in torch
    extra_nones.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_wrong_shape_and_wrong_type():
    x = gdcore.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    wrong = _function(lambda ctx, g: gdcore.ones(3))
    with pytest.raises(RuntimeError, match=r"function BadBackward returned an invalid gradient at index 0 - got \[3\] "
                                           r"but expected shape compatible with \[2, 2\]"):
        wrong.apply(x).sum().backward()
    not_a_tensor = _function(lambda ctx, g: 1.0)
    with pytest.raises(TypeError, match="function BadBackward returned a float .* expected a Tensor or None"):
        not_a_tensor.apply(x).sum().backward()
    grad_for_a_number = _function(lambda ctx, g, *rest: (g, g))
    with pytest.raises(RuntimeError, match="different than None at position 2.*not a Tensor \\(it was a int\\)"):
        grad_for_a_number.apply(x, 3).sum().backward()


def test_a_backward_that_raises_propagates_with_its_traceback():
    class Oops(ValueError):
        pass

    def backward(ctx, g):
        raise Oops("bad backward")

    x = gdcore.tensor([1.0], requires_grad=True)
    with pytest.raises(Oops, match="bad backward") as info:
        _function(backward).apply(x).sum().backward()
    assert any(entry.name == "backward" for entry in info.traceback)
    with pytest.raises(Oops):  # from autograd.grad too
        gdcore.autograd.grad(_function(backward).apply(x).sum(), x)


def test_legacy_and_missing_methods():
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward"):
        LegendrePolynomial3()(gdcore.tensor([1.0]))

    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    x = gdcore.tensor([1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="implement either the backward"):
        NoBackward.apply(x).sum().backward()
    with pytest.raises(TypeError, match="save_for_backward can only save tensors"):
        _function(lambda ctx, g: g, forward=lambda ctx, x: ctx.save_for_backward(x, 2.0)).apply(x)


# ---- lifetime, threads ----------------------------------------------------------------------------


class Tracked(Function):
    contexts: list = []

    @staticmethod
    def forward(ctx, x):
        Tracked.contexts.append(weakref.ref(ctx))
        y = x * 2
        ctx.save_for_backward(x, y)  # an input and an output
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * 2


def test_graph_and_ctx_are_freed_without_the_cycle_collector():
    gc.disable()
    try:
        Tracked.contexts.clear()
        x = gdcore.tensor([1.0, 2.0], requires_grad=True)
        y = Tracked.apply(x * 1)
        node = weakref.ref(y)
        assert Tracked.contexts[0]() is not None
        del y
        assert node() is None and Tracked.contexts[0]() is None  # freed by reference counts alone
        y = Tracked.apply(x * 1)
        y.sum().backward()
        ctx = Tracked.contexts[1]()
        assert ctx is not None and ctx._saved is None  # saved tensors let go after backward
        del y, ctx
        assert Tracked.contexts[1]() is None
    finally:
        gc.enable()


def test_a_deep_chain_of_functions_backwards_and_frees():
    x = gdcore.tensor([0.5], dtype=F64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = ScaledPow.apply(y, 1, 1.0)
    y.backward()
    assert x.grad.item() == 1.0
    del y  # 10,000 nodes, each owning a ctx that owns the previous output: freed in a loop


def test_backward_from_other_threads():
    results, errors = {}, []

    def work(k):
        try:
            x = gdcore.tensor([0.1 * k, 0.2], dtype=F64, requires_grad=True)
            for _ in range(50):
                x.grad = None
                LegendrePolynomial3.apply(Exp.apply(x)).sum().backward()
            results[k] = x.grad.numpy().copy()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, g in results.items():
        u = np.exp([0.1 * k, 0.2])
        assert np.allclose(g, 1.5 * (5 * u ** 2 - 1) * u)


def test_backward_in_a_thread_of_a_graph_made_in_another():
    x = gdcore.tensor([0.3], dtype=F64, requires_grad=True)
    y = Exp.apply(x).sum()
    t = threading.Thread(target=y.backward)
    t.start()
    t.join()
    assert x.grad.item() == pytest.approx(math.exp(0.3))


LEAK_CHILD = r"""
import gc, json, os, sys
import gdcore
from gdcore.autograd import Function

class Mul(Function):
    @staticmethod
    def forward(ctx, x, w):
        y = x * w
        ctx.save_for_backward(x, w, y)
        return y, y.sum()

    @staticmethod
    def backward(ctx, gy, gs):
        x, w, y = ctx.saved_tensors
        return gy * w + gs * w, (gy * x + gs * x).sum(0)

x, w = gdcore.randn(8, 4, requires_grad=True), gdcore.randn(4, requires_grad=True)

def resident_bytes():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def growth(work, n):
    for _ in range(2000):
        work()
    before = resident_bytes()
    for _ in range(n):
        work()
    return resident_bytes() - before

def train():
    y, s = Mul.apply(x, w)
    (y.sum() + s).backward()
    x.grad = w.grad = None

def dropped():
    Mul.apply(x, w)

gc.disable()  # a reference cycle would now stay: the growth shows it
print(json.dumps({"train": growth(train, int(sys.argv[1])), "dropped": growth(dropped, int(sys.argv[1]))}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc/self/statm (Linux)")
@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""), reason="resident memory under AddressSanitizer")
def test_no_leak_over_many_function_steps():
    python_dir = os.path.dirname(os.path.dirname(os.path.abspath(gdcore.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [python_dir, os.environ.get("PYTHONPATH")])))
    n = 20_000  # a leaked ctx (a dict, three tensors, a node) per step would be several MB
    done = subprocess.run([sys.executable, "-c", LEAK_CHILD, str(n)], capture_output=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    grew = json.loads(done.stdout)
    assert grew["train"] < 2 * 2**20 and grew["dropped"] < 2 * 2**20, grew


# ---- gdcore.compile -------------------------------------------------------------------------------


class NumpySquare(Function):
    """Its forward reads values into numpy, which a captured step may not do: inside a Function it runs again at
    every replay, so it is allowed."""
    calls = 0

    @staticmethod
    def forward(ctx, r, scale):
        NumpySquare.calls += 1
        ctx.save_for_backward(r)
        ctx.scale = scale
        return gdcore.tensor(scale * r.detach().numpy() ** 2, dtype=r.dtype)

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        return g * 2 * ctx.scale * r, None


def _function_step(model, optimizer, fn):
    def step(x, y):
        optimizer.zero_grad()
        loss = fn(model(x) - y).mean()
        loss.backward()
        optimizer.step()
        return loss
    return step


@pytest.mark.parametrize("which", ["legendre", "numpy"])
def test_compile_replays_steps_with_functions_bit_identically(which):
    fn = LegendrePolynomial3.apply if which == "legendre" else (lambda r: NumpySquare.apply(r, 0.5))
    gdcore.manual_seed(0)
    x, y = gdcore.randn(16, 3), gdcore.randn(16, 1)
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(1)
        model = nn.Linear(3, 1)
        optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        step = _function_step(model, optimizer, fn)
        if compiled:
            step = gdcore.compile(step)
        NumpySquare.calls = 0
        losses = [step(x, y).detach().numpy().tobytes() for _ in range(6)]
        runs.append((losses, [p.detach().numpy().tobytes() for p in model.parameters()], step, NumpySquare.calls))
    (eager_losses, eager_params, _, eager_calls), (losses, params, step, calls) = runs
    assert losses == eager_losses and params == eager_params
    assert calls == eager_calls  # the Python forward ran at every replay, as in the eager steps
    (capture,) = step._captures.values()
    assert capture.program.replays == 5
    name = "LegendrePolynomial3" if which == "legendre" else "NumpySquare"
    assert capture.program.lowering == (f"op by op: it calls the custom autograd.Function {name} "
                                        "(Python code that runs at every replay)")
    assert name + "(" in capture.program.describe()


def test_compile_refuses_a_replay_whose_function_changes_its_output_shape():
    state = {"n": 2}

    class Varying(Function):
        @staticmethod
        def forward(ctx, x):
            return x[: state["n"]].clone()

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("not reached")

    step = gdcore.compile(lambda x: Varying.apply(x) * 2)
    x = gdcore.tensor([1.0, 2.0, 3.0])
    step(x)
    assert step(x).tolist() == [2.0, 4.0]
    state["n"] = 3
    with pytest.raises(RuntimeError, match="custom Function Varying returned .*shape \\(3,\\).*shape \\(2,\\)\\] when the "
                                           "step was captured"):
        step(x)


def test_compile_run_epoch_with_a_function_matches_the_eager_loop():
    from gdcore.data import DataLoader, TensorDataset
    gdcore.manual_seed(0)
    X, Y = gdcore.randn(32, 3), gdcore.randn(32, 1)
    results = []
    for compiled in (False, True):
        gdcore.manual_seed(1)
        model = nn.Linear(3, 1)
        optimizer = optim.SGD(model.parameters(), lr=0.05)
        step = _function_step(model, optimizer, LegendrePolynomial3.apply)
        loader = DataLoader(TensorDataset(X, Y), batch_size=8)
        if compiled:
            losses = gdcore.compile(step).run_epoch(loader).tolist()
        else:
            losses = [step(xb, yb).item() for xb, yb in loader]
        results.append((losses, [p.detach().numpy().tobytes() for p in model.parameters()]))
    assert results[0] == results[1]
