"""The classification and robust-regression losses (nn/functional_losses.py, the fused C++
cross_entropy, nll_loss and binary_cross_entropy ops): every argument combination against plain
numpy formulas written out here (log-sum-exp by hand), torch's documented edge cases, gradients
against finite differences in float64, second order, the module forms, bad input, and a compiled
classification step that runs lowered and matches eager bit for bit.
"""
import itertools
import math

import numpy as np
import pytest

import gdcore
import gdcore.nn.functional as F
from gdcore import nn, optim
from gdcore.autograd import grad, gradcheck
from test_second_order import grad_of_grad_check

RNG = np.random.default_rng(12)


def f64(a, requires_grad=False):
    return gdcore.tensor(np.asarray(a, dtype=np.float64), dtype=gdcore.float64, requires_grad=requires_grad)


def rows_of(x):
    """(N, C, d...) -> (M, C) with the class axis last, as the loss sees it; (C,) -> (1, C)."""
    if x.ndim == 1:
        return x[None, :]
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def np_log_softmax_rows(r):
    m = r.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(r - m).sum(axis=1, keepdims=True))  # log-sum-exp written out
    return r - lse


def np_cross_entropy(x, t, w=None, ignore_index=-100, eps=0.0, reduction="mean"):
    r = np_log_softmax_rows(rows_of(x))
    tt = np.asarray(t).reshape(-1)
    c = r.shape[1]
    w = np.ones(c) if w is None else np.asarray(w)
    loss, denom = np.zeros(len(tt)), 0.0
    for i, ti in enumerate(tt):
        if ti == ignore_index:
            continue
        loss[i] = (1 - eps) * w[ti] * -r[i, ti] + eps / c * -(w * r[i]).sum()
        denom += w[ti]
    if reduction == "none":
        return loss.reshape(np.shape(t))
    return loss.sum() if reduction == "sum" else loss.sum() / denom


def np_cross_entropy_probs(x, y, w=None, eps=0.0, reduction="mean"):
    r = np_log_softmax_rows(rows_of(x))
    yy = rows_of(y)
    c = r.shape[1]
    w = np.ones(c) if w is None else np.asarray(w)
    yy = yy * (1 - eps) + eps / c
    loss = -(w * yy * r).sum(axis=1)
    if reduction == "none":
        return loss.reshape(x.shape[:1] + x.shape[2:]) if x.ndim > 1 else loss.reshape(())
    return loss.sum() if reduction == "sum" else loss.mean()


def np_nll(x, t, w=None, ignore_index=-100, reduction="mean"):
    r = rows_of(x)
    tt = np.asarray(t).reshape(-1)
    w = np.ones(r.shape[1]) if w is None else np.asarray(w)
    loss = np.array([0.0 if ti == ignore_index else -w[ti] * r[i, ti] for i, ti in enumerate(tt)])
    denom = sum(w[ti] for ti in tt if ti != ignore_index)
    if reduction == "none":
        return loss.reshape(np.shape(t))
    return loss.sum() if reduction == "sum" else loss.sum() / denom


SHAPES = [((4, 3), (4,)), ((2, 3, 2, 2), (2, 2, 2)), ((5,), ())]


def targets_for(tshape, c, with_ignored):
    t = RNG.integers(0, c, size=tshape)
    if with_ignored and t.size > 1:
        t.reshape(-1)[1] = -100
    return t


@pytest.mark.parametrize("shapes,weighted,ignored,eps,reduction", list(itertools.product(
    SHAPES, (False, True), (False, True), (0.0, 0.2), ("mean", "sum", "none"))))
def test_cross_entropy_class_indices_all_arguments(shapes, weighted, ignored, eps, reduction):
    xshape, tshape = shapes
    c = xshape[0] if len(xshape) == 1 else xshape[1]
    x = RNG.normal(size=xshape) * 2
    t = targets_for(tshape, c, ignored)
    w = RNG.uniform(0.5, 2.0, size=c) if weighted else None
    want = np_cross_entropy(x, t, w, -100, eps, reduction)
    xt = f64(x, True)
    wt = None if w is None else f64(w)
    tt = gdcore.tensor(t)
    got = F.cross_entropy(xt, tt, weight=wt, reduction=reduction, label_smoothing=eps)
    assert tuple(got.shape) == np.shape(want)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12, atol=1e-12)
    module = nn.CrossEntropyLoss(weight=wt, reduction=reduction, label_smoothing=eps)
    np.testing.assert_allclose(module(xt, tt).detach().numpy(), want, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a: F.cross_entropy(a, tt, weight=wt, reduction=reduction, label_smoothing=eps), [xt])
    # nll_loss of log-probabilities (no smoothing) against its own formula
    if eps == 0.0:
        lp = np_log_softmax_rows(rows_of(x))
        lp_in = np.moveaxis(lp.reshape(xshape[:1] + xshape[2:] + xshape[1:2]), -1, 1) if len(xshape) > 1 \
            else lp.reshape(xshape)
        want_nll = np_nll(lp_in, t, w, -100, reduction)
        lpt = f64(lp_in, True)
        np.testing.assert_allclose(F.nll_loss(lpt, tt, weight=wt, reduction=reduction).detach().numpy(), want_nll,
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(nn.NLLLoss(weight=wt, reduction=reduction)(lpt, tt).detach().numpy(), want_nll,
                                   rtol=1e-12, atol=1e-12)
        assert gradcheck(lambda a: F.nll_loss(a, tt, weight=wt, reduction=reduction), [lpt])


@pytest.mark.parametrize("xshape,weighted,eps,reduction", list(itertools.product(
    ((4, 3), (2, 3, 2), (5,)), (False, True), (0.0, 0.1), ("mean", "sum", "none"))))
def test_cross_entropy_class_probabilities(xshape, weighted, eps, reduction):
    x = RNG.normal(size=xshape)
    cdim = 0 if len(xshape) == 1 else 1
    y = np.exp(RNG.normal(size=xshape))
    y = y / y.sum(axis=cdim, keepdims=True)
    c = xshape[cdim]
    w = RNG.uniform(0.5, 2.0, size=c) if weighted else None
    want = np_cross_entropy_probs(x, y, w, eps, reduction)
    xt, yt = f64(x, True), f64(y, True)
    wt = None if w is None else f64(w)
    got = F.cross_entropy(xt, yt, weight=wt, reduction=reduction, label_smoothing=eps)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, weight=wt, reduction=reduction, label_smoothing=eps),
                     [xt, yt])


def test_torch_documented_edge_cases():
    x = f64([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0], [1.0, -2.0, 0.0]], True)
    t = gdcore.tensor([0, -100, 2])
    r = np_log_softmax_rows(x.detach().numpy())
    # ignore_index rows are excluded from the mean: the average over the two counted rows.
    assert F.cross_entropy(x, t).item() == pytest.approx((-r[0, 0] - r[2, 2]) / 2, rel=1e-13)
    assert F.cross_entropy(x, gdcore.tensor([0, 1, 2]), ignore_index=1).item() == pytest.approx(
        (-r[0, 0] - r[2, 2]) / 2, rel=1e-13)
    # weight is in the denominator of the mean: sum(w[t] * nll) / sum(w[t]).
    w = f64([1.0, 2.0, 3.0])
    assert F.cross_entropy(x, gdcore.tensor([0, 1, 2]), weight=w).item() == pytest.approx(
        (-1 * r[0, 0] - 2 * r[1, 1] - 3 * r[2, 2]) / 6, rel=1e-13)
    # label smoothing: (1 - eps) * nll + eps * mean over classes of -log p.
    eps = 0.3
    want = np.mean([(1 - eps) * -r[i, k] + eps * -r[i].mean() for i, k in enumerate([0, 1, 2])])
    assert F.cross_entropy(x, gdcore.tensor([0, 1, 2]), label_smoothing=eps).item() == pytest.approx(want, rel=1e-13)
    # every row ignored: the mean is 0/0 = nan (torch) and the gradient is 0.
    all_ignored = F.cross_entropy(x, gdcore.tensor([-100, -100, -100]))
    assert math.isnan(all_ignored.item())
    all_ignored.backward()
    assert np.all(x.grad.numpy() == 0)


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    x = f64(RNG.normal(size=(5, 4)), True)
    t = RNG.integers(0, 4, size=5)
    F.cross_entropy(x, gdcore.tensor(t), reduction="sum").backward()
    p = np.exp(np_log_softmax_rows(x.detach().numpy()))
    np.testing.assert_allclose(x.grad.numpy(), p - np.eye(4)[t], rtol=1e-13, atol=1e-15)


def test_fused_and_differentiable_backward_agree():
    """loss.backward() hands over the gradient the forward wrote; create_graph recomputes it with ops."""
    for shape, tshape in (((4, 3), (4,)), ((2, 3, 2), (2, 2))):
        x = f64(RNG.normal(size=shape), True)
        t = gdcore.tensor(targets_for(tshape, 3, True))
        w = f64(RNG.uniform(0.5, 2, size=3))
        for red in ("mean", "sum", "none"):
            loss = F.cross_entropy(x, t, weight=w, label_smoothing=0.1, reduction=red)
            up = f64(RNG.normal(size=tuple(loss.shape)))
            (fused,) = grad(loss, [x], grad_outputs=up, retain_graph=True)
            (again,) = grad(loss, [x], grad_outputs=up, create_graph=True)
            np.testing.assert_allclose(fused.numpy(), again.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", ["plain", "weighted_smoothed", "spatial_none", "probabilities"])
def test_cross_entropy_second_order(case):
    x = RNG.normal(size=(3, 4))
    if case == "plain":
        f = lambda a: F.cross_entropy(a, gdcore.tensor([0, 3, 1]))  # noqa: E731
    elif case == "weighted_smoothed":
        w = f64([0.5, 1.0, 2.0, 1.5])
        f = lambda a: F.cross_entropy(a, gdcore.tensor([0, -100, 2]), weight=w, label_smoothing=0.2)  # noqa: E731
    elif case == "spatial_none":
        x = RNG.normal(size=(2, 3, 2))
        f = lambda a: F.cross_entropy(a, gdcore.tensor([[0, 2], [1, 1]]), reduction="none")  # noqa: E731
    else:
        y = f64(np.full((3, 4), 0.25))
        f = lambda a: F.cross_entropy(a, y)  # noqa: E731
    grad_of_grad_check(f, x)


def test_cross_entropy_is_stable_for_huge_logits():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4 - 1, -1e4]])
    t = np.array([1, 2, 0])
    want = np_cross_entropy(x, t)
    for dtype in (gdcore.float32, gdcore.float64):
        xt = gdcore.tensor(x, dtype=dtype, requires_grad=True)
        loss = F.cross_entropy(xt, gdcore.tensor(t))
        assert loss.item() == pytest.approx(want, rel=1e-6)
        loss.backward()
        g = xt.grad.numpy()
        assert np.all(np.isfinite(g))
        p = np.exp(np_log_softmax_rows(x))
        np.testing.assert_allclose(g, (p - np.eye(3)[t]) / 3, atol=1e-6)


def test_cross_entropy_bad_input():
    x = gdcore.randn(4, 3)
    with pytest.raises(IndexError, match=r"target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, gdcore.tensor([0, 1, 3, 2]))
    with pytest.raises(IndexError, match=r"target -1 is out of bounds for 3 classes"):
        F.cross_entropy(x, gdcore.tensor([0, -1, 1, 2]))
    with pytest.raises(IndexError, match=r"target 7 is out of bounds for 3 classes"):
        F.nll_loss(x, gdcore.tensor([0, 7, 1, 2]))
    with pytest.raises(TypeError, match="class indices must be int64"):
        F.cross_entropy(x, gdcore.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(TypeError, match="class indices must be int64"):
        F.nll_loss(x, gdcore.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target batch_size \(5\)"):
        F.cross_entropy(x, gdcore.tensor([0, 1, 2, 1, 0]))
    with pytest.raises(ValueError, match="needs target of shape"):
        F.cross_entropy(gdcore.randn(2, 3, 4), gdcore.tensor([[0, 1, 2], [0, 1, 2]]))
    with pytest.raises(ValueError, match="weight must have shape"):
        F.cross_entropy(x, gdcore.tensor([0, 1, 2, 1]), weight=gdcore.ones(4))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(x, gdcore.tensor([0, 1, 2, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(x, gdcore.tensor([0, 1, 2, 1]), reduction="avg")
    with pytest.raises(TypeError, match=r"class probabilities must have the input's shape \(4, 3\)"):
        F.cross_entropy(x, gdcore.rand(4, 2))
    with pytest.raises(TypeError, match="must be a gdcore.Tensor"):
        F.cross_entropy(x, [0, 1, 2, 1])


def test_legacy_size_average_reduce_warn_and_map():
    x, t = gdcore.randn(3, 2), gdcore.tensor([0, 1, 1])
    with pytest.warns(UserWarning, match="size_average and reduce"):
        out = F.cross_entropy(x, t, reduce=False)
    assert tuple(out.shape) == (3,)


# ---- binary cross entropy -------------------------------------------------------------------

def np_bce(p, y, w=None, reduction="mean"):
    l = -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100))
    if w is not None:
        l = l * w
    return l if reduction == "none" else (l.sum() if reduction == "sum" else l.mean())


def np_bce_logits(x, y, w=None, pos_weight=None, reduction="mean"):
    log_sig, log_one_minus = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    pw = 1.0 if pos_weight is None else pos_weight
    l = -(pw * y * log_sig + (1 - y) * log_one_minus)
    if w is not None:
        l = l * w
    return l if reduction == "none" else (l.sum() if reduction == "sum" else l.mean())


@pytest.mark.parametrize("weighted,reduction", list(itertools.product((False, True), ("mean", "sum", "none"))))
def test_binary_cross_entropy(weighted, reduction):
    p = RNG.uniform(0.05, 0.95, size=(3, 4))
    y = RNG.uniform(0, 1, size=(3, 4))
    w = RNG.uniform(0.5, 2, size=(4,)) if weighted else None
    pt, yt = f64(p, True), f64(y, True)
    wt = None if w is None else f64(w)
    want = np_bce(p, y, w, reduction)
    np.testing.assert_allclose(F.binary_cross_entropy(pt, yt, weight=wt, reduction=reduction).detach().numpy(),
                               want, rtol=1e-12)
    np.testing.assert_allclose(nn.BCELoss(weight=wt, reduction=reduction)(pt, yt).detach().numpy(), want, rtol=1e-12)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight=wt, reduction=reduction), [pt, yt])
    grad_of_grad_check(lambda a: F.binary_cross_entropy(a, f64(y[:2]), weight=wt, reduction=reduction), p[:2])


def test_binary_cross_entropy_at_zero_and_one_and_bad_input():
    p = f64([0.0, 1.0, 0.5, 1.0], True)
    y = f64([0.0, 0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy(p, y, reduction="sum")
    assert loss.item() == pytest.approx(100 + math.log(2))  # log clamped at -100, as torch
    loss.backward()
    g = p.grad.numpy()
    assert np.all(np.isfinite(g))
    # torch's rule: (p - y) / max(p (1 - p), 1e-12)
    np.testing.assert_allclose(g, [0.0, 1e12, -2.0, 0.0])
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(gdcore.tensor([0.5, 1.5]), gdcore.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(gdcore.tensor([[0.5], [0.2]]), gdcore.tensor([0.0, 1.0]))


@pytest.mark.parametrize("weighted,pos,reduction", list(itertools.product((False, True), (False, True),
                                                                          ("mean", "sum", "none"))))
def test_binary_cross_entropy_with_logits(weighted, pos, reduction):
    x = RNG.normal(size=(3, 4)) * 3
    y = RNG.uniform(0, 1, size=(3, 4))
    w = RNG.uniform(0.5, 2, size=(3, 1)) if weighted else None
    pw = RNG.uniform(0.5, 3, size=(4,)) if pos else None
    xt, yt = f64(x, True), f64(y, True)
    wt, pwt = (None if w is None else f64(w)), (None if pw is None else f64(pw))
    want = np_bce_logits(x, y, w, pw, reduction)
    f = lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=wt, reduction=reduction,  # noqa: E731
                                                        pos_weight=pwt)
    np.testing.assert_allclose(f(xt, yt).detach().numpy(), want, rtol=1e-12, atol=1e-14)
    module = nn.BCEWithLogitsLoss(weight=wt, reduction=reduction, pos_weight=pwt)
    np.testing.assert_allclose(module(xt, yt).detach().numpy(), want, rtol=1e-12, atol=1e-14)
    assert gradcheck(f, [xt, yt])
    grad_of_grad_check(lambda a: f(a, yt.detach()), x)


def test_bce_with_logits_huge_logits_and_sizes():
    x = gdcore.tensor([1e4, -1e4, 50.0], dtype=gdcore.float32, requires_grad=True)
    y = gdcore.tensor([0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [1e4, 1e4, np_bce_logits(50.0, 1.0)], rtol=1e-6)
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    with pytest.raises(ValueError, match=r"Target size \(\(2,\)\) must be the same as input size \(\(3,\)\)"):
        F.binary_cross_entropy_with_logits(x, gdcore.tensor([0.0, 1.0]))


# ---- l1, smooth l1, huber, kl_div ------------------------------------------------------------

def _reduce(l, reduction):
    return l if reduction == "none" else (l.sum() if reduction == "sum" else l.mean())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_l1_smooth_l1_huber(reduction):
    x = RNG.normal(size=(3, 5)) * 2
    y = RNG.normal(size=(3, 5))
    d = x - y
    d[np.abs(np.abs(d) - 0.7) < 0.05] += 0.2  # away from the kinks at |d| = beta, delta
    d[np.abs(np.abs(d) - 1.3) < 0.05] += 0.2
    x = y + d
    ad = np.abs(d)
    xt, yt = f64(x, True), f64(y, True)
    cases = {
        "l1": (lambda a, b: F.l1_loss(a, b, reduction=reduction), ad, nn.L1Loss(reduction=reduction)),
        "smooth": (lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=0.7),
                   np.where(ad < 0.7, 0.5 * d * d / 0.7, ad - 0.35), nn.SmoothL1Loss(reduction=reduction, beta=0.7)),
        "smooth0": (lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=0.0), ad, None),
        "huber": (lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=1.3),
                  np.where(ad <= 1.3, 0.5 * d * d, 1.3 * (ad - 0.65)), nn.HuberLoss(reduction=reduction, delta=1.3)),
    }
    for name, (f, pointwise, module) in cases.items():
        want = _reduce(pointwise, reduction)
        np.testing.assert_allclose(f(xt, yt).detach().numpy(), want, rtol=1e-12, err_msg=name)
        if module is not None:
            np.testing.assert_allclose(module(xt, yt).detach().numpy(), want, rtol=1e-12, err_msg=name)
        assert gradcheck(f, [xt, yt])
    grad_of_grad_check(lambda a: F.huber_loss(a, f64(y[:2, :3]), reduction=reduction, delta=1.3), x[:2, :3])
    # huber = delta * smooth_l1 with beta = delta (torch's documented relation)
    np.testing.assert_allclose(F.huber_loss(xt, yt, delta=1.3).item(), 1.3 * F.smooth_l1_loss(xt, yt, beta=1.3).item())


@pytest.mark.parametrize("log_target,reduction", list(itertools.product((False, True),
                                                                        ("mean", "sum", "none", "batchmean"))))
def test_kl_div(log_target, reduction):
    x = np_log_softmax_rows(RNG.normal(size=(4, 3)))
    p = np.exp(np_log_softmax_rows(RNG.normal(size=(4, 3))))
    if not log_target:
        p[0, 1] = 0.0  # target 0: the term is 0 (xlogy), not nan
    with np.errstate(divide="ignore"):
        target = np.log(p) if log_target else p
        pointwise = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1)) - x), 0.0)
    want = pointwise.sum() / 4 if reduction == "batchmean" else _reduce(pointwise, reduction)
    xt = f64(x, True)
    tt = f64(target)
    got = F.kl_div(xt, tt, reduction=reduction, log_target=log_target)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(nn.KLDivLoss(reduction=reduction, log_target=log_target)(xt, tt).detach().numpy(),
                               want, rtol=1e-12, atol=1e-15)
    assert gradcheck(lambda a: F.kl_div(a, tt, reduction=reduction, log_target=log_target), [xt])


def test_regression_losses_bad_input():
    a, b = gdcore.ones(3), gdcore.ones(3, 1)
    for f in (F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        with pytest.raises(ValueError, match="differ"):
            f(a, b)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        F.smooth_l1_loss(a, a, beta=-1.0)
    with pytest.raises(ValueError, match="delta must be > 0"):
        F.huber_loss(a, a, delta=0.0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.kl_div(a, a, reduction="avg")


# ---- compiled classification step -----------------------------------------------------------

def test_compiled_classification_step_is_lowered_and_matches_eager():
    gen = gdcore.Generator(3)
    batches = [(gdcore.randn(8, 5, generator=gen), gdcore.randint(0, 4, (8,), generator=gen)) for _ in range(6)]
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 4))
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y, label_smoothing=0.05)
            loss.backward()
            opt.step()
            return loss

        run = gdcore.compile(step) if compiled else step
        losses = [run(x, y) for x, y in batches]
        runs.append(([l.detach().numpy().tobytes() for l in losses],
                     [p.detach().numpy().tobytes() for p in model.parameters()]))
    assert runs[0] == runs[1]
    (capture,) = run._captures.values()
    assert capture.program.lowering == "lowered"
    # A lowered replay still checks the class indices of each new batch before reading a row.
    with pytest.raises(IndexError, match="target 9 is out of bounds for 4 classes"):
        run(batches[0][0], gdcore.tensor([0, 1, 2, 3, 9, 0, 1, 2]))


def test_softmax_regression_trains_on_three_blobs():
    """A tutorial-style softmax regression: cross_entropy + SGD separates three Gaussian blobs;
    the accuracy is counted in numpy from the logits."""
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    labels = rng.integers(0, 3, size=300)
    points = centers[labels] + rng.normal(size=(300, 2))
    X, y = gdcore.tensor(points, dtype=gdcore.float32), gdcore.tensor(labels)
    model = nn.Linear(2, 3)
    opt = optim.SGD(model.parameters(), lr=0.5)
    first = None
    for _ in range(100):
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        first = loss.item() if first is None else first
    accuracy = (model(X).detach().numpy().argmax(axis=1) == labels).mean()
    assert loss.item() < first / 5
    assert accuracy >= 0.95


def test_compiled_step_with_gradient_clipping_is_lowered_and_matches_eager():
    gen = gdcore.Generator(5)
    batches = [(gdcore.randn(6, 4, generator=gen), gdcore.randint(0, 3, (6,), generator=gen)) for _ in range(5)]
    runs = []
    for compiled in (False, True):
        gdcore.manual_seed(1)
        model = nn.Linear(4, 3)
        opt = optim.SGD(model.parameters(), lr=0.3)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            opt.step()
            return loss

        run = gdcore.compile(step) if compiled else step
        losses = [run(x, y).detach().numpy().tobytes() for x, y in batches]
        runs.append((losses, [p.detach().numpy().tobytes() for p in model.parameters()]))
    assert runs[0] == runs[1]
    (capture,) = run._captures.values()
    assert capture.program.lowering == "lowered"  # the norm of norms uses 0-d ops, no stack


def test_cross_entropy_masked_and_nan_logits_float32():
    """-inf logits (masked classes) get exactly 0 probability and gradient, tiny ones underflow as
    exp does, and a NaN logit makes its row's loss and gradient NaN (never a finite answer)."""
    x = gdcore.tensor([[1.0, math.nan, 0.0], [0.0, -math.inf, 2.0], [0.0, -90.0, -120.0]], requires_grad=True)
    loss = F.cross_entropy(x, gdcore.tensor([0, 2, 0]), reduction="none")
    values = loss.detach().numpy()
    assert math.isnan(values[0])
    assert values[1] == pytest.approx(math.log1p(math.exp(-2.0)), rel=1e-6)
    loss.sum().backward()
    g = x.grad.numpy()
    assert np.all(np.isnan(g[0]))
    assert g[1, 1] == 0.0 and g[2, 2] == 0.0
    assert g[2, 1] == pytest.approx(math.exp(-90.0) / (1 + math.exp(-90.0)), rel=1e-4)
