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

from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, NLLLoss, SmoothL1Loss
from . import utils

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity", "ReLU", "Sigmoid", "Tanh",
           "Flatten", "Conv2d", "MaxPool2d", "MSELoss", "functional", "init",
           "LazyLinear", "UninitializedParameter", "parallel"]
__all__ += ["CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
            "KLDivLoss", "utils"]

# Classification layers (issue 12).
from . import functional_layers  # noqa: E402
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, SiLU, Softmax, Softplus  # noqa: E402
from .dropout import Dropout  # noqa: E402
from .embedding import Embedding  # noqa: E402
from .flatten import Unflatten  # noqa: E402
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm  # noqa: E402
from .pooling import AdaptiveAvgPool2d, AvgPool2d  # noqa: E402

__all__ += ["Softmax", "LogSoftmax", "LeakyReLU", "GELU", "ELU", "SiLU", "Softplus", "Dropout", "BatchNorm1d",
            "BatchNorm2d", "LayerNorm", "Embedding", "AvgPool2d", "AdaptiveAvgPool2d", "Unflatten"]

# More activations and the distance layers (issue 11's breadth round).
from .activation import (  # noqa: E402
    CELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, ReLU6, Softsign, Tanhshrink,
)
from .distance import CosineSimilarity, PairwiseDistance  # noqa: E402

__all__ += ["Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Softsign", "Tanhshrink", "LogSigmoid", "Mish", "SELU",
            "CELU", "CosineSimilarity", "PairwiseDistance"]

# Dict and parameter containers (issue 11's breadth round).
from .containers import ModuleDict  # noqa: E402
from .parameter_containers import ParameterDict, ParameterList  # noqa: E402
from .layers_1d import AvgPool1d, Conv1d, MaxPool1d  # noqa: E402

__all__ += ["ModuleDict", "ParameterList", "ParameterDict", "Conv1d", "MaxPool1d", "AvgPool1d"]
