"""DLPack: Tensor.__dlpack__ / __dlpack_device__ and gdcore.from_dlpack, checked against numpy
as the other side (np.from_dlpack reads gdcore tensors; numpy arrays are producers). Memory is
shared both ways, strides are kept, read-only travels as read-only, every dtype round-trips."""
import numpy as np
import pytest

import gdcore
from gdcore.utils.dlpack import from_dlpack as utils_from_dlpack, to_dlpack

DTYPES = ["bool", "int8", "uint8", "int16", "int32", "int64", "float32", "float64"]


def values(name, shape=(3, 4)):
    a = np.arange(int(np.prod(shape))).reshape(shape) % 3
    return a.astype(name)


@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_round_trips_and_shares_memory(name):
    a = values(name)
    t = gdcore.from_dlpack(a)
    assert t.dtype == getattr(gdcore, name) and t.shape == a.shape
    np.testing.assert_array_equal(t.numpy(), a)
    back = np.from_dlpack(t)
    assert back.dtype == a.dtype and np.shares_memory(back, a)
    # Writes through gdcore reach numpy and the other way round.
    t[0, 0] = 1
    assert a[0, 0] == 1
    a[2, 3] = 0
    assert t[2, 3].item() == 0


@pytest.mark.parametrize("name", DTYPES)
def test_gdcore_tensors_are_read_by_numpy(name):
    t = gdcore.tensor(values(name))
    a = np.from_dlpack(t)
    np.testing.assert_array_equal(a, values(name))
    a[1, 1] = 1
    assert t[1, 1].item() == 1


def test_strides_are_kept_both_ways():
    base = np.arange(24.0).reshape(4, 6)
    view = base[1:, ::2].T                   # an offset, a step and a transpose
    t = gdcore.from_dlpack(view)
    assert t.shape == view.shape and t.stride() == tuple(s // 8 for s in view.strides)
    np.testing.assert_array_equal(t.numpy(), view)
    g = gdcore.arange(24).reshape(4, 6)[:, 1::3].transpose(0, 1)
    a = np.from_dlpack(g)
    assert a.strides == tuple(s * 8 for s in g.stride())
    np.testing.assert_array_equal(a, g.numpy())
    assert gdcore.from_dlpack(np.zeros((0, 3))).shape == (0, 3)
    assert gdcore.from_dlpack(np.float32(2.5)).item() == 2.5 if hasattr(np.float32(1), "__dlpack__") else True


def test_read_only_producers_give_read_only_tensors():
    a = np.arange(3.0)
    a.flags.writeable = False
    t = gdcore.from_dlpack(a)
    np.testing.assert_array_equal(t.numpy(), a)
    with pytest.raises(ValueError, match="read-only"):
        t.add_(1.0)
    assert not np.from_dlpack(t).flags.writeable      # and it travels on as read-only
    with pytest.raises(BufferError, match="read-only"):
        t.__dlpack__()                               # the legacy capsule has no read-only flag
    assert (t + 1).tolist() == [1.0, 2.0, 3.0]


def test_capsules_versioned_and_legacy():
    t = gdcore.arange(4.0)
    assert t.__dlpack_device__() == (1, 0)
    legacy, versioned = t.__dlpack__(), t.__dlpack__(max_version=(1, 0))
    assert "dltensor" in repr(legacy) and "dltensor_versioned" in repr(versioned)
    assert "versioned" not in repr(t.__dlpack__(max_version=(0, 8)))
    for capsule in (legacy, versioned):
        u = gdcore.from_dlpack(capsule)
        u[0] = 10.0
        assert t[0].item() == 10.0
    with pytest.raises(ValueError, match="consumed only once"):
        gdcore.from_dlpack(legacy)
    c = t.__dlpack__(max_version=(1, 0), copy=True)
    gdcore.from_dlpack(c)[1] = -5.0
    assert t[1].item() == 1.0                         # copy=True shares nothing
    assert utils_from_dlpack(to_dlpack(t)).tolist() == t.tolist()
    del t, legacy, versioned                          # unconsumed capsules free their tensors


def test_lifetime_outlives_the_producer():
    t = gdcore.from_dlpack(np.arange(5.0) * 2)        # the array has no other reference
    np.testing.assert_array_equal(t.numpy(), [0, 2, 4, 6, 8])
    a = np.from_dlpack(gdcore.arange(3) + 1)
    np.testing.assert_array_equal(a, [1, 2, 3])


def test_bad_input():
    with pytest.raises(BufferError, match="requires grad"):
        gdcore.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(ValueError, match="stream must be None"):
        gdcore.ones(2).__dlpack__(stream=1)
    with pytest.raises(BufferError, match="CPU only"):
        gdcore.ones(2).__dlpack__(dl_device=(2, 0))
    with pytest.raises(TypeError, match="argument 'ext_tensor' must be an object with __dlpack__"):
        gdcore.from_dlpack([1, 2])
    with pytest.raises(TypeError, match=r"DLPack dtype \(code 2, bits 16"):
        gdcore.from_dlpack(np.ones(2, dtype=np.float16))
    with pytest.raises(BufferError, match="negative strides"):
        gdcore.from_dlpack(np.arange(4.0)[::-1])

    class OnTheGpu:
        def __dlpack__(self, **kwargs):
            raise AssertionError("not reached")

        def __dlpack_device__(self):
            return (2, 0)
    with pytest.raises(BufferError, match="CPU only"):
        gdcore.from_dlpack(OnTheGpu())


def test_a_producer_without_max_version():
    class Old:
        def __init__(self, a):
            self.a = a

        def __dlpack__(self, stream=None):
            return self.a.__dlpack__()

    a = np.arange(3, dtype=np.int32)
    t = gdcore.from_dlpack(Old(a))
    assert t.dtype == gdcore.int32 and np.shares_memory(np.from_dlpack(t), a)
