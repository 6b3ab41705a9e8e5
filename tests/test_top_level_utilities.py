"""Top-level utilities of everyday torch code: inference_mode, set/get_default_dtype, is_floating_point,
is_complex, finfo/iinfo, the constants and set_printoptions (gdcore/grad_mode.py, default_dtype.py,
dtype_info.py, tensor_repr.py). Limits are checked against numpy's tables and closed forms."""
import math

import numpy as np
import pytest

import gdcore
from gdcore import nn


@pytest.fixture
def float64_default():
    gdcore.set_default_dtype(gdcore.float64)
    yield
    gdcore.set_default_dtype(gdcore.float32)


@pytest.fixture
def printoptions():
    yield
    gdcore.set_printoptions(profile="default")


def test_inference_mode_context_and_decorators():
    assert not gdcore.is_inference_mode_enabled()
    x = gdcore.ones(2, requires_grad=True)
    with gdcore.inference_mode():
        assert gdcore.is_inference_mode_enabled() and not gdcore.is_grad_enabled()
        assert not (x * 2).requires_grad
        with gdcore.inference_mode(False):  # leaves grad mode alone, as in torch
            assert not gdcore.is_inference_mode_enabled() and not gdcore.is_grad_enabled()
        assert gdcore.is_inference_mode_enabled()
    assert gdcore.is_grad_enabled() and not gdcore.is_inference_mode_enabled()
    with gdcore.inference_mode(False):
        assert (x * 2).requires_grad

    @gdcore.inference_mode
    def bare():
        return (x * 2).requires_grad, gdcore.is_inference_mode_enabled()

    @gdcore.inference_mode()
    def called():
        return (x * 2).requires_grad

    assert bare() == (False, True) and called() is False
    assert gdcore.is_grad_enabled() and not gdcore.is_inference_mode_enabled()


def test_inference_mode_restores_on_exception():
    with pytest.raises(KeyError):
        with gdcore.inference_mode():
            raise KeyError("x")
    assert gdcore.is_grad_enabled() and not gdcore.is_inference_mode_enabled()


def test_default_dtype_float64_reaches_creation_and_layers(float64_default):
    assert gdcore.get_default_dtype() == gdcore.float64
    assert gdcore.tensor([0.1, 2.0]).dtype == gdcore.float64
    assert gdcore.tensor(0.1).item() == 0.1  # converted straight from the Python float, never through float32
    assert gdcore.tensor([1, 2]).dtype == gdcore.int64
    assert gdcore.tensor([1.5], dtype=gdcore.float32).dtype == gdcore.float32
    assert gdcore.tensor(np.zeros(2, np.float32)).dtype == gdcore.float32  # numpy keeps its dtype
    for made in (gdcore.zeros(2), gdcore.ones(2), gdcore.rand(2), gdcore.randn(2), gdcore.empty(2),
                 gdcore.arange(0.0, 3.0), gdcore.linspace(0, 1, 3), gdcore.eye(2), gdcore.full((2,), 1.5),
                 nn.Linear(2, 3).weight, nn.BatchNorm1d(3).weight, nn.Parameter()):
        assert made.dtype == gdcore.float64
    assert gdcore.arange(3).dtype == gdcore.int64
    assert gdcore.zeros_like(gdcore.zeros(2, dtype=gdcore.float32)).dtype == gdcore.float32
    # the default dtype goes unsaid in the repr; float32 is then named (as torch does)
    assert repr(gdcore.tensor([1.5])) == "tensor([1.5000])"
    assert repr(gdcore.tensor([1.5], dtype=gdcore.float32)) == "tensor([1.5000], dtype=gdcore.float32)"


def test_default_dtype_is_float32_at_start():
    assert gdcore.get_default_dtype() == gdcore.float32
    assert gdcore.tensor([0.1]).dtype == gdcore.float32 and gdcore.zeros(1).dtype == gdcore.float32


def test_is_floating_point_and_is_complex():
    assert gdcore.is_floating_point(gdcore.zeros(1)) and gdcore.is_floating_point(gdcore.zeros(1, dtype=gdcore.float64))
    assert not gdcore.is_floating_point(gdcore.arange(2)) and not gdcore.is_floating_point(gdcore.tensor([True]))
    assert gdcore.is_complex(gdcore.zeros(1)) is False and gdcore.zeros(1).is_complex() is False


@pytest.mark.parametrize("dtype, np_dtype", [(gdcore.float32, np.float32), (gdcore.float64, np.float64)])
def test_finfo_matches_ieee(dtype, np_dtype):
    info = gdcore.finfo(dtype)
    bits = 32 if np_dtype is np.float32 else 64
    mant = 23 if bits == 32 else 52
    emax = 127 if bits == 32 else 1023
    assert info.bits == bits
    assert info.eps == 2.0 ** -mant
    assert info.tiny == info.smallest_normal == 2.0 ** (1 - emax)
    assert info.max == (2 - 2.0 ** -mant) * 2.0 ** emax and info.min == -info.max
    assert info.resolution == 10.0 ** -math.floor(mant * math.log10(2))
    assert info.dtype == dtype.name
    assert gdcore.finfo().bits == 32


@pytest.mark.parametrize("dtype, bits, lo, hi", [
    (gdcore.int64, 64, -2**63, 2**63 - 1), (gdcore.int32, 32, -2**31, 2**31 - 1), (gdcore.int16, 16, -2**15, 2**15 - 1),
    (gdcore.int8, 8, -128, 127), (gdcore.uint8, 8, 0, 255)])
def test_iinfo(dtype, bits, lo, hi):
    info = gdcore.iinfo(dtype)
    assert (info.bits, info.min, info.max, info.dtype) == (bits, lo, hi, dtype.name)


def test_constants():
    assert gdcore.pi == math.pi and gdcore.e == math.e and gdcore.inf == math.inf and math.isnan(gdcore.nan)
    assert gdcore.newaxis is None
    assert gdcore.zeros(3)[gdcore.newaxis].shape == (1, 3)


def test_set_printoptions(printoptions):
    x = gdcore.tensor([1.23456, 2.5])
    gdcore.set_printoptions(precision=2)
    assert repr(x) == "tensor([1.23, 2.50])"
    gdcore.set_printoptions(sci_mode=True)
    assert repr(x) == "tensor([1.23e+00, 2.50e+00])"
    gdcore.set_printoptions(sci_mode=False)
    assert repr(gdcore.tensor([1e-6, 2.5e5])) == "tensor([     0.00, 250000.00])"
    gdcore.set_printoptions(profile="default")
    assert repr(x) == "tensor([1.2346, 2.5000])"
    gdcore.set_printoptions(threshold=5, edgeitems=1)
    assert repr(gdcore.arange(10.0)).replace(" ", "") == "tensor([0.,...,9.])"
    gdcore.set_printoptions(profile="full")
    assert "..." not in repr(gdcore.arange(2000.0))
    gdcore.set_printoptions(profile="default", linewidth=20)
    assert repr(gdcore.arange(10.0)) == "tensor([0., 1., 2.,\n        3., 4., 5.,\n        6., 7., 8.,\n        9.])"
