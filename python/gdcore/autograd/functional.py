"""grad/backward over several outputs and inputs, and the derivatives built from
them: Jacobians, Hessians and Hessian-vector products (by differentiating a
gradient that was recorded with create_graph=True)."""
from __future__ import annotations

from typing import Callable, Optional, Sequence, Union

from .. import _core
from .._core import Tensor

TensorOrTensors = Union[Tensor, Sequence[Tensor]]


def _as_list(x, name: str) -> list:
    if isinstance(x, Tensor):
        return [x]
    if x is None:
        return []
    items = list(x)
    for i, t in enumerate(items):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{name}[{i}] must be a Tensor, got {type(t).__name__}")
    return items


def backward(tensors: TensorOrTensors, grad_tensors=None, retain_graph: Optional[bool] = None,
             create_graph: bool = False) -> None:
    """Accumulates the gradients of ``tensors`` into the leaves' ``.grad`` (torch.autograd.backward)."""
    roots = _as_list(tensors, "tensors")
    grads = _as_list(grad_tensors, "grad_tensors") or [None] * len(roots)
    if retain_graph is None:
        retain_graph = create_graph
    _core._run_backward(roots, grads, retain_graph, create_graph, [], False)


def grad(outputs: TensorOrTensors, inputs: TensorOrTensors, grad_outputs=None, retain_graph: Optional[bool] = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple (no ``.grad`` is touched).

    With ``create_graph=True`` the returned gradients carry history, so they can be
    differentiated again (second derivatives). ``grad_outputs`` weights non-scalar outputs.
    """
    outs = _as_list(outputs, "outputs")
    ins = _as_list(inputs, "inputs")
    if not ins:
        raise ValueError("grad: inputs is empty; pass the tensors to differentiate with respect to")
    gouts = _as_list(grad_outputs, "grad_outputs") or [None] * len(outs)
    if len(gouts) != len(outs):
        raise ValueError(f"grad: got {len(outs)} outputs but {len(gouts)} grad_outputs")
    if retain_graph is None:
        retain_graph = create_graph
    return tuple(_core._run_backward(outs, gouts, retain_graph, create_graph, ins, allow_unused))


def _fresh_input(x) -> Tensor:
    from ..creation import tensor
    t = x.detach().clone() if isinstance(x, Tensor) else tensor(x, dtype=_core.dtype.float64)
    return t.requires_grad_()


def jacobian(f: Callable[[Tensor], Tensor], x) -> Tensor:
    """The Jacobian of ``f`` at ``x``: shape ``f(x).shape + x.shape``."""
    from ..creation import zeros
    x = _fresh_input(x)
    y = f(x)
    flat = y.reshape(-1)
    rows = []
    for i in range(flat.numel() if y.requires_grad else 0):
        (g,) = grad(flat[i], x, retain_graph=True, allow_unused=True)
        rows.append(g if g is not None else zeros(*x.shape, dtype=x.dtype))
    from .._core import stack
    if not rows:  # an empty output, or one that does not depend on x
        return zeros(*(tuple(y.shape) + tuple(x.shape)), dtype=x.dtype)
    return stack(rows).reshape(*(tuple(y.shape) + tuple(x.shape)))


def hessian(f: Callable[[Tensor], Tensor], x) -> Tensor:
    """The Hessian of a scalar function ``f`` at ``x``: shape ``x.shape + x.shape``.

    Computed by differentiating the recorded gradient once per element of ``x``.
    """
    x = _fresh_input(x)
    y = f(x)
    if y.numel() != 1:
        raise ValueError(f"hessian: f must return a scalar, got shape {tuple(y.shape)}")
    if not y.requires_grad:  # f does not depend on x
        from ..creation import zeros
        return zeros(*(tuple(x.shape) + tuple(x.shape)), dtype=x.dtype)
    (g,) = grad(y, x, create_graph=True, allow_unused=True)
    if g is None:
        from ..creation import zeros_like
        g = zeros_like(x)
    return jacobian_of_gradient(g, x)


def jacobian_of_gradient(g: Tensor, x: Tensor) -> Tensor:
    from .._core import stack
    from ..creation import zeros
    flat = g.reshape(-1)
    if flat.numel() == 0:
        return zeros(*(tuple(x.shape) + tuple(x.shape)), dtype=x.dtype)
    rows = []
    for i in range(flat.numel()):
        if not flat.requires_grad:
            rows.append(zeros(*x.shape, dtype=x.dtype))
            continue
        (h,) = grad(flat[i], x, retain_graph=True, allow_unused=True)
        rows.append(h.detach() if h is not None else zeros(*x.shape, dtype=x.dtype))
    return stack(rows).reshape(*(tuple(x.shape) + tuple(x.shape)))


def hvp(f: Callable[[Tensor], Tensor], x, v: Tensor) -> Tensor:
    """The Hessian-vector product H(x) v of a scalar ``f`` without forming H (two backward passes)."""
    x = _fresh_input(x)
    y = f(x)
    if tuple(v.shape) != tuple(x.shape):
        raise ValueError(f"hvp: v has shape {tuple(v.shape)} but x has shape {tuple(x.shape)}")
    from ..creation import zeros_like
    if not y.requires_grad:  # f does not depend on x
        return zeros_like(x)
    (g,) = grad(y, x, create_graph=True, allow_unused=True)
    if g is None or not g.requires_grad:  # f is linear in x: the Hessian is zero
        return zeros_like(x)
    (h,) = grad((g * v).sum(), x, allow_unused=True)
    return h if h is not None else zeros_like(x)
