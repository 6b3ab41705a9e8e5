"""A model's parameters as one flat vector and back (``torch.nn.utils.parameters_to_vector`` /
``vector_to_parameters``), for optimisers that work on a vector (line search, CG, Newton)."""
from __future__ import annotations

from typing import Iterable

from ... import _core
from ..._core import Tensor
from ...grad_mode import no_grad

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _as_list(parameters, op: str):
    if isinstance(parameters, Tensor):
        return [parameters]
    params = list(parameters)
    for k, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameter {k} is a {type(p).__name__}, expected a gdcore.Tensor")
    return params


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one 1-d tensor (differentiable, as torch's)."""
    params = _as_list(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return _core.cat([p.reshape(-1) for p in params], 0)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copies consecutive slices of the 1-d ``vec`` into the parameters, in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    if vec.dim() != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-d, got shape {tuple(vec.shape)}")
    params = _as_list(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vec has {vec.numel()} elements but the parameters hold {total}")
    offset = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[offset:offset + n].reshape(tuple(p.shape)))
            offset += n
