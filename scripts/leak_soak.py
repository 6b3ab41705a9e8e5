#!/usr/bin/env python3
"""Leak soak: run many iterations of each gdcore workload and report how resident memory grows.

The long, manual counterpart of tests/test_leaks.py. Every workload (training steps with each
optimizer, graphs dropped without backward, retain_graph, create_graph and Hessians, conv/pool,
indexing, numpy round trips, raised errors) warms up, then runs ``--steps`` iterations while the
resident set size (/proc/self/statm) is sampled ``--samples`` times. A workload fails when memory
grows by more than ``--allowed-mb`` after the warm-up; the exit status is the number of failures.

    PYTHONPATH=python python scripts/leak_soak.py --steps 2000000
    PYTHONPATH=python python scripts/leak_soak.py --steps 200000 --only sgd,adam,dropped_graph
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time

import gdcore
from gdcore import nn, optim


def resident_bytes() -> int:
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def training_step(optimizer_class, **options):
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    optimizer = optimizer_class(model.parameters(), **options)
    X, y = gdcore.randn(16, 3), gdcore.randn(16, 1)

    def step():
        optimizer.zero_grad()
        gdcore.mse_loss(model(X), y).backward()
        optimizer.step()
    return step


def workloads() -> dict:
    x = gdcore.randn(5, requires_grad=True)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    X, y = gdcore.randn(16, 3), gdcore.randn(16, 1)
    image = gdcore.randn(2, 1, 8, 8, requires_grad=True)
    kernel = gdcore.randn(3, 1, 3, 3, requires_grad=True)
    rows = gdcore.tensor([0, 2, 4])

    def retained():
        loss = gdcore.mse_loss(model(X), y)
        loss.backward(retain_graph=True)
        loss.backward()
        model.zero_grad()

    def second_order():
        (g,) = gdcore.autograd.grad((x ** 3).sum(), [x], create_graph=True)
        g.sum().backward()
        x.grad = None

    def conv_pool():
        out = nn.functional.max_pool2d(nn.functional.conv2d(image, kernel, padding=1), 2)
        out.sum().backward()
        image.grad = kernel.grad = None

    def indexing():
        (x[rows] * 2).sum().backward()
        x.grad = None

    def raised_errors():
        for bad in (lambda: gdcore.zeros(2) + gdcore.zeros(3), lambda: gdcore.zeros(2**40)):
            try:
                bad()
            except (ValueError, MemoryError):
                pass

    def value_graph():
        v = gdcore.Value(0.5)
        (v * v + v).tanh().backward()

    return {
        "sgd": training_step(optim.SGD, lr=1e-3, momentum=0.9, nesterov=True),
        "adam": training_step(optim.Adam, lr=1e-3, amsgrad=True),
        "adamw": training_step(optim.AdamW, lr=1e-3),
        "rmsprop": training_step(optim.RMSprop, lr=1e-3, momentum=0.5),
        "adagrad": training_step(optim.Adagrad, lr=1e-3),
        "adadelta": training_step(optim.Adadelta),
        "dropped_graph": lambda: gdcore.mse_loss(model(X), y),
        "retain_graph": retained,
        "create_graph": second_order,
        "hessian": lambda: gdcore.autograd.hessian(lambda a: (a ** 3).sum(), x),
        "conv_pool": conv_pool,
        "indexing": indexing,
        "numpy_round_trip": lambda: gdcore.from_numpy(gdcore.randn(64).numpy()).sum().item(),
        "raised_errors": raised_errors,
        "value": value_graph,
    }


def soak(name: str, work, steps: int, samples: int, allowed: float) -> bool:
    for _ in range(max(1000, steps // 20)):
        work()
    start = resident_bytes()
    started = time.perf_counter()
    trail = []
    chunk = max(1, steps // samples)
    done = 0
    while done < steps:
        for _ in range(min(chunk, steps - done)):
            work()
        done += min(chunk, steps - done)
        trail.append((resident_bytes() - start) / 2**20)
    grew = trail[-1]
    ok = grew <= allowed
    print(f"{name:18s} {steps:>10d} steps {time.perf_counter() - started:8.1f} s  growth {grew:+8.2f} MB  "
          f"(peak {max(trail):+.2f})  {'ok' if ok else 'LEAK?'}", flush=True)
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1_000_000, help="iterations per workload (default %(default)s)")
    parser.add_argument("--samples", type=int, default=10, help="memory readings per workload (default %(default)s)")
    parser.add_argument("--allowed-mb", type=float, default=4.0,
                        help="allowed growth per workload (default %(default)s)")
    parser.add_argument("--only", default="", help="comma-separated workload names (default: all)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.samples < 1:
        parser.error("--steps and --samples must be positive")
    if not os.path.exists("/proc/self/statm"):
        parser.error("needs /proc/self/statm (Linux)")
    gdcore.manual_seed(0)
    table = workloads()
    chosen = [n for n in args.only.split(",") if n] or list(table)
    unknown = sorted(set(chosen) - set(table))
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {sorted(table)}")
    failures = sum(not soak(n, table[n], args.steps, args.samples, args.allowed_mb) for n in chosen)
    print(f"{len(chosen) - failures} of {len(chosen)} workloads within {args.allowed_mb} MB")
    return failures


if __name__ == "__main__":
    sys.exit(main())
