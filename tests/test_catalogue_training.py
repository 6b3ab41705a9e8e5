"""Bad-input catalogue, part 2: layers, optimizers, schedules, data loading, training and gdcore.optimize.

Layer inputs of the wrong shape, dtype or rank; negative, zero, NaN and infinite learning rates and
other hyperparameters (at construction and when changed between steps); batch sizes of 0 or below;
unknown optimizer options; state dicts with missing, extra or mis-shaped keys; training loops fed
empty, malformed or non-finite data. Each must raise the right exception with a message that names
the problem (see catalogue.py).
"""
import math

import pytest

import gdcore
import gdcore.optimize
from catalogue import bad, check
from gdcore import nn, optim
from gdcore.data import DataLoader, TensorDataset, default_collate
from gdcore.train import DivergenceError, check_finite, evaluate_loss, fit

g = gdcore


def _params():
    return nn.Linear(2, 2).parameters()


def _step_after_setting(cls, key, value, **options):
    p = g.zeros(2, requires_grad=True)
    opt = cls([p], lr=0.1, **options)
    p.grad = g.ones(2)
    opt.param_groups[0][key] = value
    opt.step()


def _load_optimizer_state(state):
    optim.SGD(_params(), lr=0.1, momentum=0.9).load_state_dict(state)


def _group(params, **options):
    defaults = dict(lr=0.1, momentum=0.9, dampening=0, weight_decay=0, nesterov=False, maximize=False)
    return {"params": params, **defaults, **options}


def _fit(batches, epochs=1, **options):
    model = nn.Linear(1, 1)
    return fit(model, gdcore.mse_loss, optim.SGD(model.parameters(), lr=0.1), batches, epochs, progress=False,
               **options)


def _one_batch(x=0.0, width=1, target_width=1):
    return [(g.full((2, width), x), g.zeros(2, target_width))]


LAYERS = [
    bad("linear-features", lambda: nn.Linear(3, 2)(g.zeros(4, 5)), ValueError,
        "input of shape (4, 5) has 5 features but weight of shape (2, 3) expects 3"),
    bad("linear-0d", lambda: nn.Linear(3, 2)(g.zeros(())), ValueError, "input of shape () has 0 features"),
    bad("linear-int", lambda: nn.Linear(3, 2)(g.zeros(4, 3, dtype=g.int64)), ValueError, "dtypes int64 and float32"),
    bad("linear-numpy", lambda: nn.Linear(3, 2)(__import__("numpy").zeros((4, 3))), TypeError,
        "input must be a gdcore.Tensor, got ndarray"),
    bad("linear-negative-size", lambda: nn.Linear(-1, 3), ValueError, "in_features must be an int >= 0, got -1"),
    bad("linear-float-size", lambda: nn.Linear(3.5, 3), ValueError, "got 3.5"),
    bad("linear-bias-shape", lambda: nn.functional.linear(g.zeros(2, 3), g.zeros(3, 3), g.zeros(2)), ValueError,
        "bias must have shape (3,), got (2,)"),
    bad("linear-weight-1d", lambda: nn.functional.linear(g.zeros(2, 3), g.zeros(3)), ValueError,
        "weight must be 2-d (out_features, in_features), got shape (3,)"),
    bad("conv-channels", lambda: nn.Conv2d(1, 2, 3)(g.zeros(1, 2, 5, 5)), ValueError,
        "has 2 channels but weight of shape (2, 1, 3, 3) expects 1"),
    bad("conv-small-input", lambda: nn.Conv2d(1, 2, 3)(g.zeros(1, 1, 2, 2)), ValueError,
        "kernel size (3, 3) is larger than the padded input (2, 2)"),
    bad("conv-2d-input", lambda: nn.Conv2d(1, 2, 3)(g.zeros(5, 5)), ValueError,
        "expected input of shape (N, C, H, W) or (C, H, W), got shape (5, 5)"),
    bad("conv-stride-0", lambda: nn.Conv2d(1, 2, 3, stride=0), ValueError, "kernel_size and stride must be >= 1"),
    bad("conv-negative-padding", lambda: nn.functional.conv2d(g.zeros(1, 1, 5, 5), g.zeros(2, 1, 3, 3), padding=-1),
        ValueError, "padding must be >= 0, got (-1, -1)"),
    bad("conv-dtypes", lambda: nn.functional.conv2d(g.zeros(1, 1, 5, 5), g.zeros(2, 1, 3, 3, dtype=g.float64)),
        ValueError, "input is float32 but weight is float64"),
    bad("conv-int", lambda: nn.functional.conv2d(g.zeros(1, 1, 5, 5, dtype=g.int64),
                                                 g.zeros(2, 1, 3, 3, dtype=g.int64)),
        ValueError, "input is int64; expected float32 or float64"),
    bad("conv-stride-triple", lambda: nn.functional.conv2d(g.zeros(1, 1, 5, 5), g.zeros(2, 1, 3, 3), stride=(1, 2, 3)),
        TypeError, "stride must be an int or a pair of ints"),
    bad("conv-same-strided", lambda: nn.Conv2d(1, 2, 3, padding="same", stride=2), ValueError,
        "padding='same' needs stride 1"),
    bad("pool-padding", lambda: nn.MaxPool2d(2, padding=2)(g.zeros(1, 1, 4, 4)), ValueError,
        "padding must be between 0 and half the kernel size"),
    bad("pool-kernel-0", lambda: nn.MaxPool2d(0)(g.zeros(1, 1, 4, 4)), ValueError, "kernel_size must be >= 1"),
    bad("pool-empty-plane", lambda: nn.functional.max_pool2d(g.zeros(1, 1, 0, 5), 2), ValueError,
        "larger than the padded input (0, 5)"),
    bad("flatten-dim", lambda: nn.Flatten(3)(g.zeros(2, 3)), IndexError, "dimension 3 is out of range"),
    bad("sequential-non-module", lambda: nn.Sequential(5), TypeError, "can only hold nn.Module objects, got int"),
    bad("mse-reduction", lambda: nn.MSELoss(reduction="avg"), ValueError, "reduction must be one of"),
    bad("init-1d", lambda: nn.init.kaiming_uniform_(g.zeros(3)), ValueError, "fewer than 2 dimensions"),
    bad("init-gain", lambda: nn.init.xavier_uniform_(g.zeros(3, 2), gain=-1), ValueError,
        "gain must be a finite number >= 0"),
    bad("init-slope-nan", lambda: nn.init.kaiming_uniform_(g.zeros(3, 2), a=math.nan), ValueError,
        "negative_slope nan is not a valid number"),
    bad("init-std", lambda: nn.init.normal_(g.zeros(3), 0, -1), ValueError, "std must be >= 0, got -1"),
    bad("module-to-int", lambda: nn.Linear(2, 2).to(g.int64), TypeError, "only accepts floating point dtypes"),
    bad("module-to-cuda", lambda: nn.Linear(2, 2).to("cuda"), RuntimeError, "gdcore runs on the CPU only"),
]

HYPERPARAMETERS = [
    bad("sgd-lr-negative", lambda: optim.SGD(_params(), lr=-1), ValueError, "SGD: invalid lr=-1"),
    bad("sgd-lr-nan", lambda: optim.SGD(_params(), lr=math.nan), ValueError, "invalid lr=nan"),
    bad("sgd-lr-inf", lambda: optim.SGD(_params(), lr=math.inf), ValueError, "invalid lr=inf"),
    bad("sgd-lr-string", lambda: optim.SGD(_params(), lr="0.1"), TypeError, "lr must be a real number, got '0.1'"),
    bad("sgd-momentum", lambda: optim.SGD(_params(), lr=0.1, momentum=-0.5), ValueError, "invalid momentum=-0.5"),
    bad("sgd-weight-decay", lambda: optim.SGD(_params(), lr=0.1, weight_decay=-1), ValueError,
        "invalid weight_decay=-1"),
    bad("sgd-nesterov", lambda: optim.SGD(_params(), lr=0.1, nesterov=True), ValueError,
        "nesterov=True needs momentum > 0"),
    bad("adam-beta1", lambda: optim.Adam(_params(), betas=(1.0, 0.9)), ValueError, "invalid betas[0]=1.0"),
    bad("adam-beta2-nan", lambda: optim.Adam(_params(), betas=(0.9, math.nan)), ValueError, "invalid betas[1]=nan"),
    bad("adam-betas-length", lambda: optim.Adam(_params(), betas=(0.9,)), TypeError, "betas must be a pair"),
    bad("adam-eps", lambda: optim.Adam(_params(), eps=-1), ValueError, "invalid eps=-1"),
    bad("adam-amsgrad", lambda: optim.Adam(_params(), amsgrad="yes"), TypeError, "amsgrad must be True or False"),
    bad("adamw-weight-decay-nan", lambda: optim.AdamW(_params(), weight_decay=math.nan), ValueError,
        "invalid weight_decay=nan"),
    bad("rmsprop-alpha", lambda: optim.RMSprop(_params(), alpha=-0.1), ValueError, "invalid alpha=-0.1"),
    bad("rmsprop-eps-nan", lambda: optim.RMSprop(_params(), eps=math.nan), ValueError, "invalid eps=nan"),
    bad("adagrad-lr-decay", lambda: optim.Adagrad(_params(), lr_decay=-1), ValueError, "invalid lr_decay=-1"),
    bad("adagrad-initial", lambda: optim.Adagrad(_params(), initial_accumulator_value=-1), ValueError,
        "invalid initial_accumulator_value=-1"),
    bad("adadelta-rho", lambda: optim.Adadelta(_params(), rho=1.5), ValueError, "invalid rho=1.5"),
    bad("group-lr", lambda: optim.SGD([{"params": [g.zeros(2, requires_grad=True)], "lr": -3}], lr=0.1), ValueError,
        "invalid lr=-3"),
    bad("lr-nan-between-steps", lambda: _step_after_setting(optim.SGD, "lr", math.nan), ValueError,
        "lr must be a finite number in [0, inf), got nan"),
    bad("lr-negative-between-steps", lambda: _step_after_setting(optim.Adam, "lr", -1.0), ValueError,
        "Adam: lr must be a finite number in [0, inf), got -1"),
    bad("momentum-inf-between-steps", lambda: _step_after_setting(optim.SGD, "momentum", math.inf, momentum=0.5),
        ValueError, "momentum must be a finite number in [0, inf), got inf"),
    bad("check-finite-flag", lambda: optim.SGD(_params(), lr=0.1, check_finite=1.0), TypeError,
        "check_finite must be True or False"),
    bad("steplr-step-size", lambda: optim.lr_scheduler.StepLR(optim.SGD(_params(), lr=0.1), step_size=0), ValueError,
        "step_size must be an integer >= 1, got 0"),
    bad("exponentiallr-gamma-nan",
        lambda: optim.lr_scheduler.ExponentialLR(optim.SGD(_params(), lr=0.1), gamma=math.nan), ValueError,
        "gamma must be a finite number >= 0, got nan"),
    bad("lambdalr-nan", lambda: optim.lr_scheduler.LambdaLR(optim.SGD(_params(), lr=0.1), lambda epoch: math.nan),
        ValueError, "lr_lambda(0) returned nan"),
    bad("scheduler-no-optimizer", lambda: optim.lr_scheduler.StepLR(None, step_size=2), TypeError,
        "expected a gdcore.optim.Optimizer, got NoneType"),
    bad("schedule-lr", lambda: optim.schedules.step(-0.1, 2), ValueError,
        "the learning rate must be a positive finite number, got -0.1"),
    bad("schedule-gamma-nan", lambda: optim.schedules.exponential(0.1, math.nan), ValueError,
        "gamma must be a finite number >= 0, got nan"),
    bad("schedule-boundaries", lambda: optim.schedules.piecewise_constant([2, 1], [0.1, 0.2, 0.3]), ValueError,
        "boundaries must be increasing"),
    bad("gd-lr-zero", lambda: gdcore.optimize.gd(lambda x: x ** 2, 1.0, lr=0, steps=3), ValueError,
        "gd: lr must be a positive finite number, got 0"),
    bad("gd-lr-nan", lambda: gdcore.optimize.gd(lambda x: x ** 2, 1.0, lr=math.nan, steps=3), ValueError, "got nan"),
    bad("newton-eta-zero", lambda: gdcore.optimize.newton(lambda x: x ** 2, 1.0, eta=0, steps=3), ValueError,
        "eta must be a positive finite number, got 0"),
    bad("sgd-noise", lambda: gdcore.optimize.sgd(lambda x: x ** 2, 1.0, lr=0.1, noise=-1, steps=3), ValueError,
        "noise must be a non-negative finite number"),
    bad("line-search-c", lambda: gdcore.optimize.gd_line_search(lambda x: x ** 2, 1.0, steps=3, c=2.0), ValueError,
        "c must be a number strictly between 0 and 1, got 2.0"),
    bad("gd-no-stop", lambda: gdcore.optimize.gd(lambda x: x ** 2, 1.0, lr=0.1), ValueError, "say when to stop"),
    bad("gd-tol", lambda: gdcore.optimize.gd(lambda x: x ** 2, 1.0, lr=0.1, steps=3, tol=-1), ValueError,
        "tol must be a non-negative finite number, got -1"),
    bad("gd-steps", lambda: gdcore.optimize.gd(lambda x: x ** 2, 1.0, lr=0.1, steps=-1), ValueError,
        "steps must be a non-negative integer, got -1"),
    bad("gradcheck-eps", lambda: g.autograd.gradcheck(lambda a: a * 2, g.ones(2, dtype=g.float64, requires_grad=True),
                                                      eps=-1), ValueError, "eps must be positive, got -1"),
]

BATCH_SIZES_AND_OPTIONS = [
    bad("batch-size-0", lambda: DataLoader(TensorDataset(g.zeros(3)), batch_size=0), ValueError,
        "batch_size must be a positive int, got 0"),
    bad("batch-size-negative", lambda: DataLoader(TensorDataset(g.zeros(3)), batch_size=-1), ValueError,
        "batch_size must be a positive int, got -1"),
    bad("batch-size-float", lambda: DataLoader(TensorDataset(g.zeros(3)), batch_size=1.5), TypeError, "got 1.5"),
    bad("batch-size-bool", lambda: DataLoader(TensorDataset(g.zeros(3)), batch_size=True), TypeError, "got True"),
    bad("loader-generator", lambda: DataLoader(TensorDataset(g.zeros(3)), generator=5), TypeError,
        "generator must be a gdcore.Generator"),
    bad("loader-dataset", lambda: DataLoader(5, batch_size=2),
        TypeError, "dataset must define __getitem__ and __len__"),
    bad("sgd-unknown-option", lambda: optim.SGD(_params(), lr=0.1, foo=1),
        TypeError, "unexpected keyword argument 'foo'"),
    bad("adam-momentum", lambda: optim.Adam(_params(), momentum=0.9), TypeError,
        "unexpected keyword argument 'momentum'"),
    bad("sgd-betas", lambda: optim.SGD(_params(), lr=0.1, betas=(0.9, 0.99)), TypeError,
        "unexpected keyword argument 'betas'"),
    bad("gd-unknown-option", lambda: gdcore.optimize.gd(lambda x: x ** 2, 1.0, lr=0.1, steps=3, foo=1), TypeError,
        "unexpected keyword argument 'foo'"),
    bad("cg-variant", lambda: gdcore.optimize.conjugate_gradient(lambda x: (x ** 2).sum(), [1.0], variant="foo",
                                                                 steps=3), ValueError, "variant must be one of"),
    bad("optimizer-empty", lambda: optim.SGD([], lr=0.1), ValueError, "got an empty parameter list"),
    bad("optimizer-one-tensor", lambda: optim.SGD(g.zeros(2, requires_grad=True), lr=0.1), TypeError,
        "got a single tensor; wrap it in a list"),
    bad("optimizer-set", lambda: optim.SGD({g.zeros(2, requires_grad=True)}, lr=0.1), TypeError, "not a set"),
    bad("optimizer-non-leaf", lambda: optim.SGD([g.zeros(2, requires_grad=True) * 2], lr=0.1), ValueError,
        "is not a leaf tensor"),
    bad("optimizer-int", lambda: optim.SGD([g.zeros(2, dtype=g.int64)], lr=0.1), TypeError,
        "has dtype gdcore.int64; only float32 and float64"),
    bad("optimizer-group-without-params", lambda: optim.SGD([{"lr": 0.1}], lr=0.1), ValueError,
        "has no 'params' entry"),
]

STATE_DICTS = [
    bad("module-missing-key", lambda: nn.Linear(2, 2).load_state_dict({"weight": g.zeros(2, 2)}), RuntimeError,
        'Missing key(s) in state_dict: "bias"'),
    bad("module-extra-key", lambda: nn.Linear(2, 2).load_state_dict(
        {"weight": g.zeros(2, 2), "bias": g.zeros(2), "extra": g.zeros(1)}), RuntimeError,
        'Unexpected key(s) in state_dict: "extra"'),
    bad("module-shape", lambda: nn.Linear(2, 2).load_state_dict({"weight": g.zeros(3, 2), "bias": g.zeros(2)}),
        RuntimeError, "size mismatch for weight: copying a param with shape (3, 2) from checkpoint"),
    bad("module-value-type", lambda: nn.Linear(2, 2).load_state_dict({"weight": g.zeros(2, 2), "bias": "x"}),
        RuntimeError, 'While copying the parameter named "bias"'),
    bad("module-not-dict", lambda: nn.Linear(2, 2).load_state_dict([1, 2]), TypeError,
        "Expected state_dict to be dict-like, got list"),
    bad("optimizer-missing-keys", lambda: _load_optimizer_state({}), ValueError,
        "expected a dict with 'state' and 'param_groups'"),
    bad("optimizer-group-count", lambda: _load_optimizer_state({"state": {}, "param_groups": []}), ValueError,
        "the state dict has 0 parameter groups but the optimizer has 1"),
    bad("optimizer-param-count", lambda: _load_optimizer_state({"state": {}, "param_groups": [_group([0])]}),
        ValueError, "has 1 parameters but the optimizer's group 0 has 2"),
    bad("optimizer-state-shape", lambda: _load_optimizer_state(
        {"state": {0: {"momentum_buffer": g.zeros(3)}}, "param_groups": [_group([0, 1])]}), ValueError,
        "state 'momentum_buffer' of parameter 0 has shape (3,) but the parameter has shape (2, 2)"),
    bad("optimizer-unknown-parameter", lambda: _load_optimizer_state(
        {"state": {5: {"momentum_buffer": g.zeros(2)}}, "param_groups": [_group([0, 1])]}), ValueError,
        "the state refers to parameter 5"),
    bad("optimizer-bad-option", lambda: _load_optimizer_state({"state": {}, "param_groups": [_group([0, 1], lr=-0.1)]}),
        ValueError, "invalid lr=-0.1"),
]

TRAINING_DATA = [
    bad("fit-empty-loader", lambda: _fit([]), ValueError, "the loader yields no batches"),
    bad("fit-epochs-0", lambda: _fit(_one_batch(), epochs=0), ValueError, "epochs must be a positive integer, got 0"),
    bad("fit-eval-every-0", lambda: _fit(_one_batch(), eval_every=0), ValueError,
        "eval_every must be a positive integer number of steps, got 0"),
    bad("fit-batch-not-pair", lambda: _fit([(g.zeros(2, 1),)]), TypeError,
        "each batch must be an (inputs, targets) pair, got tuple of length 1"),
    bad("fit-target-shape", lambda: _fit(_one_batch(target_width=3)), ValueError,
        "input shape (2, 1) and target shape (2, 3) differ"),
    bad("fit-feature-count", lambda: _fit(_one_batch(width=5)), ValueError, "has 5 features"),
    bad("fit-nan-data", lambda: _fit(_one_batch(x=math.nan)), DivergenceError, "the loss became nan (step 1, epoch 1"),
    bad("fit-inf-data", lambda: _fit(_one_batch(x=math.inf)), DivergenceError, "Try a smaller learning rate"),
    bad("fit-no-optimizer", lambda: fit(nn.Linear(1, 1), g.mse_loss, None, _one_batch(), 1), TypeError,
        "the optimizer must have a zero_grad() method"),
    bad("check-finite-nan", lambda: check_finite(math.nan, step=3, lr=0.5), DivergenceError,
        "the loss became nan (step 3, lr=0.5)"),
    bad("check-finite-vector", lambda: check_finite(g.tensor([1.0, 2.0])), ValueError,
        "the loss must be a single number, got a tensor of shape (2,)"),
    bad("evaluate-empty", lambda: evaluate_loss(nn.Linear(1, 1), g.mse_loss, []), ValueError, "the data is empty"),
    bad("dataset-sizes", lambda: TensorDataset(g.zeros(3), g.zeros(4)), ValueError,
        "same size in their first dimension (the number of samples), got shapes (3,), (4,)"),
    bad("dataset-0d", lambda: TensorDataset(g.zeros(())), ValueError, "argument 0 is a 0-d tensor"),
    bad("dataset-empty", lambda: TensorDataset(), ValueError, "needs at least one tensor"),
    bad("dataset-numpy", lambda: TensorDataset(__import__("numpy").zeros(3)), TypeError, "is a ndarray, not a gdcore"),
    bad("collate-empty", lambda: default_collate([]), ValueError, "got an empty list of samples"),
    bad("collate-shapes", lambda: default_collate([g.zeros(2), g.zeros(3)]), ValueError,
        "cannot stack tensors of different shapes"),
    bad("gd-x0-nan", lambda: gdcore.optimize.gd(lambda x: x ** 2, math.nan, lr=0.1, steps=3), ValueError,
        "x0 must be finite, got nan"),
    bad("gd-x0-empty", lambda: gdcore.optimize.gd(lambda x: x ** 2, [], lr=0.1, steps=3), ValueError, "x0 is empty"),
    bad("gd-x0-2d", lambda: gdcore.optimize.gd(lambda x: x ** 2, [[1.0, 2.0]], lr=0.1, steps=3), ValueError,
        "x0 must be a number or a 1-D tensor/list, got shape (1, 2)"),
    bad("gd-f-vector", lambda: gdcore.optimize.gd(lambda x: x, [1.0, 2.0], lr=0.1, steps=3), ValueError,
        "f must return one number, got a tensor of shape (2,)"),
    bad("gd-f-nan-at-x0", lambda: gdcore.optimize.gd(lambda x: (x - 1).sqrt(), 0.0, lr=0.1, steps=3), ValueError,
        "f(x0) = nan is not finite"),
    bad("gd-f-string", lambda: gdcore.optimize.gd(lambda x: "a", 1.0, lr=0.1, steps=3), TypeError,
        "f must return a number or a one-element tensor, got str"),
]


@pytest.mark.parametrize("call, error, words",
                         LAYERS + HYPERPARAMETERS + BATCH_SIZES_AND_OPTIONS + STATE_DICTS + TRAINING_DATA)
def test_bad_input_raises_a_clear_error(call, error, words, tmp_path):
    check(call, error, words, tmp_path)
