"""gdcore.curvature: the Hessian of a loss, seen through Hessian-vector products from the tape (two backward
passes each; the Hessian matrix is never formed). ``top_eigenvalues`` (Lanczos, or PyHessian's power
iteration), ``hessian_trace`` (Hutchinson), ``spectral_density`` (stochastic Lanczos quadrature); on
top of them the learning-rate advisor (``suggest_lr``: gradient descent diverges when lr > 2 / lambda_max)
and the sharpness tracking that ``gdcore.train.fit`` uses.

Each takes ``closure`` (a function returning the scalar loss, as an optimizer closure) and ``params``
(a Module, a tensor or a list of tensors, float32 or float64).
"""
from .advisor import LRAdvice, UnstableLearningRateWarning, stability_bound, suggest_lr
from .density import SpectralDensity, spectral_density
from .eigen import Eigenpairs, top_eigenvalues
from .trace import TraceEstimate, hessian_trace

__all__ = ["top_eigenvalues", "hessian_trace", "spectral_density", "suggest_lr", "stability_bound",
           "Eigenpairs", "TraceEstimate", "SpectralDensity", "LRAdvice", "UnstableLearningRateWarning"]
