"""Bad-input catalogue, the nn/data/utility breadth round (issue 11): top-level utilities, nn.functional
additions, data utilities, containers, lr schedulers, 1-d layers, testing and Variable (see catalogue.py)."""
import pytest

import gdcore
from catalogue import bad, check
from gdcore import data as D
from gdcore import nn, optim
from gdcore.nn import functional as F
from gdcore.optim import lr_scheduler as S

g = gdcore


class _Stream(D.IterableDataset):
    def __iter__(self):
        return iter(range(3))


def _sgd():
    return optim.SGD([nn.Parameter(g.zeros(1))], lr=0.1)

UTILITIES = [
    bad("default-dtype-int", lambda: g.set_default_dtype(g.int64), TypeError, "only floating-point types"),
    bad("default-dtype-str", lambda: g.set_default_dtype("float64"), TypeError, "expected a gdcore.dtype"),
    bad("finfo-int", lambda: g.finfo(g.int64), TypeError, "use gdcore.iinfo"),
    bad("iinfo-float", lambda: g.iinfo(g.float32), TypeError, "use gdcore.finfo"),
    bad("iinfo-bool", lambda: g.iinfo(g.bool), TypeError, "not supported by gdcore.iinfo"),
    bad("inference-mode-str", lambda: g.inference_mode("yes"), TypeError, "mode must be True or False"),
    bad("printoptions-profile", lambda: g.set_printoptions(profile="long"), ValueError, "profile must be one of"),
    bad("printoptions-precision", lambda: g.set_printoptions(precision=-1), ValueError, "precision must be"),
    bad("printoptions-sci", lambda: g.set_printoptions(sci_mode="on"), TypeError, "sci_mode must be"),
    bad("is-complex-list", lambda: g.is_complex([1.0]), TypeError, "must be a gdcore.Tensor"),
]

CASES = UTILITIES


FUNCTIONAL = [
    bad("one-hot-float", lambda: F.one_hot(g.tensor([1.0])), RuntimeError, "index tensor of type int64"),
    bad("one-hot-negative", lambda: F.one_hot(g.tensor([-1, 2])), RuntimeError, "must be non-negative, got -1"),
    bad("one-hot-too-large", lambda: F.one_hot(g.tensor([3]), 3), RuntimeError, "smaller than num_classes=3, got 3"),
    bad("one-hot-empty-infer", lambda: F.one_hot(g.zeros(0, dtype=g.int64)), RuntimeError, "pass num_classes"),
    bad("pad-odd", lambda: F.pad(g.zeros(2, 3), (1,)), RuntimeError, "divisible by 2"),
    bad("pad-too-long", lambda: F.pad(g.zeros(2, 3), (1,) * 6), RuntimeError, "padding length 6"),
    bad("pad-floats", lambda: F.pad(g.zeros(2, 3), (1.5, 1)), TypeError, "tuple of ints"),
    bad("pad-mode", lambda: F.pad(g.zeros(2, 3), (1, 1), mode="foo"), NotImplementedError, "unrecognised padding mode"),
    bad("pad-reflect-1d", lambda: F.pad(g.zeros(3), (1, 1), mode="reflect"), NotImplementedError, "1-d input"),
    bad("pad-reflect-too-big", lambda: F.pad(g.zeros(2, 3), (3, 3), mode="reflect"), RuntimeError,
        "padding (3, 3) at dimension 1"),
    bad("pad-crop-too-much", lambda: F.pad(g.zeros(2, 3), (-4, 0)), RuntimeError, "removes more than the size 3"),
    bad("pad-reflect-value", lambda: F.pad(g.zeros(2, 3), (1, 1), mode="reflect", value=2.0), ValueError,
        "doesn't take in value"),
    bad("normalize-int", lambda: F.normalize(g.tensor([1, 2])), TypeError, "floating-point"),
    bad("normalize-dim", lambda: F.normalize(g.zeros(2, 3), dim=2), IndexError, "dimension out of range"),
    bad("cosine-shapes", lambda: F.cosine_similarity(g.zeros(2, 3), g.zeros(2, 4)), RuntimeError, "do not broadcast"),
    bad("pairwise-int", lambda: F.pairwise_distance(g.tensor([1]), g.tensor([2])), TypeError, "floating-point"),
    bad("hardtanh-bounds", lambda: F.hardtanh(g.zeros(2), 1.0, -1.0), ValueError, "min_val cannot be greater"),
    bad("celu-zero", lambda: F.celu(g.zeros(2), 0.0), ValueError, "alpha must be nonzero"),
    bad("mish-int", lambda: F.mish(g.tensor([1])), TypeError, "floating-point"),
]
CASES += FUNCTIONAL


DATA = [
    bad("split-sum", lambda: D.random_split(range(10), [3, 3]), ValueError, "sum of input lengths (6) does not equal"),
    bad("split-fractions", lambda: D.random_split(range(10), [0.5, 0.6]), ValueError, "fractions summing to 1"),
    bad("split-negative", lambda: D.random_split(range(10), [-1, 11]), ValueError, "must be non-negative"),
    bad("split-strings", lambda: D.random_split(range(10), ["a"]), TypeError, "sequence of ints or of fractions"),
    bad("split-generator", lambda: D.random_split(range(4), [2, 2], generator=1), TypeError, "gdcore.Generator"),
    bad("concat-empty", lambda: D.ConcatDataset([]), ValueError, "should not be an empty iterable"),
    bad("concat-iterable", lambda: D.ConcatDataset([_Stream()]), TypeError, "use ChainDataset"),
    bad("concat-index", lambda: D.ConcatDataset([range(2)])[2], IndexError, "index 2 is out of range"),
    bad("stream-index", lambda: _Stream()[0], TypeError, "has no indexing"),
    bad("stream-shuffle", lambda: D.DataLoader(_Stream(), shuffle=True), ValueError,
        "expected unspecified shuffle option"),
    bad("stream-sampler", lambda: D.DataLoader(_Stream(), sampler=[0]), ValueError, "unspecified sampler option"),
    bad("stream-persistent", lambda: D.DataLoader(_Stream(), num_workers=2, persistent_workers=True), ValueError,
        "persistent_workers=True is not supported"),
    bad("weighted-negative", lambda: D.WeightedRandomSampler([1, -1], 2), ValueError, "non-negative"),
    bad("weighted-zero", lambda: D.WeightedRandomSampler([0, 0], 2), ValueError, "not all zero"),
    bad("weighted-2d", lambda: D.WeightedRandomSampler([[1, 1]], 2), ValueError, "1d sequence"),
    bad("weighted-num-samples", lambda: D.WeightedRandomSampler([1, 1], 0), ValueError, "positive integer"),
    bad("weighted-too-many", lambda: list(D.WeightedRandomSampler([1, 0, 1], 3, replacement=False)), RuntimeError,
        "cannot draw 3 samples without replacement from 2"),
]
CASES += DATA


CONTAINERS = [
    bad("moduledict-value", lambda: nn.ModuleDict({"a": 1}), TypeError, "int is not a Module subclass"),
    bad("moduledict-key", lambda: nn.ModuleDict({1: nn.ReLU()}), TypeError, "name should be a string"),
    bad("moduledict-clash", lambda: nn.ModuleDict({"train": nn.ReLU()}), KeyError, "attribute 'train' already exists"),
    bad("moduledict-pairs", lambda: nn.ModuleDict([nn.ReLU()]), TypeError, "should be a (key, module) pair"),
    bad("paramlist-int", lambda: nn.ParameterList([g.tensor([1])]), RuntimeError, "floating point dtype"),
    bad("paramlist-list", lambda: nn.ParameterList([[1.0]]), TypeError, "expected a gdcore.Tensor"),
    bad("paramlist-index", lambda: nn.ParameterList()[0], IndexError, "index 0 is out of range"),
    bad("paramlist-extend", lambda: nn.ParameterList().extend(g.zeros(2)), TypeError, "iterable"),
    bad("paramdict-key", lambda: nn.ParameterDict({1: g.zeros(1)}), TypeError, "keys must be strings"),
]
CASES += CONTAINERS


SCHEDULERS = [
    bad("linear-start", lambda: S.LinearLR(_sgd(), start_factor=0.0), ValueError, "greater than 0"),
    bad("constant-factor", lambda: S.ConstantLR(_sgd(), factor=2.0), ValueError, "between 0 and 1"),
    bad("poly-iters", lambda: S.PolynomialLR(_sgd(), total_iters=0), ValueError, "total_iters must be an integer >= 1"),
    bad("warm-t0", lambda: S.CosineAnnealingWarmRestarts(_sgd(), T_0=0), ValueError, "T_0 must be an integer >= 1"),
    bad("warm-tmult", lambda: S.CosineAnnealingWarmRestarts(_sgd(), T_0=2, T_mult=1.5), ValueError, "T_mult"),
    bad("warm-epoch", lambda: S.CosineAnnealingWarmRestarts(_sgd(), T_0=2).step(-1), ValueError, "non-negative epoch"),
    bad("seq-milestones", lambda: (lambda o: S.SequentialLR(o, [S.ConstantLR(o), S.ConstantLR(o)], [1, 2]))(_sgd()),
        ValueError, "2 schedulers and 2 milestones"),
    bad("seq-optimizers", lambda: (lambda o: S.SequentialLR(o, [S.ConstantLR(_sgd())], []))(_sgd()), ValueError,
        "same optimizer"),
    bad("onecycle-steps", lambda: S.OneCycleLR(_sgd(), max_lr=1.0), ValueError, "either total_steps OR"),
    bad("onecycle-pct", lambda: S.OneCycleLR(_sgd(), 1.0, total_steps=5, pct_start=1.5), ValueError, "pct_start"),
    bad("onecycle-anneal", lambda: S.OneCycleLR(_sgd(), 1.0, total_steps=5, anneal_strategy="exp"), ValueError,
        "anneal_strategy must be one of"),
    bad("onecycle-momentum", lambda: S.OneCycleLR(optim.Adagrad([nn.Parameter(g.zeros(1))]), 1.0, total_steps=5),
        ValueError, "pass cycle_momentum=False"),
    bad("onecycle-groups", lambda: S.OneCycleLR(_sgd(), [1.0, 2.0], total_steps=5), ValueError, "expected 1 values"),
    bad("cyclic-mode", lambda: S.CyclicLR(_sgd(), 0.1, 1.0, mode="square"), ValueError, "is invalid and scale_fn"),
    bad("plateau-factor", lambda: S.ReduceLROnPlateau(_sgd(), factor=1.0), ValueError, "factor should be < 1.0"),
    bad("plateau-mode", lambda: S.ReduceLROnPlateau(_sgd(), mode="up"), ValueError, "mode 'up' is unknown"),
    bad("plateau-threshold-mode", lambda: S.ReduceLROnPlateau(_sgd(), threshold_mode="x"), ValueError,
        "threshold mode 'x' is unknown"),
    bad("plateau-min-lrs", lambda: S.ReduceLROnPlateau(_sgd(), min_lr=[0.1, 0.2]), ValueError, "expected 1 min_lrs"),
    bad("plateau-metric", lambda: S.ReduceLROnPlateau(_sgd()).step("loss"), TypeError, "metrics must be a number"),
    bad("plateau-no-metric", lambda: S.ReduceLROnPlateau(_sgd()).step(), TypeError, "metrics"),
]
CASES += SCHEDULERS


ONE_D = [
    bad("conv1d-4d", lambda: F.conv1d(g.zeros(1, 1, 1, 4), g.zeros(1, 1, 2)), ValueError, "(N, C, L) or (C, L)"),
    bad("conv1d-weight", lambda: F.conv1d(g.zeros(1, 1, 4), g.zeros(1, 1, 1, 2)), ValueError, "expected weight"),
    bad("conv1d-dilation", lambda: F.conv1d(g.zeros(1, 1, 4), g.zeros(1, 1, 2), dilation=2), ValueError,
        "dilation=1"),
    bad("conv1d-same-even", lambda: F.conv1d(g.zeros(1, 1, 4), g.zeros(1, 1, 2), padding="same"), ValueError,
        "odd kernel size"),
    bad("conv1d-stride-pair", lambda: F.conv1d(g.zeros(1, 1, 4), g.zeros(1, 1, 2), stride=(1, 2)), TypeError,
        "1-tuple"),
    bad("maxpool1d-ceil", lambda: nn.MaxPool1d(2, ceil_mode=True), ValueError, "ceil_mode=False"),
    bad("avgpool1d-1d-input", lambda: F.avg_pool1d(g.zeros(4), 2), ValueError, "(N, C, L) or (C, L)"),
    bad("assert-close-types", lambda: g.testing.assert_close(g.zeros(1), "x"), AssertionError, "No comparison pair"),
    bad("variable-list", lambda: g.autograd.Variable([1.0]), TypeError, "has to be a tensor"),
]
CASES += ONE_D


@pytest.mark.parametrize("call, error, words", CASES)
def test_bad_input_raises_a_clear_error(call, error, words, tmp_path):
    check(call, error, words, tmp_path)
