"""Small synthetic data sets for the chapter's workflows (a)-(d), as gdcore tensors.

Each function documents the formula and the shapes it returns. The random ones draw
from ``generator`` (a gdcore.Generator), or from a fresh ``Generator(seed)`` when
``seed`` is given, or else from gdcore's default generator (``gdcore.manual_seed``), so
every run can be reproduced.
"""
from __future__ import annotations

from typing import Optional

from .._core import Generator
from ..creation import float32, linspace, rand, randn, tensor

__all__ = ["twenty_points", "noisy_identity_line", "noisy_linear", "doubling_points"]

_TWENTY_Y = [3, 4, 5, 5, 2, 4, 7, 8, 11, 8, 12, 11, 13, 13, 16, 17, 18, 17, 19, 21]


def _generator(generator: Optional[Generator], seed: Optional[int], who: str) -> Optional[Generator]:
    if generator is not None and seed is not None:
        raise ValueError(f"{who}: pass either generator= or seed=, not both")
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{who}: generator must be a gdcore.Generator, got a {type(generator).__name__}")
    return Generator(int(seed)) if seed is not None else generator


def _positive_count(n, who: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{who}: n must be a positive int, got {n!r}")
    return n


def twenty_points(dtype=float32):
    """Workflow (a): the fixed 20-point table, x = 1..20 and y = [3, 4, 5, 5, 2, ..., 19, 21].

    Returns ``(x, y)``, both of shape (20,).
    """
    x = tensor(list(range(1, 21)), dtype=dtype)
    return x, tensor(_TWENTY_Y, dtype=dtype)


def noisy_identity_line(n: int = 20, start: float = 1.0, end: float = 21.0, noise: float = 0.8,
                        generator: Optional[Generator] = None, seed: Optional[int] = None, dtype=float32):
    """Workflow (b): x = linspace(start, end, n) and y = x + noise * U[0, 1).

    Returns ``(x, y)``, both of shape (n,); the best fit is slope 1, intercept noise/2.
    """
    gen = _generator(generator, seed, "noisy_identity_line")
    x = linspace(start, end, _positive_count(n, "noisy_identity_line"), dtype=dtype)
    return x, x + noise * rand(n, generator=gen, dtype=dtype)


def noisy_linear(n: int = 100, slope: float = 3.0, intercept: float = 10.0, noise_std: float = 0.5,
                 generator: Optional[Generator] = None, seed: Optional[int] = None, dtype=float32):
    """Workflow (c): x ~ N(0, 1) and y = slope * x + intercept + N(0, noise_std^2).

    Returns ``(x, y)``, both of shape (n, 1) (one feature, one output, ready for
    ``x.mm(w)`` with w of shape (1, 1)). x is drawn before the noise.
    """
    gen = _generator(generator, seed, "noisy_linear")
    x = randn(_positive_count(n, "noisy_linear"), 1, generator=gen, dtype=dtype)
    return x, slope * x + intercept + noise_std * randn(n, 1, generator=gen, dtype=dtype)


def doubling_points(dtype=float32):
    """Workflow (d): y = 2x on x = 1, 2, 3.

    Returns ``(x, y)``, both of shape (3, 1) (rows of samples for nn.Linear(1, 1));
    ``x.flatten()`` gives the scalars for the per-sample loop.
    """
    x = tensor([[1.0], [2.0], [3.0]], dtype=dtype)
    return x, 2 * x
