"""The torch schedulers added in issue 11's breadth round (optim/lr_scheduler_factors.py,
lr_scheduler_cyclic.py, plateau.py): every rate against torch's formulas written out here in plain
Python (the step-by-step forms torch documents, not gdcore's closed forms), momentum included."""
import math

import pytest

import gdcore
from gdcore import optim
from gdcore.optim.lr_scheduler import (
    ConstantLR, CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR, LinearLR, OneCycleLR, PolynomialLR,
    ReduceLROnPlateau, SequentialLR,
)


def sgd(lr=0.1, momentum=0.9):
    return optim.SGD([gdcore.nn.Parameter(gdcore.zeros(1))], lr=lr, momentum=momentum)


def adam(lr=0.1):
    return optim.Adam([gdcore.nn.Parameter(gdcore.zeros(1))], lr=lr)


def trace(opt, sched, n, metrics=None, key="lr"):
    out = []
    for i in range(n):
        g = opt.param_groups[0]
        out.append(g[key] if key != "beta1" else g["betas"][0])
        opt.step()
        sched.step(metrics[i]) if metrics is not None else sched.step()
    return out


def test_linear_constant_polynomial():
    o = sgd()
    assert trace(o, LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), 7) == pytest.approx(
        [0.1 * (0.25 + 0.75 * min(t, 4) / 4) for t in range(7)])
    o = sgd()
    assert trace(o, ConstantLR(o, factor=0.5, total_iters=3), 5) == pytest.approx([0.05, 0.05, 0.05, 0.1, 0.1])
    o = sgd()
    assert trace(o, PolynomialLR(o, total_iters=4, power=2.0), 6) == pytest.approx(
        [0.1 * (1 - min(t, 4) / 4) ** 2 for t in range(6)])


def test_cosine_warm_restarts_against_the_step_by_step_form():
    o = sgd()
    got = trace(o, CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001), 25)
    expected, t_cur, t_i = [], 0, 3
    for _ in range(25):
        expected.append(0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * t_cur / t_i)) / 2)
        t_cur += 1
        if t_cur >= t_i:
            t_cur, t_i = t_cur - t_i, t_i * 2
    assert got == pytest.approx(expected)
    o = sgd()
    s = CosineAnnealingWarmRestarts(o, T_0=4)
    s.step(5.5)  # a fractional epoch: 1.5 into the second period of 4
    assert o.param_groups[0]["lr"] == pytest.approx(0.05 * (1 + math.cos(math.pi * 1.5 / 4)))


def test_sequential_warmup_then_decay():
    o = sgd()
    s = SequentialLR(o, [LinearLR(o, start_factor=0.1, total_iters=3), ExponentialLR(o, gamma=0.5)], milestones=[3])
    got = trace(o, s, 7)
    assert got == pytest.approx([0.01, 0.04, 0.07, 0.1, 0.05, 0.025, 0.0125])
    assert s.get_last_lr() == pytest.approx([0.1 * 0.5 ** 4])


def _one_cycle(step, total, max_lr, pct=0.3, div=25.0, final=1e4, lo_m=0.85, hi_m=0.95):
    def cos(a, b, p):
        return b + (a - b) / 2 * (math.cos(math.pi * p) + 1)
    init = max_lr / div
    up_end = pct * total - 1
    if step <= up_end:
        p = step / up_end
        return cos(init, max_lr, p), cos(hi_m, lo_m, p)
    p = (step - up_end) / (total - 1 - up_end)
    return cos(max_lr, init / final, p), cos(lo_m, hi_m, p)


def test_one_cycle_lr_and_momentum():
    o = sgd()
    s = OneCycleLR(o, max_lr=1.0, total_steps=12)
    lrs, moms = [], []
    for _ in range(12):
        lrs.append(o.param_groups[0]["lr"])
        moms.append(o.param_groups[0]["momentum"])
        o.step()
        s.step() if len(lrs) < 12 else None
    expected = [_one_cycle(t, 12, 1.0) for t in range(12)]
    assert lrs == pytest.approx([e[0] for e in expected]) and moms == pytest.approx([e[1] for e in expected])
    with pytest.raises(ValueError, match="tried to step 13 times"):
        s.step()
        s.step()


def test_one_cycle_three_phase_linear_moves_adams_beta1():
    o = adam()
    s = OneCycleLR(o, max_lr=1.0, epochs=3, steps_per_epoch=4, three_phase=True, anneal_strategy="linear")
    got = trace(o, s, 12)
    init, t = 0.04, 12
    ends = [0.3 * t - 1, 2 * 0.3 * t - 2, t - 1]
    expected = []
    for step in range(12):
        if step <= ends[0]:
            expected.append(init + (1.0 - init) * step / ends[0])
        elif step <= ends[1]:
            expected.append(1.0 + (init - 1.0) * (step - ends[0]) / (ends[1] - ends[0]))
        else:
            expected.append(init + (init / 1e4 - init) * (step - ends[1]) / (ends[2] - ends[1]))
    assert got == pytest.approx(expected)
    o = adam()
    s = OneCycleLR(o, max_lr=1.0, total_steps=10)
    assert o.param_groups[0]["betas"][0] == pytest.approx(0.95) and o.param_groups[0]["betas"][1] == 0.999


def _triangle(t, up, down):
    cycle_len = up + down
    pos = t % cycle_len
    return pos / up if pos <= up else 1 - (pos - up) / down


def test_cyclic_lr_modes():
    o = sgd()
    got = trace(o, CyclicLR(o, 0.01, 0.1, step_size_up=3, step_size_down=2, mode="triangular2"), 15)
    expected = [0.01 + 0.09 * _triangle(t, 3, 2) / 2 ** (t // 5) for t in range(15)]
    assert got == pytest.approx(expected)
    o = sgd()
    moms = trace(o, CyclicLR(o, 0.01, 0.1, step_size_up=3), 8, key="momentum")
    assert moms == pytest.approx([0.9 - 0.1 * _triangle(t, 3, 3) for t in range(8)])
    o = adam()
    got = trace(o, CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.9), 12)
    assert got == pytest.approx([0.01 + 0.09 * _triangle(t, 3, 3) * 0.9 ** t for t in range(12)])
    o = sgd()
    got = trace(o, CyclicLR(o, 0.0, 1.0, step_size_up=2, scale_fn=lambda c: 1 / c, cycle_momentum=False), 8)
    assert got == pytest.approx([_triangle(t, 2, 2) / (t // 4 + 1) for t in range(8)])


def test_reduce_lr_on_plateau():
    o = sgd()
    s = ReduceLROnPlateau(o, patience=1, cooldown=1, factor=0.5, min_lr=0.02)
    metrics = [5, 4, 4, 4, 4, 3.9999, 4, 4, 4, 4, 4, 4]
    got = trace(o, s, 12, metrics)
    # bad epochs from epoch 2 on: > patience after 2 of them (epoch 3) -> 0.05; cooldown 1 epoch, then 2 more bad
    # (3.9999 is not better than 4 by the relative threshold 1e-4) -> 0.025; then the floor 0.02; then unchanged.
    assert got == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02])
    o = sgd()
    s = ReduceLROnPlateau(o, mode="max", threshold_mode="abs", threshold=0.1, patience=0)
    got = trace(o, s, 6, [1, 1.05, 1.2, 1.25, 1.4, 1.0])
    assert got == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    assert s.get_last_lr() == pytest.approx([1e-4]) and s.best == 1.4
    s2 = ReduceLROnPlateau(sgd(), mode="max")
    s2.load_state_dict(s.state_dict())
    assert s2.best == 1.4 and s2.num_bad_epochs == s.num_bad_epochs
    s.step(gdcore.tensor(2.0))  # a one-element tensor as the metric
    assert s.best == 2.0


def test_state_dicts_round_trip():
    o = sgd()
    s = OneCycleLR(o, max_lr=1.0, total_steps=20)
    for _ in range(5):
        s.step()
    o2 = sgd()
    s2 = OneCycleLR(o2, max_lr=1.0, total_steps=20)
    s2.load_state_dict(s.state_dict())
    s.step()
    s2.step()
    assert s2.get_last_lr() == pytest.approx(s.get_last_lr())
    o = sgd()
    seq = SequentialLR(o, [ConstantLR(o, 0.5, 2), ExponentialLR(o, 0.9)], [2])
    for _ in range(4):
        seq.step()
    o2 = sgd()
    seq2 = SequentialLR(o2, [ConstantLR(o2, 0.5, 2), ExponentialLR(o2, 0.9)], [2])
    seq2.load_state_dict(seq.state_dict())
    seq.step()
    seq2.step()
    assert seq2.get_last_lr() == pytest.approx(seq.get_last_lr())
