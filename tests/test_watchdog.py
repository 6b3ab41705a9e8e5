"""The training watchdog: optimizers (opt-in check_finite=True), fit() and gdcore.optimize stop at the
step where the loss, a gradient or a parameter stops being finite, and say which step, which
parameter, which learning rate, and what to try."""
import math
import warnings

import numpy as np
import pytest

import gdcore
import gdcore.optimize
from gdcore import nn, optim
from gdcore.train import DivergenceError, fit

OPTIMIZERS = [
    (optim.SGD, dict(lr=0.1, momentum=0.9)),
    (optim.Adam, dict(lr=0.1)),
    (optim.AdamW, dict(lr=0.1)),
    (optim.RMSprop, dict(lr=0.1)),
    (optim.Adagrad, dict(lr=0.1)),
    (optim.Adadelta, dict(lr=0.1)),
]


def _params():
    return [gdcore.tensor([1.0, -2.0], requires_grad=True), gdcore.tensor([[0.5, 0.25]], requires_grad=True)]


def _set_grads(params, bad_index=None, bad_value=math.nan):
    for i, p in enumerate(params):
        g = np.full(tuple(p.shape), 0.5, dtype=np.float32)
        if i == bad_index:
            g.reshape(-1)[-1] = bad_value
        p.grad = gdcore.tensor(g)


@pytest.mark.parametrize("cls, options", OPTIMIZERS, ids=lambda v: getattr(v, "__name__", ""))
def test_non_finite_gradient_stops_before_the_update(cls, options):
    params = _params()
    opt = cls(params, check_finite=True, **options)
    for _ in range(2):  # two good steps
        _set_grads(params)
        opt.step()
    before = [p.detach().numpy().copy() for p in params]
    _set_grads(params, bad_index=1, bad_value=math.inf)
    with pytest.raises(DivergenceError) as info:
        opt.step()
    message = str(info.value)
    assert f"{cls.__name__} step 3" in message and info.value.step == 3
    assert "parameter 1 of group 0 (shape (1, 2))" in message and "holds inf" in message
    assert "lr=0.1" in message and info.value.lr == 0.1
    assert "smaller learning rate (e.g. lr=0.01)" in message and "standardise the features" in message
    assert "were not updated" in message
    for b, p in zip(before, params):  # the last finite values are kept
        np.testing.assert_array_equal(b, p.detach().numpy())


@pytest.mark.parametrize("cls, options", OPTIMIZERS, ids=lambda v: getattr(v, "__name__", ""))
def test_without_the_flag_nothing_is_checked(cls, options):
    params = _params()
    opt = cls(params, **options)
    _set_grads(params, bad_index=0)
    opt.step()  # torch's behaviour: the nan goes into the parameter silently
    assert np.isnan(params[0].detach().numpy()).any()


def test_parameter_overflowing_in_the_update_is_named_with_its_step():
    big = gdcore.tensor([3.0e38, 1.0], requires_grad=True)  # near float32's largest value
    small = gdcore.tensor([1.0], requires_grad=True)
    opt = optim.SGD([small, big], lr=1.0, check_finite=True)
    big.grad, small.grad = gdcore.tensor([0.0, 0.0]), gdcore.tensor([0.0])
    opt.step()  # step 1: nothing moves
    big.grad = gdcore.tensor([-1.0e38, 0.0])  # finite, but 3e38 + 1e38 overflows float32
    small.grad = gdcore.tensor([0.0])
    with pytest.raises(DivergenceError, match=r"SGD step 2: parameter 1 of group 0 \(shape \(2,\)\) became inf "
                                              r"after the update \(lr=1\)") as info:
        opt.step()
    assert "reload them from a checkpoint" in str(info.value)
    assert info.value.parameter == "parameter 1 of group 0 (shape (2,))"


def test_named_parameters_are_named_in_the_error():
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    opt = optim.Adam(model.named_parameters(), lr=0.01, check_finite=True)
    assert opt.param_groups[0]["param_names"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    X = gdcore.randn(4, 3)
    X[1, 2] = math.nan  # a missing value in the data
    gdcore.mse_loss(model(X), gdcore.zeros(4, 1)).backward()
    with pytest.raises(DivergenceError, match=r"step 1: the gradient of parameter '0.weight' \(shape \(2, 3\)\) "
                                              r"holds nan \(lr=0.01\)"):
        opt.step()


def test_closure_loss_is_checked():
    w = gdcore.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.5, check_finite=True)

    def closure():
        opt.zero_grad()
        loss = (w * math.inf).sum()
        loss.backward()
        return loss

    with pytest.raises(DivergenceError, match=r"SGD step 1: the closure's loss is inf \(lr=0.5\)"):
        opt.step(closure)
    assert w.item() == 1.0


def test_flag_is_validated_and_saved_with_the_groups():
    with pytest.raises(TypeError, match="check_finite must be True or False, got 'yes'"):
        optim.SGD(_params(), lr=0.1, check_finite="yes")
    opt = optim.SGD([{"params": _params()[:1], "check_finite": True}, {"params": _params()[1:]}], lr=0.1)
    assert [g["check_finite"] for g in opt.state_dict()["param_groups"]] == [True, False]


def test_the_flag_is_refused_inside_a_compiled_step():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1, check_finite=True)

    @gdcore.compile
    def step(X, y):
        opt.zero_grad()
        loss = gdcore.mse_loss(model(X), y)
        loss.backward()
        opt.step()
        return loss

    with pytest.raises(RuntimeError, match=r"SGD\(check_finite=True\) reads every gradient and parameter"):
        step(gdcore.randn(4, 2), gdcore.randn(4, 1))


def test_a_real_divergence_is_caught_by_the_optimizer():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)) * 1000.0  # unstandardised features
    y = X @ np.array([[0.5], [-1.0], [2.0]])
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.named_parameters(), lr=0.1, check_finite=True)
    Xt, yt = gdcore.tensor(X, dtype=gdcore.float32), gdcore.tensor(y, dtype=gdcore.float32)
    with pytest.raises(DivergenceError) as info:
        for _ in range(1000):
            opt.zero_grad()
            gdcore.mse_loss(model(Xt), yt).backward()
            opt.step()
    # lr=0.1 is ~1e5 times the stable 2/lambda_max here: |w| grows ~1e5-fold a step and leaves float32 in < 10 steps.
    assert 1 <= info.value.step < 10
    assert "'weight'" in str(info.value) or "'bias'" in str(info.value)


# ---- fit -------------------------------------------------------------------------------------------

def _overflowing_linear():
    """A 1x1 linear model at w = 1 and a sample x = 1e10, y = 0: the loss (w x)^2 = 1e20 and its gradient
    2 w x^2 = 2e20 are finite in float32, but with lr = 1e30 the update w - 2e50 overflows to -inf."""
    model = nn.Linear(1, 1, bias=False)
    with gdcore.no_grad():
        model.weight.fill_(1.0)
    return model, (gdcore.tensor([[1.0e10]]), gdcore.tensor([[0.0]]))


def test_fit_names_the_non_finite_parameters():
    model, batch = _overflowing_linear()
    with pytest.raises(DivergenceError) as info:  # step 1 overflows w; step 2's loss is inf
        fit(model, gdcore.mse_loss, optim.SGD(model.parameters(), lr=1e30), [batch, batch], 3, progress=False)
    message = str(info.value)
    assert message.startswith("the loss became inf (step 2, epoch 1, lr=1e+30)")
    assert "smaller learning rate (e.g. lr=1e+29)" in message and "standardise" in message
    assert message.endswith("Non-finite parameters: 'weight' (shape (1, 1)).")
    assert info.value.parameter == "'weight' (shape (1, 1))" and info.value.step == 2


def test_fit_catches_parameters_left_non_finite_by_the_last_step():
    model, batch = _overflowing_linear()  # one batch, one epoch: no later loss would show the overflow
    with pytest.raises(DivergenceError, match=r"parameter 'weight' \(shape \(1, 1\)\) became non-finite by step 1 "
                                              r"\(epoch 1, lr=1e\+30\)"):
        fit(model, gdcore.mse_loss, optim.SGD(model.parameters(), lr=1e30), [batch], 1, progress=False)


# ---- gdcore.optimize -----------------------------------------------------------------------------

def test_optimize_flags_a_blow_up_with_step_and_lr():
    # x_{k+1} = x_k - 1.5 * 2 x_k = -2 x_k, so |x_k| = 2^k first exceeds max_norm = 1e6 at k = 20.
    with pytest.warns(RuntimeWarning, match=r"gd diverged at step 20 with lr=1.5: .* try a smaller lr"):
        result = gdcore.optimize.gd(lambda x: x ** 2, 1.0, lr=1.5, steps=100)
    assert result.diverged and not result.converged and result.iterations == 20
    assert result.x == pytest.approx((-2.0) ** 20)


def test_optimize_flags_a_non_finite_value():
    # f = sqrt(x) from x0 = 1 with lr = 4: x1 = 1 - 4 * 0.5 = -1, where f is nan.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = gdcore.optimize.gd(lambda x: x.sqrt(), 1.0, lr=4.0, steps=10)
    assert result.diverged and result.iterations == 1 and "step 1" in result.reason and "lr=4" in result.reason
    assert "nan" in result.reason
    assert any(issubclass(w.category, RuntimeWarning) and "diverged at step 1" in str(w.message) for w in caught)
