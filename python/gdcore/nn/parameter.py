"""``nn.Parameter``: a tensor that a Module registers as one of its parameters.

It is a Python subclass of ``gdcore.Tensor`` that aliases the data it is given (no copy,
no history) and requires grad by default, as ``torch.nn.Parameter`` does. Ops on a
Parameter return plain Tensors.
"""
from __future__ import annotations

from .._core import Tensor
from .. import _core

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor that a Module lists in ``parameters()`` when assigned as an attribute.

    ``Parameter(data, requires_grad=True)`` shares ``data``'s memory; ``Parameter()`` is empty.
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            from ..default_dtype import get_default_dtype
            data = _core._full([0], 0.0, get_default_dtype(), False)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: data must be a gdcore.Tensor, got {type(data).__name__}; "
                            "wrap it first, e.g. nn.Parameter(gdcore.tensor(data))")
        if requires_grad and not data.is_floating_point():
            raise TypeError(f"Parameter: only float tensors can require gradients, got dtype {data.dtype!r}; "
                            "convert with .float(), or pass requires_grad=False")
        super().__init__(data)  # aliases data's storage, without its history
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        # A Parameter pickles as one (its data as a plain tensor), so a module crosses processes intact.
        return _rebuild_parameter, (self.detach(), self.requires_grad)

    def __deepcopy__(self, memo) -> "Parameter":
        """A Parameter over a copy of the data (``copy.deepcopy(model)`` gives independent weights)."""
        if id(self) in memo:
            return memo[id(self)]
        copy = Parameter(self.detach().clone(), self.requires_grad)
        memo[id(self)] = copy
        return copy



def _rebuild_parameter(data: Tensor, requires_grad: bool) -> Parameter:
    return Parameter(data, requires_grad)
