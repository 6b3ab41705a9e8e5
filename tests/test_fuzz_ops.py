"""Fuzzing: random programs of ops on random shapes and dtypes, checked against numpy and finite differences.

A hypothesis strategy draws a small program: leaves of random shape (0-d to 3-d, empty dimensions
included), then a sequence of ops (unary maths, binary ops whose second operand broadcasts from
either side, reductions, views, joins, matmul, in-place updates, detach), each reading an earlier
value. The program runs twice: on gdcore tensors and on float64 (or int64) numpy arrays. Values,
shapes and dtypes must agree. For float64 programs the gradient of a random weighted sum of the
output is taken with a randomly chosen backward call (backward, backward twice with retain_graph,
backward(gradient=...) or autograd.grad) and compared with central finite differences of the numpy
program, unless the point sits within 1e-4 of a kink (abs, relu, max, clamp ties), where the
derivative is not defined.

Ops whose domain is restricted are drawn in a safe composite form (log(x*x + 0.5), a / (b*b + 0.5)),
and an op whose numpy result would leave [-LIMIT, LIMIT] is replaced by tanh, so every program is
well conditioned. CI runs EXAMPLES programs per dtype; run longer with e.g.
``GDCORE_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz_ops.py``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdcore

EXAMPLES = int(os.environ.get("GDCORE_FUZZ_EXAMPLES", "200"))
LIMIT = 50.0  # largest |value| a program may produce (see the module docstring)
KINK = 1e-4  # gradients are compared only this far from every non-differentiable point
H = 1e-6  # finite-difference step (float64)

FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@dataclass
class Step:
    """One op of a program: pool entries ``inputs`` -> a new entry, on numpy and on gdcore."""
    name: str
    inputs: tuple
    numpy: Callable
    gdcore: Callable
    detach: bool = False


@dataclass(repr=False)
class Program:
    kind: str  # "float32", "float64" or "int64"
    entries: list = field(default_factory=list)  # ("leaf", array, gdcore dtype) or ("op", Step)
    values: list = field(default_factory=list)  # the numpy value of each entry
    dtypes: list = field(default_factory=list)  # the gdcore dtype each entry must have
    margin: float = math.inf  # distance of the point to the nearest kink

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        lines = [f"Program({self.kind})"]
        for number, entry in enumerate(self.entries):
            if entry[0] == "leaf":
                lines.append(f"  v{number} = leaf {entry[1].shape} {entry[2]}")
            else:
                step = entry[1]
                lines.append(f"  v{number} = {step.name}({', '.join(f'v{i}' for i in step.inputs)})")
        return "\n".join(lines)


# ---------------------------------------------------------------- drawing programs

FLOAT = {"float32": gdcore.float32, "float64": gdcore.float64}


def _promote(a, b):
    return gdcore.float64 if gdcore.float64 in (a, b) else a


def _kink(values: np.ndarray, at) -> float:
    """Smallest distance of ``values`` to the kink ``at`` (inf when there are no values)."""
    distance = np.abs(np.asarray(values, dtype=np.float64) - at)
    return float(distance.min()) if distance.size else math.inf


def _top_two_gap(value: np.ndarray, axis) -> float:
    """Smallest gap between the largest two entries along ``axis`` (inf if each slice has one entry)."""
    value = np.asarray(value, dtype=np.float64)
    flat = value.reshape(-1) if axis is None else np.moveaxis(value, axis, -1)
    if flat.shape[-1] < 2 or flat.size == 0:
        return math.inf
    ordered = np.sort(flat, axis=-1)
    return float((ordered[..., -1] - ordered[..., -2]).min())


class Builder:
    """Draws a program op by op, computing each numpy value as it goes (shapes decide what comes next)."""

    def __init__(self, draw, kind: str):
        self.draw = draw
        self.program = Program(kind)
        self.integer = kind == "int64"

    # -- entries --------------------------------------------------------------------------
    def leaf(self, shape, dtype=None) -> int:
        dtype = dtype or (gdcore.int64 if self.integer else FLOAT[self.program.kind])
        rng = np.random.default_rng(self.draw(st.integers(0, 2**32 - 1)))
        if dtype == gdcore.int64:
            array = rng.integers(-4, 5, size=shape).astype(np.int64)
        else:
            array = rng.uniform(-2.0, 2.0, size=shape)
            if dtype == gdcore.float32:
                array = array.astype(np.float32).astype(np.float64)  # the values a float32 leaf really holds
        self.program.entries.append(("leaf", array, dtype))
        self.program.values.append(array)
        self.program.dtypes.append(dtype)
        return len(self.program.entries) - 1

    def op(self, name, inputs, numpy_fn, gdcore_fn, dtype=None, margin=None, detach=False) -> Optional[int]:
        """Append an op unless its numpy value would be non-finite or leave [-LIMIT, LIMIT]."""
        args = [self.program.values[i] for i in inputs]
        with np.errstate(all="ignore"):
            value = np.asarray(numpy_fn(*args))
        if not self.integer and value.size and not (np.all(np.isfinite(value)) and np.abs(value).max() <= LIMIT):
            return None
        if self.integer and value.size and np.abs(value).max() > 2**40:
            return None
        self.program.entries.append(("op", Step(name, tuple(inputs), numpy_fn, gdcore_fn, detach)))
        self.program.values.append(value)
        if dtype is None:
            dtype = self.result_type(inputs)
        self.program.dtypes.append(dtype)
        if margin is not None:
            self.program.margin = min(self.program.margin, margin(*args))
        return len(self.program.entries) - 1

    def result_type(self, inputs) -> object:
        """torch's promotion: float32 with float64 gives float64, but 0-d tensors defer to dimensioned ones."""
        dimensioned = [i for i in inputs if self.program.values[i].ndim > 0] or list(inputs)
        dtype = self.program.dtypes[dimensioned[0]]
        for i in dimensioned[1:]:
            dtype = _promote(dtype, self.program.dtypes[i])
        return dtype

    def shape(self, i) -> tuple:
        return self.program.values[i].shape

    # -- operands ---------------------------------------------------------------------------
    def broadcast_partner(self, i) -> int:
        """A fresh leaf whose shape broadcasts with entry i's, from either side, or entry i itself."""
        if self.draw(st.integers(0, 5)) == 0:
            return i  # x op x: the same tensor reaches the op twice (gradients must add up)
        shape = []
        for size in self.shape(i):
            options = [1, 2, 3] if size == 1 else [1, size]
            shape.append(self.draw(st.sampled_from(options)))
        if self.draw(st.booleans()):
            shape = [self.draw(st.integers(1, 3))] + shape  # more dimensions than x
        elif shape and self.draw(st.booleans()):
            shape = shape[self.draw(st.integers(1, len(shape))):]  # fewer dimensions than x
        dtype = None
        if self.program.kind == "float32" and self.draw(st.integers(0, 3)) == 0:
            dtype = gdcore.float64  # mixed dtypes promote to float64
        return self.leaf(tuple(shape), dtype)

    def dim(self, i, extra: int = 0) -> Optional[int]:
        ndim = len(self.shape(i)) + extra
        return self.draw(st.integers(-ndim, ndim - 1)) if ndim else None


# Unary maths on floats: name -> (numpy, gdcore, kink).
UNARY = {
    "neg": (np.negative, lambda t: -t, None),
    "abs": (np.abs, lambda t: t.abs(), 0.0),
    "relu": (lambda x: np.maximum(x, 0.0), lambda t: t.relu(), 0.0),
    "exp": (np.exp, lambda t: t.exp(), None),
    "log": (lambda x: np.log(x * x + 0.5), lambda t: (t * t + 0.5).log(), None),
    "sqrt": (lambda x: np.sqrt(x * x + 0.5), lambda t: (t * t + 0.5).sqrt(), None),
    "sin": (np.sin, lambda t: t.sin(), None),
    "cos": (np.cos, lambda t: t.cos(), None),
    "tan": (lambda x: np.tan(np.tanh(x)), lambda t: t.tanh().tan(), None),
    "tanh": (np.tanh, lambda t: t.tanh(), None),
    "sinh": (np.sinh, lambda t: t.sinh(), None),
    "cosh": (np.cosh, lambda t: t.cosh(), None),
    "sigmoid": (lambda x: 1.0 / (1.0 + np.exp(-x)), lambda t: t.sigmoid(), None),
    "square": (lambda x: x ** 2, lambda t: t ** 2, None),
    "cube": (lambda x: x ** 3, lambda t: t.pow(3), None),
    "pow_half": (lambda x: (x * x + 0.5) ** 0.5, lambda t: (t * t + 0.5) ** 0.5, None),
    "rpow": (lambda x: 1.5 ** x, lambda t: 1.5 ** t, None),
}

# Binary ops (the second operand broadcasts): name -> (numpy, gdcore, kink of a - b or None).
BINARY = {
    "add": (np.add, lambda a, b: a + b, None),
    "sub": (np.subtract, lambda a, b: a - b, None),
    "mul": (np.multiply, lambda a, b: a * b, None),
    "div": (lambda a, b: a / (b * b + 0.5), lambda a, b: a / (b * b + 0.5), None),
    "maximum": (np.maximum, lambda a, b: gdcore.maximum(a, b), True),
    "minimum": (np.minimum, lambda a, b: gdcore.minimum(a, b), True),
    "pow": (lambda a, b: (a * a + 0.5) ** b, lambda a, b: (a * a + 0.5) ** b, None),
}
INT_BINARY = {name: BINARY[name][:2] for name in ("add", "sub", "mul", "maximum", "minimum")}

OPS = ["unary"] * 5 + ["binary"] * 5 + ["scalar", "clamp", "reduce", "reduce", "max_dim", "view", "view", "view",
                                        "index", "join", "matmul", "inplace", "detach", "mse"]
INT_OPS = ["int_unary", "binary", "binary", "scalar", "reduce", "max_dim", "view", "view", "index", "join"]


def add_op(b: Builder, x: int) -> Optional[int]:
    """Append one random op reading entry ``x``; None when the drawn op does not apply."""
    draw = b.draw
    kind = draw(st.sampled_from(INT_OPS if b.integer else OPS))
    shape = b.shape(x)

    if kind == "unary":
        name = draw(st.sampled_from(sorted(UNARY)))
        f, g, kink = UNARY[name]
        return b.op(name, [x], f, g, margin=None if kink is None else (lambda v, k=kink: _kink(v, k)))
    if kind == "int_unary":
        name = draw(st.sampled_from(["neg", "abs"]))
        if name == "neg":
            return b.op(name, [x], np.negative, lambda t: -t)
        return b.op(name, [x], np.abs, lambda t: t.abs())
    if kind == "binary":
        table = INT_BINARY if b.integer else BINARY
        name = draw(st.sampled_from(sorted(table)))
        f, g = table[name][:2]
        kink = not b.integer and BINARY[name][2]
        y = b.broadcast_partner(x)
        if draw(st.booleans()):
            x, y = y, x  # the broadcast operand on the left as well
        margin = (lambda p, q: _kink(p - q, 0.0)) if kink else None
        return b.op(name, [x, y], f, g, margin=margin)
    if kind == "scalar":
        c = draw(st.sampled_from([-3, -1, 2, 5])) if b.integer else draw(st.sampled_from([-2.5, -1.0, 0.5, 3.0]))
        which = draw(st.sampled_from(["x+c", "c-x", "x*c", "c*x"] + ([] if b.integer else ["x/c", "c/x"])))
        table = {"x+c": (lambda v: v + c, lambda t: t + c), "c-x": (lambda v: c - v, lambda t: c - t),
                 "x*c": (lambda v: v * c, lambda t: t * c), "c*x": (lambda v: c * v, lambda t: c * t),
                 "x/c": (lambda v: v / c, lambda t: t / c),
                 "c/x": (lambda v: c / (v * v + 0.5), lambda t: c / (t * t + 0.5))}
        return b.op(which.replace("c", repr(c)), [x], *table[which])
    if kind == "clamp":
        low, high = sorted(draw(st.lists(st.sampled_from([-1.5, -0.5, 0.0, 0.25, 1.0]), min_size=2, max_size=2)))
        return b.op(f"clamp({low}, {high})", [x], lambda v: np.clip(v, low, high), lambda t: t.clamp(low, high),
                    margin=lambda v: min(_kink(v, low), _kink(v, high)))
    if kind == "reduce":
        name = draw(st.sampled_from(["sum", "amax", "amin"] + ([] if b.integer else ["mean"])))
        dim = draw(st.one_of(st.none(), st.just(b.dim(x))))
        keepdim = draw(st.booleans())
        empty = any(s == 0 for s in shape) if dim is None else (shape and shape[dim] == 0)
        if dim is None and shape == () and keepdim:
            keepdim = False
        if name in ("amax", "amin", "mean") and (empty or 0 in shape):
            name = "sum"  # max of nothing is undefined; numpy warns on the mean of nothing
        numpy_fn = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min}[name]
        margin = None
        if name in ("amax", "amin"):
            sign = 1.0 if name == "amax" else -1.0
            margin = lambda v, d=dim: _top_two_gap(sign * v, d)
        if dim is None:
            return b.op(f"{name}()", [x], lambda v: numpy_fn(v), lambda t: getattr(t, name)(), margin=margin)
        return b.op(f"{name}(dim={dim}, keepdim={keepdim})", [x],
                    lambda v: numpy_fn(v, axis=dim, keepdims=keepdim),
                    lambda t: getattr(t, name)(dim, keepdim), margin=margin)
    if kind == "max_dim":
        if not shape or 0 in shape:
            return None
        dim, keepdim = b.dim(x), draw(st.booleans())
        name = draw(st.sampled_from(["max", "min"]))
        sign = 1.0 if name == "max" else -1.0
        numpy_fn = np.max if name == "max" else np.min
        return b.op(f"{name}(dim={dim}, keepdim={keepdim}).values", [x],
                    lambda v: numpy_fn(v, axis=dim, keepdims=keepdim),
                    lambda t: getattr(t, name)(dim, keepdim)[0], margin=lambda v: _top_two_gap(sign * v, dim))
    if kind == "view":
        return add_view(b, x)
    if kind == "index":
        if not shape or shape[0] == 0:
            return None
        picks = draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=0, max_size=4))
        style = draw(st.sampled_from(["tensor", "index_select", "slice", "int"]))
        if style == "int":
            k = picks[0] if picks else 0
            return b.op(f"x[{k}]", [x], lambda v: v[k], lambda t: t[k])
        if style == "slice":
            step = draw(st.integers(1, 3))
            return b.op(f"x[::{step}]", [x], lambda v: v[::step], lambda t: t[::step])
        rows = [p % shape[0] for p in picks]
        if style == "tensor":
            return b.op(f"x[{rows}]", [x], lambda v: v[np.array(rows, dtype=np.int64)],
                        lambda t: t[gdcore.tensor(rows, dtype=gdcore.int64)])
        d = b.dim(x)
        rows = [p % shape[d] for p in picks] if shape[d] else []
        return b.op(f"index_select({d}, {rows})", [x], lambda v: np.take(v, np.array(rows, dtype=np.int64), axis=d),
                    lambda t: t.index_select(d, gdcore.tensor(rows, dtype=gdcore.int64)))
    if kind == "join":
        stack = draw(st.booleans())
        if not shape and not stack:
            return None
        d = b.dim(x, extra=1 if stack else 0)
        other = list(shape)
        if not stack:
            other[d] = draw(st.integers(0, 3))
        y = b.leaf(tuple(other))
        if draw(st.booleans()):
            x, y = y, x
        if stack:
            return b.op(f"stack(dim={d})", [x, y], lambda p, q: np.stack([p, q], axis=d),
                        lambda p, q: gdcore.stack([p, q], d))
        return b.op(f"cat(dim={d})", [x, y], lambda p, q: np.concatenate([p, q], axis=d),
                    lambda p, q: gdcore.cat([p, q], d))
    if kind == "matmul":
        if not shape:
            return None
        style = draw(st.sampled_from(["right", "left", "vector"]))
        m = draw(st.integers(1, 3))
        dtype = b.program.dtypes[x]  # matmul needs equal dtypes (as torch's does)
        if style == "right" or len(shape) < 2:  # x (..., k) @ W (k, m); a 1-d x is a vector
            w = b.leaf((shape[-1], m) if style != "vector" else (shape[-1],), dtype)
            return b.op("x @ w", [x, w], np.matmul, lambda p, q: p @ q)
        if style == "vector":
            w = b.leaf((shape[-1],), dtype)
            return b.op("x @ v", [x, w], np.matmul, lambda p, q: gdcore.matmul(p, q))
        w = b.leaf((m, shape[-2]), dtype)  # W (m, n) @ x (..., n, k)
        return b.op("w @ x", [w, x], np.matmul, lambda p, q: p @ q)
    if kind == "inplace":
        c1, c2 = draw(st.sampled_from([0.5, -2.0])), draw(st.sampled_from([1.0, -0.25]))
        return b.op(f"clone().mul_({c1}).add_({c2})", [x], lambda v: v * c1 + c2,
                    lambda t: t.clone().mul_(c1).add_(c2))
    if kind == "detach":  # x * x.detach(): the gradient flows through one factor only
        frozen = b.op("detach", [x], lambda v: v, lambda t: t.detach(), detach=True)
        return b.op("mul", [x, frozen], np.multiply, lambda p, q: p * q)
    if kind == "mse":
        y = b.leaf(shape, b.program.dtypes[x])  # mse_loss needs equal dtypes
        reduction = draw(st.sampled_from(["mean", "sum", "none"]))
        if reduction == "mean" and 0 in shape:
            reduction = "sum"
        reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
        return b.op(f"mse_loss({reduction})", [x, y], lambda p, q: reduce((p - q) ** 2),
                    lambda p, q: gdcore.mse_loss(p, q, reduction=reduction))
    raise AssertionError(kind)


def add_view(b: Builder, x: int) -> Optional[int]:
    draw, shape = b.draw, b.shape(x)
    ndim = len(shape)
    which = draw(st.sampled_from(["transpose", "permute", "flatten", "reshape", "unsqueeze", "squeeze", "expand",
                                  "contiguous_t"]))
    if which == "transpose" and ndim >= 1:
        d0, d1 = b.dim(x), b.dim(x)
        return b.op(f"transpose({d0}, {d1})", [x], lambda v: np.swapaxes(v, d0, d1), lambda t: t.transpose(d0, d1))
    if which == "permute" and ndim >= 1:
        order = draw(st.permutations(range(ndim)))
        return b.op(f"permute{tuple(order)}", [x], lambda v: np.transpose(v, order), lambda t: t.permute(*order))
    if which == "flatten":
        return b.op("flatten", [x], lambda v: v.reshape(-1), lambda t: t.flatten())
    if which == "reshape":
        size = int(np.prod(shape))
        divisors = [d for d in range(1, size + 1) if size % d == 0] or [1]
        first = draw(st.sampled_from(divisors))
        new = (first, -1) if size else (0, draw(st.integers(1, 3)))
        return b.op(f"reshape{new}", [x], lambda v: v.reshape(new), lambda t: t.reshape(*new))
    if which == "unsqueeze":
        d = b.dim(x, extra=1)
        return b.op(f"unsqueeze({d})", [x], lambda v: np.expand_dims(v, d), lambda t: t.unsqueeze(d))
    if which == "squeeze":
        return b.op("squeeze", [x], np.squeeze, lambda t: t.squeeze())
    if which == "expand":
        lead = draw(st.integers(1, 3))
        sizes = [lead] + [draw(st.sampled_from([1, 2])) if s == 1 else s for s in shape]
        return b.op(f"expand{tuple(sizes)}", [x], lambda v: np.broadcast_to(v, sizes), lambda t: t.expand(*sizes))
    if which == "contiguous_t" and ndim == 2:
        return b.op("t().contiguous()", [x], lambda v: np.ascontiguousarray(v.T), lambda t: t.t().contiguous())
    return None


@st.composite
def programs(draw, kind: str) -> Program:
    b = Builder(draw, kind)
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.sampled_from([1, 2, 3, 4, 1, 2, 3, 0])) for _ in range(ndim))
    current = b.leaf(shape)
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 4)) == 0:
            current = draw(st.integers(0, len(b.program.entries) - 1))  # reuse an earlier value: a DAG
        made = add_op(b, current)
        if made is None:  # the op did not apply, or would leave the safe range
            made = b.op("tanh", [current], np.tanh, lambda t: t.tanh()) if not b.integer else current
        current = made
    if current != len(b.program.entries) - 1:  # the output is the last entry
        b.op("identity", [current], lambda v: v, lambda t: t * 1)
    return b.program


# ---------------------------------------------------------------- running programs

def run_numpy(program: Program, leaves: list, detached: Optional[list] = None, seen: Optional[list] = None):
    """The program's output on numpy arrays. ``detached`` replays the values detach() froze at the
    unperturbed point (so finite differences see them as constants); ``seen`` collects them."""
    pool, count, k = [], 0, 0
    for entry in program.entries:
        if entry[0] == "leaf":
            pool.append(leaves[k])
            k += 1
            continue
        step = entry[1]
        with np.errstate(all="ignore"):
            value = np.asarray(step.numpy(*[pool[i] for i in step.inputs]))
        if step.detach:
            if detached is not None:
                value = detached[count]
            if seen is not None:
                seen.append(value.copy())
            count += 1
        pool.append(value)
    return pool[-1]


def run_gdcore(program: Program):
    """(output tensor, leaf tensors) of the program on gdcore tensors."""
    pool, leaves = [], []
    for entry in program.entries:
        if entry[0] == "leaf":
            _, array, dtype = entry
            t = gdcore.tensor(array, dtype=dtype, requires_grad=dtype.is_floating_point)
            leaves.append(t)
            pool.append(t)
        else:
            step = entry[1]
            pool.append(step.gdcore(*[pool[i] for i in step.inputs]))
    return pool[-1], leaves


def check_values(program: Program, out) -> None:
    expected = program.values[-1]
    assert isinstance(out, gdcore.Tensor)
    assert tuple(out.shape) == expected.shape, f"shape {tuple(out.shape)} != numpy's {expected.shape}"
    assert out.dtype == program.dtypes[-1], f"dtype {out.dtype} != expected {program.dtypes[-1]}"
    got = out.detach().numpy()
    if program.kind == "int64":
        np.testing.assert_array_equal(got, expected)
    elif program.kind == "float32":  # (float32 intermediates even when a float64 operand promoted the result)
        np.testing.assert_allclose(got, expected, rtol=2e-4, atol=2e-4)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def finite_difference_gradients(program: Program, weights: np.ndarray) -> list:
    """Central differences of sum(output * weights) with respect to every leaf, on the numpy program."""
    leaves = [entry[1].copy() for entry in program.entries if entry[0] == "leaf"]
    frozen: list = []
    run_numpy(program, leaves, seen=frozen)
    grads = []
    for leaf in leaves:
        grad = np.zeros_like(leaf)
        flat, gflat = leaf.reshape(-1), grad.reshape(-1)
        for j in range(flat.size):
            keep = flat[j]
            flat[j] = keep + H
            up = float(np.sum(run_numpy(program, leaves, frozen) * weights))
            flat[j] = keep - H
            down = float(np.sum(run_numpy(program, leaves, frozen) * weights))
            flat[j] = keep
            gflat[j] = (up - down) / (2 * H)
        grads.append(grad)
    return grads


def analytic_gradients(out, leaves: list, weights: np.ndarray, mode: str) -> list:
    w = gdcore.tensor(weights, dtype=gdcore.float64)
    if mode == "autograd.grad":
        grads = gdcore.autograd.grad((out * w).sum(), leaves, allow_unused=True)
        return [None if g is None else g.numpy() for g in grads]
    if mode == "gradient=":
        out.backward(w)
    elif mode == "twice":
        loss = (out * w).sum()
        loss.backward(retain_graph=True)
        loss.backward()
    else:
        (out * w).sum().backward()
    scale = 0.5 if mode == "twice" else 1.0  # two backward calls accumulate twice the gradient
    return [None if t.grad is None else t.grad.numpy() * scale for t in leaves]


@FUZZ
@given(program=programs("float64"), seed=st.integers(0, 2**32 - 1),
       mode=st.sampled_from(["backward", "twice", "gradient=", "autograd.grad"]))
def test_float64_values_and_gradients(program, seed, mode):
    out, leaves = run_gdcore(program)
    check_values(program, out)
    if not out.requires_grad:  # e.g. the output was detached
        return
    weights = np.random.default_rng(seed).uniform(-1.0, 1.0, size=program.values[-1].shape)
    got = analytic_gradients(out, leaves, weights, mode)
    for leaf, g in zip(leaves, got):
        assert g is None or g.shape == tuple(leaf.shape)
    if program.margin < KINK:
        return  # too close to a kink for finite differences to mean anything
    expected = finite_difference_gradients(program, weights)
    scale = 1.0 + float(np.abs(program.values[-1] * weights).sum())
    for i, (g, fd) in enumerate(zip(got, expected)):
        g = np.zeros_like(fd) if g is None else g
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6 * scale, err_msg=f"gradient of leaf {i}")


@FUZZ
@given(program=programs("float32"))
def test_float32_values(program):
    out, _ = run_gdcore(program)
    check_values(program, out)


@FUZZ
@given(program=programs("int64"))
def test_int64_values_exactly(program):
    out, _ = run_gdcore(program)
    check_values(program, out)
