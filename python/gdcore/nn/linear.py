"""``nn.Linear`` (y = x W^T + b, with torch's default initialisation) and ``nn.Identity``."""
from __future__ import annotations


from .. import _core
from .._core import Tensor
from ..default_dtype import get_default_dtype
from ..device import check_device
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Linear", "Identity"]


def _factory_dtype(dtype, device):
    """The dtype for new parameters (the default dtype, float32 unless set_default_dtype changed it); devices
    other than the CPU are refused."""
    if device is not None:
        check_device(device, "layer parameters")
    if dtype is None:
        return get_default_dtype()
    dtype = dtype if isinstance(dtype, _core.dtype) else _core._dtype_from(dtype)
    if not dtype.is_floating_point:
        raise TypeError(f"layer parameters must be float32 or float64, got {dtype!r}")
    return dtype


def _init_layer_parameters(layer: Module, weight_shape, bias: bool, dtype, device) -> None:
    """Registers ``weight`` of ``weight_shape`` and, if ``bias``, ``bias`` of the first dimension's size (else a
    ``None`` bias, as torch), then draws them with the layer's ``reset_parameters()``."""
    dt = _factory_dtype(dtype, device)
    layer.weight = Parameter(_core._full(list(weight_shape), 0.0, dt, False))
    if bias:
        layer.bias = Parameter(_core._full([weight_shape[0]], 0.0, dt, False))
    else:
        layer.register_parameter("bias", None)
    layer.reset_parameters()


def _check_size(value, name: str, layer: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{layer}: {name} must be an int >= {minimum}, got {value!r}")
    if value > 2**63 - 1:
        raise ValueError(f"{layer}: {name}={value} does not fit in int64; no layer can be that large")
    return value


class Linear(Module):
    """y = x @ weight.T + bias: input (*, in_features) -> (*, out_features).

    weight (out_features, in_features) ~ kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(in_features),
    1/sqrt(in_features)); bias (out_features,) ~ U(-1/sqrt(in_features), 1/sqrt(in_features)), as torch.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_features = _check_size(in_features, "in_features", "Linear")
        self.out_features = _check_size(out_features, "out_features", "Linear")
        _init_layer_parameters(self, (out_features, in_features), bias, dtype, device)

    def reset_parameters(self) -> None:
        """Re-draws weight and bias with torch's defaults (from the global generator)."""
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        # From the registry: `self.weight` first misses the instance dict, and Python 3.11 builds an
        # AttributeError message for that miss before Module.__getattr__ finds the parameter (about a
        # third of a microsecond per name). A registered name is never also in the instance dict.
        params = self._parameters
        weight = params["weight"] if "weight" in params else self.weight
        bias = params["bias"] if "bias" in params else self.bias
        return F.linear(input, weight, bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input unchanged (a placeholder layer); accepts and ignores any arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input
