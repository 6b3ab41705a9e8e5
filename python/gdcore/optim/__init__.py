"""gdcore.optim: optimizers and learning-rate schedules with torch.optim's API.

Optimizers (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW) keep torch's param groups,
per-parameter state, zero_grad/step and state dicts; each step updates every parameter of
a group in one call into C++ kernels. ``lr_scheduler`` sets the learning rate per epoch
from the plain schedule functions in ``schedules``.
"""
from __future__ import annotations

from . import lr_scheduler, schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "lr_scheduler", "schedules"]

# Wrong-type arguments get a message naming the method, the argument and the wanted type (_argument_check).
from .._argument_check import install_class as _install_argument_check  # noqa: E402

for _cls in (Optimizer, SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW):
    _install_argument_check(_cls)
del _cls
