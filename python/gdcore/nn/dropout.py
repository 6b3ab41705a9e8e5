"""``nn.Dropout``: zeroes random elements while training (and scales the rest by 1 / (1 - p)),
the identity in eval mode. The mask comes from gdcore's generator, so a run seeded with
``gdcore.manual_seed`` (or given a Generator) is reproducible."""
from __future__ import annotations

from typing import Optional

from .._core import Generator, Tensor
from . import functional_layers as FL
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Any shape in, the same shape out. ``p`` is the probability of zeroing an element."""

    def __init__(self, p: float = 0.5, inplace: bool = False, generator: Optional[Generator] = None):
        super().__init__()
        self.p = FL._check_p(p, "Dropout")
        self.inplace = inplace
        self.generator = generator

    def forward(self, input: Tensor) -> Tensor:
        return FL.dropout(input, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
