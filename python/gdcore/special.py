"""``gdcore.special``: the ``torch.special`` spellings of functions gdcore has (the same
functions as ``gdcore.erf``, ``gdcore.softmax``, ...)."""
from __future__ import annotations

from .mathops import erf, erfinv, expm1, log1p, log_softmax, logsumexp, softmax

__all__ = ["erf", "erfinv", "expm1", "log1p", "log_softmax", "logsumexp", "softmax", "expit"]

from ._core import sigmoid as expit  # noqa: E402  (torch.special.expit is the logistic sigmoid)
