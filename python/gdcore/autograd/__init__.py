"""gdcore.autograd: gradients of tensors as in torch.autograd, plus the tools for
learning and checking them (finite differences, gradcheck, graph drawings, Hessians)."""
from ..grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .function import Function, FunctionCtx, once_differentiable
from .functional import backward, grad, hessian, hvp, jacobian
from .gradcheck import GradcheckError, gradcheck, numerical_grad
from .graph import graph, render_graph

__all__ = [
    "backward", "grad", "hessian", "hvp", "jacobian", "numerical_grad", "gradcheck", "GradcheckError",
    "graph", "render_graph", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "Function", "FunctionCtx", "once_differentiable",
]


# torch.autograd.Variable: deprecated in torch since 0.4, where Variable(t) gives a tensor (issue 11's breadth round).
from .variable import Variable  # noqa: E402

__all__ += ["Variable"]
