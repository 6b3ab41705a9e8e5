"""gdcore.optimize: the classic gradient-descent toolkit of the chapter on any differentiable f
written with gdcore ops (gradients and Hessians come from the tape, or from grad=/hess=):
gd, sgd (noisy gradients, learning-rate schedules), newton, preconditioned_gd (diag(H)^-1),
gd_line_search (Armijo backtracking) and conjugate_gradient (Fletcher-Reeves, Polak-Ribiere).
Every function returns an OptimizeResult whose trace gdcore.plot.show_trace / show_trace_2d draw."""
from .conjugate_gradient import conjugate_gradient
from .gd import gd
from .line_search import gd_line_search
from .newton import newton
from .preconditioned import preconditioned_gd
from .result import OptimizeResult, Trace
from .sgd import sgd

__all__ = ["gd", "sgd", "newton", "preconditioned_gd", "gd_line_search", "conjugate_gradient",
           "OptimizeResult", "Trace"]
