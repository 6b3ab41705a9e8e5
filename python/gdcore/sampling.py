"""Random sampling with torch's names: bernoulli, multinomial, normal with tensor mean/std, and
the in-place fills bernoulli_, exponential_, geometric_. Every draw comes from gdcore's
generators (the default one, seeded by manual_seed, or ``generator=``), through the C++
uniform and normal draws, so results are reproducible; the transformations are tensor ops.

normal(mean, std) with tensors is mean + std * N(0, 1) (the reparameterisation): gradients flow
to mean and std as torch's do. multinomial without replacement is the exponential race (the k
smallest of E_i / p_i, with E_i standard exponential), which never repeats a category.
"""
from __future__ import annotations

import math
import numbers
from typing import Optional

from . import _core
from ._core import Generator, Tensor
from ._tensor_method import tensor_method

__all__ = ["bernoulli", "multinomial", "normal_tensors", "install_methods"]


def _generator(generator, name: str):
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{name}(): generator must be a gdcore.Generator or None, got {type(generator).__name__}")
    return generator


def _uniform(shape, dtype, generator) -> Tensor:
    return _core._rand(list(shape), dtype, generator, False)


def _require_float(t: Tensor, name: str, what: str = "input") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}(): argument '{what}' must be a gdcore.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise RuntimeError(f"{name}(): {what} must be a float32 or float64 tensor, got {t.dtype}; "
                           f"convert with .float()")


def _check_probability(p, name: str) -> None:
    if isinstance(p, Tensor):
        if bool(((p < 0) | (p > 1) | _core.isnan(p)).any()):
            raise RuntimeError(f"{name}(): probabilities must be in [0, 1], got values outside it "
                               f"(min {p.min().item()}, max {p.max().item()})")
    elif isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{name}(): argument 'p' must be a number or a Tensor of probabilities, got {type(p).__name__}")
    elif not 0.0 <= p <= 1.0:
        raise RuntimeError(f"{name}(): p must be in [0, 1], got {p}")


def bernoulli(input: Tensor, p: Optional[float] = None, *, generator: Optional[Generator] = None) -> Tensor:
    """0/1 draws with probability ``input`` (elementwise, float), or with the number ``p`` in the shape of
    ``input``. Same shape and dtype as input; no gradient."""
    generator = _generator(generator, "bernoulli")
    _require_float(input, "bernoulli")
    probs = input.detach() if p is None else p
    _check_probability(probs, "bernoulli")
    return (_uniform(input.shape, input.dtype, generator) < probs).to(input.dtype)


def _multinomial_checks(input: Tensor, num_samples: int, replacement: bool) -> None:
    _require_float(input, "multinomial")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"multinomial(): prob_dist must be 1 or 2 dim, got shape {tuple(input.shape)}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise TypeError(f"multinomial(): num_samples must be an int, got {type(num_samples).__name__}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial(): cannot sample n_sample <= 0 samples, got num_samples={num_samples}")
    n = input.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError(f"multinomial(): cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                           f"({num_samples} > {n}); pass replacement=True")
    if bool(((input < 0) | ~_core.isfinite(input)).any()):
        raise RuntimeError("multinomial(): probability tensor contains either `inf`, `nan` or element < 0")
    if bool((input.sum(-1) <= 0).any()):
        raise RuntimeError("multinomial(): invalid multinomial distribution (sum of probabilities <= 0)")


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Optional[Generator] = None) -> Tensor:
    """Category indices drawn with probabilities proportional to the rows of ``input`` ((n,) or (m, n),
    non-negative weights). Returns int64 of shape (num_samples,) or (m, num_samples). Without
    replacement a category is never drawn twice (zero-weight ones only once the others are used up)."""
    generator = _generator(generator, "multinomial")
    _multinomial_checks(input, num_samples, replacement)
    weights = input.detach().double()
    rows = weights if weights.dim() == 2 else weights.unsqueeze(0)
    m, n = rows.shape
    if replacement:
        # inverse CDF: the index is the number of cumulative weights <= u (a zero-weight category has an
        # empty interval; the last positive one ends at exactly 1, since x + 0 == x and total / total == 1)
        cdf = rows.cumsum(1) / rows.sum(1, keepdim=True)
        u = _uniform((m, num_samples), _core.dtype.float64, generator)
        out = (cdf.unsqueeze(1) <= u.unsqueeze(2)).sum(2)
    else:
        e = -_core.log1p(-_uniform((m, n), _core.dtype.float64, generator))  # standard exponential
        keys = _core.where(rows > 0, e / rows, float("inf"))
        out = _core.topk(keys, num_samples, 1, False, True)[1]
    return out if input.dim() == 2 else out.squeeze(0)


def normal_tensors(mean, std, *, generator: Optional[Generator] = None) -> Tensor:
    """normal(mean, std) where either is a tensor: mean + std * N(0, 1) over their broadcast shape, in
    their float dtype; differentiable in mean and std (torch's gradients)."""
    generator = _generator(generator, "normal")
    for name, v in (("mean", mean), ("std", std)):
        if isinstance(v, Tensor):
            _require_float(v, "normal", name)
        elif isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"normal(): argument '{name}' must be a Tensor or a number, got {type(v).__name__}")
    if isinstance(std, Tensor):
        if bool((std < 0).any()):
            raise RuntimeError("normal(): expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal(): expects std >= 0.0, but found std {std}")
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    shape = tensors[0].shape if len(tensors) == 1 else _shape_broadcast(tuple(mean.shape), tuple(std.shape))
    dtype = tensors[0].dtype if len(tensors) == 1 or mean.dtype == std.dtype else _core.dtype.float64
    noise = _core._randn(list(shape), dtype, generator, False)
    return mean + std * noise


def _shape_broadcast(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise RuntimeError(f"normal(): the shapes of mean {a} and std {b} do not broadcast")
        out.append(max(x, y) if 0 not in (x, y) else 0)
    return tuple(out)


# ---- in-place fills (Tensor methods) ----

def _fill(self: Tensor, values: Tensor, name: str) -> Tensor:
    if self.requires_grad and self.is_leaf and _core.is_grad_enabled():
        raise RuntimeError(f"a leaf tensor that requires grad is being used in an in-place operation ({name}); "
                           f"do it under gdcore.no_grad()")
    self.copy_(values.to(self.dtype))
    return self


def _bernoulli_(self: Tensor, p=0.5, *, generator: Optional[Generator] = None) -> Tensor:
    """Fills self with 0/1 draws of probability p (a number, or a tensor broadcast to self's shape)."""
    generator = _generator(generator, "bernoulli_")
    if isinstance(p, Tensor):
        _require_float(p, "bernoulli_", "p")
    _check_probability(p.detach() if isinstance(p, Tensor) else p, "bernoulli_")
    u = _uniform(self.shape, self.dtype if self.is_floating_point() else _core.dtype.float64, generator)
    return _fill(self, u < p, "bernoulli_")


def _bernoulli_method(self: Tensor, p: Optional[float] = None, *, generator: Optional[Generator] = None) -> Tensor:
    return bernoulli(self, p, generator=generator)


def _exponential_(self: Tensor, lambd: float = 1.0, *, generator: Optional[Generator] = None) -> Tensor:
    """Fills self with exponential draws of rate lambd (density lambd * exp(-lambd x))."""
    generator = _generator(generator, "exponential_")
    _require_float(self, "exponential_", "self")
    if isinstance(lambd, bool) or not isinstance(lambd, numbers.Real):
        raise TypeError(f"exponential_(): argument 'lambd' must be a number, got {type(lambd).__name__}")
    if not lambd > 0:
        raise RuntimeError(f"exponential_(): expects lambd > 0.0, but found lambd={lambd}")
    u = _uniform(self.shape, self.dtype, generator)
    return _fill(self, -_core.log1p(-u) / lambd, "exponential_")


def _geometric_(self: Tensor, p: float, *, generator: Optional[Generator] = None) -> Tensor:
    """Fills self with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    generator = _generator(generator, "geometric_")
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"geometric_(): argument 'p' must be a number, got {type(p).__name__}")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_(): expects p to be in (0, 1), but got p={p}")
    u = _uniform(self.shape, _core.dtype.float64, generator)
    trials = _core.clamp(_core.ceil(_core.log1p(-u) / math.log1p(-p)), 1.0, None)
    return _fill(self, trials, "geometric_")


def install_methods() -> None:
    """Tensor.bernoulli, bernoulli_, multinomial, exponential_, geometric_."""
    def multinomial_method(self, num_samples, replacement=False, *, generator=None):
        return multinomial(self, num_samples, replacement, generator=generator)
    for name, fn in (("bernoulli", _bernoulli_method), ("bernoulli_", _bernoulli_), ("multinomial", multinomial_method),
                     ("exponential_", _exponential_), ("geometric_", _geometric_)):
        if not hasattr(Tensor, name):
            setattr(Tensor, name, tensor_method(name, fn))
