"""The cost of curvature: a Hessian-vector product against a gradient, and top_eigenvalues against PyHessian.

python -m benchmarks.curvature [--quick] [--json out.json] [--no-torch]

For three models (the airfoil Linear(5, 1) and a 5-64-64-1 tanh MLP on the 1,500 standardised airfoil rows,
and LeNet-5 on a batch of 64 random 32x32 images with MSELoss against random targets) it times
  gradient     loss = closure(); autograd.grad(loss, params)                  (forward + backward)
  HVP fresh    the same with create_graph=True, then grad((g . v).sum())     (what one isolated HVP costs)
  HVP reused   the second backward only, the gradient's graph kept           (each Lanczos/power step)
and prints the ratios to the gradient. Theory says an HVP costs a small multiple of a gradient (about 2-4x:
the forward, a backward that records itself, and a backward through both).

When torch is importable (never a dependency of gdcore), the same weights and data go to a torch copy of each
model and PyHessian's method (power iteration with deflation on torch.autograd.grad double-backward HVPs, as
in pyhessian/hessian.py; the pyhessian package itself when installed) runs for the same number of iterations
as gdcore's ``top_eigenvalues(method="power")``: time and agreement of the top eigenvalue are printed.
These are measurements, not tests.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

import gdcore
from gdcore.curvature import top_eigenvalues
from gdcore.curvature.operator import HessianOperator

from .machine import machine_info
from .networks import lenet
from .small_models import airfoil_arrays
from .timing import format_seconds, measure_rounds

POWER_ITERATIONS = 20


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(5, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))


def linear(lib):
    return lib.nn.Sequential(lib.nn.Linear(5, 1))


def models():
    """(key, description, builder(lib), inputs (numpy), targets (numpy), note)."""
    X, y, note = airfoil_arrays()
    rng = np.random.default_rng(0)
    images = rng.standard_normal((64, 1, 32, 32)).astype(np.float32)
    targets = rng.standard_normal((64, 10)).astype(np.float32)
    return [
        ("airfoil_linear", "airfoil Linear(5, 1), 1,500 rows", linear, X, y.reshape(-1, 1), note),
        ("airfoil_mlp", "MLP 5-64-64-1 tanh, 1,500 airfoil rows", mlp, X, y.reshape(-1, 1), note),
        ("lenet_b64", "LeNet-5, batch 64", lenet, images, targets, None),
    ]


def gdcore_steps(build, X, y) -> tuple:
    gdcore.manual_seed(0)
    model = build(gdcore)
    params = list(model.parameters())
    Xg, yg = gdcore.from_numpy(X), gdcore.from_numpy(y)

    def closure():
        return gdcore.mse_loss(model(Xg), yg)

    n = sum(p.numel() for p in params)
    v = np.random.default_rng(1).standard_normal(n)
    vs = HessianOperator(closure, params, "bench").to_tensors(v)

    def gradient():
        return gdcore.autograd.grad(closure(), params)

    def hvp_fresh():
        grads = gdcore.autograd.grad(closure(), params, create_graph=True)
        dot = sum((g * w).sum() for g, w in zip(grads, vs))
        return gdcore.autograd.grad(dot, params)

    op = HessianOperator(closure, params, "bench")
    return model, closure, params, {"gradient": gradient, "HVP fresh": hvp_fresh, "HVP reused": lambda: op.matvec(v)}


def torch_power_iteration(torch, model, X, y, iterations: int) -> tuple:
    """PyHessian's top eigenvalue: power iteration on double-backward HVPs, a fixed number of iterations."""
    params = [p for p in model.parameters() if p.requires_grad]
    loss = torch.nn.functional.mse_loss(model(X), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    gen = torch.Generator().manual_seed(0)
    v = [torch.randn(p.shape, generator=gen) for p in params]
    norm = torch.sqrt(sum((x * x).sum() for x in v))
    v = [x / norm for x in v]
    value = None
    for _ in range(iterations):
        hv = torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True)
        value = sum((a * b).sum() for a, b in zip(hv, v)).item()
        norm = torch.sqrt(sum((x * x).sum() for x in hv))
        v = [x / norm for x in hv]
    return value


def pyhessian_top(model, X, y, iterations: int):
    """The pyhessian package's top eigenvalue, when it is installed (None otherwise)."""
    try:
        from pyhessian import hessian
    except ImportError:
        return None
    import torch
    comp = hessian(model, torch.nn.MSELoss(), data=(X, y), cuda=False)
    values, _ = comp.eigenvalues(maxIter=iterations, tol=0.0, top_n=1)
    return values[0]


def compare_with_torch(torch, key, build, X, y, gd_model, closure, params, repeats: int) -> dict:
    torch.manual_seed(0)
    model = build(torch)
    with torch.no_grad():
        for pt, pg in zip(model.parameters(), params):
            pt.copy_(torch.from_numpy(np.array(pg.detach().numpy())))
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    gd_times, torch_times = [], []
    torch_power_iteration(torch, model, Xt, yt, 2)      # warm-up: torch's thread pool and allocator, gdcore's pools
    top_eigenvalues(closure, params, k=1, method="power", max_iter=2, tol=1e-300)
    for _ in range(repeats):
        t0 = time.perf_counter()
        ours = top_eigenvalues(closure, params, k=1, method="power", max_iter=POWER_ITERATIONS, tol=1e-300,
                               generator=gdcore.Generator(0))
        gd_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        theirs = torch_power_iteration(torch, model, Xt, yt, POWER_ITERATIONS)
        torch_times.append(time.perf_counter() - t0)
    reference = top_eigenvalues(closure, params, k=1, tol=1e-8).eigenvalues[0]
    package = pyhessian_top(model, Xt, yt, POWER_ITERATIONS)
    return {"gdcore_power_s": float(np.median(gd_times)), "torch_power_s": float(np.median(torch_times)),
            "gdcore_power": ours.eigenvalues[0], "gdcore_power_matvecs": ours.matvecs, "torch_power": theirs,
            "lanczos_reference": reference, "pyhessian_package": package}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.curvature", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyHessian comparison")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        torch = None
    if args.no_torch:
        torch = None
    samples, budget, rounds = (4, 2.0, 2) if args.quick else (10, 6.0, 5)
    info = machine_info({"torch": torch.__version__} if torch else {})
    print(f"machine: {info}")
    results = {}
    for key, description, build, X, y, note in models():
        model, closure, params, steps = gdcore_steps(build, X, y)
        timings = measure_rounds(steps, samples=samples, budget_s=budget, rounds=rounds)
        medians = {name: t.median for name, t in timings.items()}
        row = {"description": description, "parameters": sum(p.numel() for p in params),
               **{f"{name} s": s for name, s in medians.items()},
               "fresh/gradient": medians["HVP fresh"] / medians["gradient"],
               "reused/gradient": medians["HVP reused"] / medians["gradient"]}
        print(f"{description} ({row['parameters']} parameters): gradient {format_seconds(medians['gradient'])}, "
              f"HVP fresh {format_seconds(medians['HVP fresh'])} ({row['fresh/gradient']:.2f}x), HVP reused "
              f"{format_seconds(medians['HVP reused'])} ({row['reused/gradient']:.2f}x)"
              + (f"  [{note}]" if note else ""))
        if torch is not None:
            row["torch"] = compare_with_torch(torch, key, build, X, y, model, closure, params, 2 if args.quick else 3)
            c = row["torch"]
            print(f"  top eigenvalue, {POWER_ITERATIONS} power iterations: gdcore {c['gdcore_power']:.6g} in "
                  f"{format_seconds(c['gdcore_power_s'])}, torch (PyHessian's method) {c['torch_power']:.6g} in "
                  f"{format_seconds(c['torch_power_s'])}; Lanczos reference {c['lanczos_reference']:.6g}"
                  + (f"; pyhessian package {c['pyhessian_package']:.6g}" if c["pyhessian_package"] is not None
                     else ""))
        results[key] = row
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": info, "results": results}, fh, indent=2, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
