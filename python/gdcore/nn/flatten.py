"""``nn.Flatten``: merges dims start_dim..end_dim (by default all but the batch dim);
``nn.Unflatten``: splits one dim into a given shape (its inverse)."""
from __future__ import annotations

from .._core import Tensor
from .module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """(N, C, H, W) -> (N, C*H*W) with the defaults start_dim=1, end_dim=-1."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dim ``dim`` into ``unflattened_size``: (N, 12) with Unflatten(1, (3, 4)) -> (N, 3, 4)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        size = tuple(unflattened_size)
        if not size or not all(isinstance(v, int) and not isinstance(v, bool) for v in size):
            raise TypeError(f"Unflatten: unflattened_size must be a non-empty tuple of ints, got {unflattened_size!r}")
        self.dim = dim
        self.unflattened_size = size

    def forward(self, input: Tensor) -> Tensor:
        shape = list(input.shape)
        d = self.dim + len(shape) if self.dim < 0 else self.dim
        if not 0 <= d < len(shape):
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for input of shape {tuple(shape)}")
        known = 1
        for v in self.unflattened_size:
            known *= v if v != -1 else 1
        if -1 not in self.unflattened_size and known != shape[d]:
            raise ValueError(f"Unflatten: unflattened_size {self.unflattened_size} has {known} elements but dim "
                             f"{self.dim} of input shape {tuple(shape)} has {shape[d]}")
        return input.reshape(shape[:d] + list(self.unflattened_size) + shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
