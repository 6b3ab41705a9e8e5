"""Per-op costs: float32 matmul against numpy (target 4) and the overhead of one scalar op
recorded for autograd (the cost that dominates small eager models)."""
from __future__ import annotations

from typing import List

import numpy as np

import gdcore

from .workload import Workload


def matmul_workloads(anchors) -> List[Workload]:
    torch = anchors.get("torch")
    out = []
    for n in (256, 512, 1024):
        rng = np.random.default_rng(n)
        a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)

        def gd(a=a, b=b):
            x, y = gdcore.from_numpy(a), gdcore.from_numpy(b)
            return lambda: x @ y

        def numpy(a=a, b=b):
            return lambda: a @ b

        impls = {"gdcore": gd, "numpy": numpy}
        if torch:
            def th(a=a, b=b):
                x, y = torch.from_numpy(a), torch.from_numpy(b)
                return lambda: x @ y
            impls["torch"] = th
        out.append(Workload(f"op.matmul_{n}", f"matmul float32 {n}x{n} @ {n}x{n}", impls))
    return out


def op_overhead_workloads(anchors) -> List[Workload]:
    torch = anchors.get("torch")

    def tensor_op(lib):
        def setup():
            a, b = lib.tensor(1.5, requires_grad=True), lib.tensor(2.0)
            return lambda: a * b
        return setup

    impls = {"gdcore": tensor_op(gdcore)}
    if torch:
        impls["torch"] = tensor_op(torch)
    out = [Workload("op.scalar_autograd", "one scalar tensor op recorded for autograd (a * b)", impls)]

    def value_op(value):
        def setup():
            a, b = value(1.5), value(2.0)
            return lambda: a * b
        return setup

    impls = {"gdcore": value_op(gdcore.Value)}
    micrograd = anchors.get("micrograd")
    if micrograd:
        from micrograd.engine import Value as MicroValue
        impls["micrograd"] = value_op(MicroValue)
    out.append(Workload("op.value_mul", "one Value op (a * b)", impls))
    return out
