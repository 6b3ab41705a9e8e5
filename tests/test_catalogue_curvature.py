"""Bad-input catalogue, curvature tools: gdcore.curvature, suggest_lr, fit(check_lr, track_sharpness), lr_find and
the optimizer race. Closures that return non-scalars or non-tensors, parameters that do not require grad, k
larger than the number of parameters, losses and Hessian-vector products that are not finite, optimizers the
stability bound does not cover, and out-of-range settings: each raises with a message that names the problem
(see catalogue.py)."""
import pytest

import gdcore
from catalogue import bad, check
from gdcore import curvature, nn, optim, plot
from gdcore.train import fit, lr_find, suggest_lr

g = gdcore


def _p(*values, requires_grad=True, dtype=g.float64):
    return g.tensor(list(values), dtype=dtype, requires_grad=requires_grad)


P = _p(1.0, 2.0)


def _square():
    return (P ** 2).sum()


def _model():
    return nn.Linear(2, 1)


def _batch():
    return g.ones(4, 2), g.zeros(4, 1)


def _fit(**options):
    model = _model()
    return fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.1), [_batch()], 1, progress=False, **options)


def _lr_find(**options):
    model = _model()
    return lr_find(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), [_batch()], **options)


def _different_groups():
    model = _model()
    opt = optim.SGD([{"params": [model.weight], "lr": 0.1}, {"params": [model.bias], "lr": 0.2}], lr=0.1)
    return suggest_lr(model, nn.MSELoss(), _batch(), opt)


def _sqrt_at_zero():
    p = g.zeros(2, dtype=g.float64, requires_grad=True)
    return curvature.top_eigenvalues(lambda: p.sqrt().sum(), p)


def _nan_loss_power():
    p = _p(1.0, float("nan"))
    return curvature.top_eigenvalues(lambda: (p ** 2).sum(), p, method="power")


CURVATURE = [
    bad("closure-vector", lambda: curvature.top_eigenvalues(lambda: P ** 2, P), ValueError,
        "closure() must return a scalar loss, got a tensor of shape (2,); reduce it with .mean() or .sum()"),
    bad("closure-float", lambda: curvature.top_eigenvalues(lambda: 1.0, P), TypeError,
        "closure() must return the loss as a gdcore.Tensor, got float"),
    bad("closure-not-callable", lambda: curvature.hessian_trace(P, P), TypeError,
        "closure must be a function that returns the loss"),
    bad("params-no-grad", lambda: curvature.top_eigenvalues(_square, [P, _p(1.0, requires_grad=False)]), ValueError,
        "params[1] (shape (1,)) does not require grad"),
    bad("params-empty", lambda: curvature.top_eigenvalues(_square, []), ValueError, "params is empty"),
    bad("params-int", lambda: curvature.top_eigenvalues(_square, [g.zeros(2, dtype=g.int64)]), TypeError,
        "params[0] has dtype int64"),
    bad("params-mixed", lambda: curvature.top_eigenvalues(_square, [P, _p(1.0, dtype=g.float32)]), TypeError,
        "params mix dtypes float32 and float64"),
    bad("params-not-tensor", lambda: curvature.top_eigenvalues(_square, [P, 3.0]), TypeError,
        "params[1] must be a gdcore.Tensor, got float"),
    bad("k-too-large", lambda: curvature.top_eigenvalues(_square, P, k=3), ValueError,
        "k=3 is larger than the number of parameters (2)"),
    bad("k-zero", lambda: curvature.top_eigenvalues(_square, P, k=0), ValueError, "k must be an integer >= 1"),
    bad("max-iter-below-k", lambda: curvature.top_eigenvalues(_square, P, k=2, max_iter=1), ValueError,
        "max_iter=1 is smaller than k=2"),
    bad("tol-negative", lambda: curvature.top_eigenvalues(_square, P, tol=-1.0), ValueError,
        "tol must be a positive number"),
    bad("method", lambda: curvature.top_eigenvalues(_square, P, method="arnoldi"), ValueError,
        "method must be one of ('lanczos', 'power')"),
    bad("init-shape", lambda: curvature.top_eigenvalues(_square, P, init=[g.zeros(3)]), ValueError,
        "init[0] must be a tensor of shape (2,)"),
    bad("init-zero", lambda: curvature.top_eigenvalues(_square, P, init=[g.zeros(2)]), ValueError,
        "init must be a finite, non-zero vector"),
    bad("loss-nan", lambda: curvature.top_eigenvalues(lambda: (P ** 2).sum() * float("nan"), P),
        FloatingPointError, "the loss is nan"),
    bad("loss-nan-power", _nan_loss_power, FloatingPointError, "the loss is nan"),
    bad("hvp-non-finite", _sqrt_at_zero, FloatingPointError, "a Hessian-vector product came out non-finite"),
    bad("trace-samples", lambda: curvature.hessian_trace(_square, P, samples=1), ValueError,
        "samples must be an integer >= 2"),
    bad("density-sigma", lambda: curvature.spectral_density(_square, P, sigma=0.0), ValueError,
        "sigma must be a positive number"),
    bad("density-loss-inf", lambda: curvature.spectral_density(lambda: (P * float("inf")).sum(), P),
        FloatingPointError, "the loss is inf"),
]

ADVISOR = [
    bad("suggest-adam", lambda: suggest_lr(_model(), nn.MSELoss(), _batch(), optim.Adam(_model().parameters())),
        ValueError, "the stability bound 2 / lambda_max is for SGD (with or without momentum), not for Adam"),
    bad("suggest-groups", _different_groups, ValueError, "parameter groups 0 and 1 have different lr (0.1 and 0.2)"),
    bad("suggest-empty-loader", lambda: suggest_lr(_model(), nn.MSELoss(), []), ValueError,
        "the loader yields no batches"),
    bad("suggest-bad-data", lambda: suggest_lr(_model(), nn.MSELoss(), 3), TypeError,
        "loader_or_batch must be an (inputs, targets) pair"),
    bad("suggest-no-parameters", lambda: suggest_lr(lambda x: x, nn.MSELoss(), _batch()), TypeError,
        "the model must have parameters()"),
    bad("fit-check-lr-value", lambda: _fit(check_lr="maybe"), ValueError,
        "check_lr must be False, True (warn) or 'error' (raise), got 'maybe'"),
    bad("fit-check-lr-adam", lambda: _fit(check_lr=True), ValueError, "not for Adam"),
    bad("fit-track-zero", lambda: _fit(track_sharpness=0), ValueError,
        "track_sharpness must be a positive integer number of steps"),
    bad("lr-find-order", lambda: _lr_find(start_lr=1.0, end_lr=0.1), ValueError,
        "end_lr must be larger than start_lr"),
    bad("lr-find-steps", lambda: _lr_find(num_steps=1), ValueError, "num_steps must be an integer >= 2"),
    bad("lr-find-smooth", lambda: _lr_find(smooth=1.0), ValueError, "smooth must be in [0, 1)"),
    bad("lr-find-nan-start", lambda: _lr_find(start_lr=float("nan")), ValueError,
        "start_lr must be a positive finite number"),
    bad("lr-find-empty", lambda: lr_find(_model(), nn.MSELoss(), optim.SGD(_model().parameters(), lr=0.1), []),
        ValueError, "the loader yields no batches"),
    bad("lr-find-function-model", lambda: lr_find(lambda x: x, nn.MSELoss(), optim.SGD([P], lr=0.1), [_batch()]),
        TypeError, "the model must be an nn.Module"),
]

RACE = [
    bad("race-unknown", lambda: plot.optimizer_race("himmelblau", None, {"SGD": lambda p: optim.SGD(p)}, 5),
        ValueError, "unknown function 'himmelblau'"),
    bad("race-x0", lambda: plot.optimizer_race("beale", [1.0], {"SGD": lambda p: optim.SGD(p)}, 5), ValueError,
        "x0 must be two finite numbers"),
    bad("race-own-f-no-x0", lambda: plot.optimizer_race(lambda x: (x ** 2).sum(), None,
                                                        {"SGD": lambda p: optim.SGD(p)}, 5),
        ValueError, "x0 is required for your own f"),
    bad("race-instance", lambda: plot.optimizer_race("beale", None, {"SGD": optim.SGD([P], lr=0.1)}, 5), TypeError,
        "optimizers['SGD'] must be a function that builds the optimizer"),
    bad("race-empty", lambda: plot.optimizer_race("beale", None, {}, 5), TypeError, "non-empty dict"),
    bad("race-steps", lambda: plot.optimizer_race("beale", None, {"SGD": lambda p: optim.SGD(p)}, 0), ValueError,
        "steps must be a positive integer"),
    bad("race-gif-path", lambda: plot.optimizer_race("beale", None, {"SGD": lambda p: optim.SGD(p)}, 5,
                                                     animate=True, path="race.png"),
        ValueError, "needs path= ending in .gif"),
    bad("sharpness-empty", lambda: plot.sharpness(gdcore.train.History()), ValueError,
        "pass track_sharpness=N to fit"),
    bad("sharpness-not-history", lambda: plot.sharpness([1.0, 2.0]), TypeError,
        "expected the History of fit(..., track_sharpness=N)"),
    bad("lr-find-plot", lambda: plot.lr_find(gdcore.train.History()), TypeError,
        "expected the result of gdcore.train.lr_find"),
]


@pytest.mark.parametrize("call, error, words", CURVATURE + ADVISOR + RACE)
def test_bad_input(call, error, words, tmp_path):
    check(call, error, words, tmp_path)
