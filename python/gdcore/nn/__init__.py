"""``gdcore.nn``: layers and models in PyTorch's shape.

``Module`` and ``Parameter`` do the bookkeeping (registration, parameters(), state_dict,
train/eval); the layers (Linear, Conv2d, MaxPool2d, activations, Flatten, MSELoss) call
``gdcore.nn.functional``, whose convolution and pooling run forward and backward in C++.
``gdcore.nn.init`` holds the initialisers.
"""
from __future__ import annotations

from . import functional, init, parallel
from .activation import ReLU, Sigmoid, Tanh
from .containers import ModuleList, Sequential
from .conv import Conv2d
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import MSELoss
from .module import Module
from .parameter import Parameter
from .pooling import MaxPool2d
from .lazy import LazyLinear, UninitializedParameter

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity", "ReLU", "Sigmoid", "Tanh",
           "Flatten", "Conv2d", "MaxPool2d", "MSELoss", "functional", "init",
           "LazyLinear", "UninitializedParameter", "parallel"]
