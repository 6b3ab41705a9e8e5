"""gdcore.optim.lr_scheduler: every scheduler gives the documented learning rates (closed
forms written here), writes them into the optimizer's groups, and resumes from its state dict."""
import math

import pytest

import gdcore
import gdcore.optim as optim
from gdcore.optim import lr_scheduler

EPOCHS = 12


def _optimizer(lrs=(0.5, 0.2)):
    groups = [{"params": [gdcore.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0])


def _run(scheduler, epochs=EPOCHS):
    """The lr of every group at epochs 0..epochs-1, read both from get_last_lr() and the groups."""
    seen = []
    for _ in range(epochs):
        last = scheduler.get_last_lr()
        assert last == [g["lr"] for g in scheduler.optimizer.param_groups]
        seen.append(last)
        scheduler.optimizer.step()
        scheduler.step()
    return seen


CLOSED_FORMS = [
    ("StepLR", dict(step_size=3, gamma=0.5), lambda lr0, t: lr0 * 0.5 ** (t // 3)),
    ("MultiStepLR", dict(milestones=[8, 2, 5], gamma=0.1),
     lambda lr0, t: lr0 * 0.1 ** sum(t >= m for m in (2, 5, 8))),
    ("MultiStepLR", dict(milestones=[4, 4], gamma=0.5), lambda lr0, t: lr0 * (0.25 if t >= 4 else 1.0)),
    ("ExponentialLR", dict(gamma=0.9), lambda lr0, t: lr0 * 0.9 ** t),
    ("InverseTimeLR", dict(), lambda lr0, t: lr0 / math.sqrt(t + 1)),
    ("InverseTimeLR", dict(alpha=2.0, beta=0.5), lambda lr0, t: lr0 / (0.5 * t + 1) ** 2),
    ("LambdaLR", dict(lr_lambda=lambda t: 1.0 / (1 + t * t)), lambda lr0, t: lr0 / (1 + t * t)),
]


@pytest.mark.parametrize("name,kwargs,closed_form", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_schedulers_give_the_documented_rates(name, kwargs, closed_form):
    sched = getattr(lr_scheduler, name)(_optimizer(), **kwargs)
    for t, lrs in enumerate(_run(sched)):
        assert lrs == pytest.approx([closed_form(0.5, t), closed_form(0.2, t)], rel=1e-14), f"epoch {t}"


def test_lambda_lr_takes_one_function_per_group():
    sched = lr_scheduler.LambdaLR(_optimizer(), [lambda t: 1.0 + t, lambda t: 0.5 ** t])
    for t, lrs in enumerate(_run(sched, 5)):
        assert lrs == pytest.approx([0.5 * (1.0 + t), 0.2 * 0.5 ** t])


def test_the_optimizer_steps_with_the_scheduled_rate():
    p = gdcore.tensor([0.0], dtype=gdcore.float64, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    expected = 0.0
    for t in range(6):
        p.grad = gdcore.tensor([1.0], dtype=gdcore.float64)
        opt.step()
        expected -= 1.0 * 0.1 ** (t // 2)
        sched.step()
    assert p.item() == pytest.approx(expected, rel=1e-14)


def test_a_group_with_zero_lr_stays_at_zero():
    sched = lr_scheduler.ExponentialLR(_optimizer((0.0, 0.3)), gamma=0.5)
    for t, lrs in enumerate(_run(sched, 4)):
        assert lrs == pytest.approx([0.0, 0.3 * 0.5 ** t])


def test_state_dict_resumes_the_same_sequence():
    opt = _optimizer()
    sched = lr_scheduler.MultiStepLR(opt, milestones=[3, 6], gamma=0.5)
    _run(sched, 4)
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 4

    # torch's order: build both, then load the optimizer (group lrs) and the scheduler.
    opt2 = _optimizer((9.0, 9.0))
    sched2 = lr_scheduler.MultiStepLR(opt2, milestones=[1], gamma=0.9)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert sched2.milestones == [3, 6] and sched2.gamma == 0.5
    assert _run(sched, 5) == _run(sched2, 5)


def test_lambda_state_dict_leaves_the_functions_out():
    sched = lr_scheduler.LambdaLR(_optimizer(), lambda t: 0.5 ** t)
    _run(sched, 3)
    sd = sched.state_dict()
    assert not any(callable(v) or isinstance(v, list) and any(callable(f) for f in v) for v in sd.values())
    again = lr_scheduler.LambdaLR(_optimizer(), lambda t: 0.5 ** t)
    again.load_state_dict(sd)
    assert again.last_epoch == 3 and again.get_lr() == pytest.approx([0.5 * 0.125, 0.2 * 0.125])


def test_resuming_with_last_epoch_uses_initial_lr():
    opt = _optimizer()
    lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)  # writes initial_lr into the groups
    for g in opt.param_groups:
        g["lr"] = 123.0
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5, last_epoch=4)
    assert sched.last_epoch == 5 and sched.get_last_lr() == pytest.approx([0.5 * 0.25, 0.2 * 0.25])


def test_resuming_without_initial_lr_raises():
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_optimizer(), step_size=2, last_epoch=3)


@pytest.mark.parametrize("make,exc,match", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "step_size"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2.5), ValueError, "step_size"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=-0.1), ValueError, "gamma"),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=math.nan), ValueError, "gamma"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=3), TypeError, "milestones"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[1, -2]), ValueError, "milestone"),
    (lambda o: lr_scheduler.InverseTimeLR(o, beta=-1.0), ValueError, "beta"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda t: 1.0]), ValueError, "1 lr_lambdas for 2 param groups"),
    (lambda o: lr_scheduler.LambdaLR(o, "fast"), TypeError, "callable"),
    (lambda o: lr_scheduler.LambdaLR(o, lambda t: "x"), TypeError, "must return a number"),
    (lambda o: lr_scheduler.StepLR(object(), step_size=1), TypeError, "Optimizer"),
    (lambda o: lr_scheduler.StepLR(o, step_size=1, last_epoch=-2), ValueError, "last_epoch"),
])
def test_bad_arguments_raise(make, exc, match):
    with pytest.raises(exc, match=match):
        make(_optimizer())
