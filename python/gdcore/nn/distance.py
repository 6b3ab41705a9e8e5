"""``nn.CosineSimilarity`` and ``nn.PairwiseDistance``: the layer forms of
F.cosine_similarity and F.pairwise_distance (nn/functional_vectors.py)."""
from __future__ import annotations

from .._core import Tensor
from . import functional_vectors as FV
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Cosine similarity of two broadcastable inputs along ``dim``; the result drops ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return FV.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm of x1 - x2 + eps over the last dim."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return FV.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
