"""The gradient descent chapter, run with gdcore: gradient descent in one and two dimensions with
learning rates that are too small, right and too large; a local minimum; Newton's method on a
convex and a nonconvex function (and damping it); preconditioning, a line search and conjugate
gradient on an ill-conditioned quadratic; stochastic gradient descent with constant, exponential
and polynomial learning-rate schedules. It prints the lines the chapter prints (`epoch 10, x: ...`)
and saves every figure into --out (default ./out/gd_chapter). Runs headless in a few seconds.

    python examples/gradient_descent_chapter.py --out /tmp/gd_chapter
"""
from __future__ import annotations

import argparse
import math
import os
import warnings

import gdcore
from gdcore import optimize
from gdcore.optim import schedules
from gdcore.plot import plot_losses, show_trace, show_trace_2d

C_NONCONVEX = 0.15 * math.pi


def f_square(x):
    return x ** 2


def f_nonconvex(x):
    return x * gdcore.cos(C_NONCONVEX * x)


def f_cosh(x):
    return gdcore.cosh(0.5 * x)


def f_2d(x):
    return x[0] ** 2 + 2 * x[1] ** 2


def f_ill_conditioned(x):
    """The momentum chapter's badly scaled quadratic: curvatures 0.2 and 4 (condition number 20)."""
    return 0.1 * x[0] ** 2 + 2 * x[1] ** 2


def one_dimension(out: str) -> None:
    """x^2 from x = 10 with three learning rates, then the local minimum of x cos(c x)."""
    for lr in (0.2, 0.05, 1.1):
        result = optimize.gd(f_square, 10.0, lr, steps=10)
        print(f"epoch 10, x: {result.x:f}")
        show_trace(result, f_square, os.path.join(out, f"gd_lr_{lr}.png"), title=f"x^2, lr={lr}")
    result = optimize.gd(f_nonconvex, 10.0, 2, steps=10)
    print(f"epoch 10, x: {result.x:f}")
    show_trace(result, f_nonconvex, os.path.join(out, "local_minimum.png"), title="x cos(cx), lr=2")


def two_dimensions(out: str) -> None:
    result = optimize.gd(f_2d, [-5.0, -2.0], 0.1, steps=20)
    print(f"epoch 20, x1: {result.x[0]:f}, x2: {result.x[1]:f}")
    show_trace_2d(result, f_2d, os.path.join(out, "gd_2d.png"), title="x1^2 + 2 x2^2, lr=0.1")


def newton_method(out: str) -> None:
    result = optimize.newton(f_cosh, 10.0, steps=10)
    print(f"epoch 10, x: {result.x:f}")
    show_trace(result, f_cosh, os.path.join(out, "newton_cosh.png"), title="Newton on cosh(0.5x)")
    for eta in (1.0, 0.5):
        result = optimize.newton(f_nonconvex, 10.0, eta, steps=10)
        print(f"epoch 10, x: {result.x:f}")
        show_trace(result, f_nonconvex, os.path.join(out, f"newton_nonconvex_eta_{eta}.png"),
                   title=f"Newton on x cos(cx), eta={eta}")


def ill_conditioned(out: str) -> None:
    """Plain GD against its remedies on a badly scaled quadratic, all stopped at |gradient| <= 1e-6."""
    x0, tol, lr = [-5.0, -2.0], 1e-6, 0.4
    runs = {
        f"gd lr={lr}": optimize.gd(f_ill_conditioned, x0, lr, tol=tol),
        f"preconditioned lr={lr}": optimize.preconditioned_gd(f_ill_conditioned, x0, lr, tol=tol),
        "line search": optimize.gd_line_search(f_ill_conditioned, x0, tol=tol),
        "conjugate gradient": optimize.conjugate_gradient(f_ill_conditioned, x0, "polak-ribiere", tol=tol),
        "newton": optimize.newton(f_ill_conditioned, x0, tol=tol),
    }
    for name, result in runs.items():
        print(f"{name:24s} {result.iterations:5d} steps to every |gradient| <= {tol:g}, f = {result.fx:.3e}")
    show_trace_2d(runs[f"gd lr={lr}"], f_ill_conditioned, os.path.join(out, "ill_conditioned_gd.png"),
                  title=f"gd, lr={lr}")
    show_trace_2d(runs[f"preconditioned lr={lr}"], f_ill_conditioned,
                  os.path.join(out, "ill_conditioned_preconditioned.png"), title=f"diag(H)^-1 preconditioned, lr={lr}")
    show_trace_2d(runs["line search"], f_ill_conditioned, os.path.join(out, "ill_conditioned_line_search.png"),
                  title="gd with Armijo line search")
    show_trace_2d(runs["conjugate gradient"], f_ill_conditioned, os.path.join(out, "ill_conditioned_cg.png"),
                  title="conjugate gradient")
    floor = 1e-16  # f reaches 0 exactly on some paths; keep the log scale readable
    curves = {name: [max(v, floor) for v in r.trace.fx] for name, r in runs.items()}
    plot_losses(curves, path=os.path.join(out, "ill_conditioned_f_per_step.png"), xlabel="step", ylabel="f(x)",
                yscale="log", figsize=(5, 3.5), title="f along each method's path")


def stochastic(out: str, seed: int) -> None:
    """SGD with noisy gradients (std 1) on x1^2 + 2 x2^2 and three learning-rate schedules."""
    runs = [
        ("constant", schedules.constant(0.1), 50),
        ("exponential", schedules.exponential_decay(0.1, 0.1), 1000),
        ("polynomial", schedules.polynomial(0.1, alpha=0.5, beta=0.1), 50),
    ]
    rates = {}
    for name, schedule, steps in runs:
        result = optimize.sgd(f_2d, [-5.0, -2.0], schedule=schedule, noise=1.0, steps=steps, seed=seed)
        print(f"epoch {steps}, x1: {result.x[0]:f}, x2: {result.x[1]:f}   ({name} learning rate)")
        show_trace_2d(result, f_2d, os.path.join(out, f"sgd_{name}.png"), title=f"SGD, {name} lr")
        rates[name] = result.trace.lr[:50]
    plot_losses(rates, path=os.path.join(out, "sgd_schedules.png"), xlabel="step", ylabel="learning rate",
                title="learning-rate schedules")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join("out", "gd_chapter"), help="folder for the figures")
    parser.add_argument("--seed", type=int, default=0, help="seed of the SGD gradient noise")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    one_dimension(args.out)
    two_dimensions(args.out)
    newton_method(args.out)
    ill_conditioned(args.out)
    stochastic(args.out, args.seed)
    with warnings.catch_warnings(record=True) as caught:  # what a learning rate far too large does
        warnings.simplefilter("always", RuntimeWarning)
        result = optimize.gd(f_square, 10.0, 1.1, steps=200)
    print(f"lr=1.1 for 200 steps: diverged={result.diverged} after {result.iterations} steps")
    for warning in caught:
        print(f"  warning: {warning.message}")
    print(f"figures saved in {os.path.abspath(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
