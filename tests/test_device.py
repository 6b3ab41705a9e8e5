"""The device API of a CPU-only library (gdcore/device.py, tensor_attributes.py, cuda.py,
accelerator.py, backends/): torch's names and answers, and a clear RuntimeError for every
request of a device other than the CPU. Expected values are torch's documented behaviour
written out here, and numpy for tensor contents.
"""
import pickle

import numpy as np
import pytest

import gdcore
from gdcore import nn


# ---- gdcore.device ---------------------------------------------------------------------

@pytest.mark.parametrize("args, type_, index, text, rep", [
    (("cpu",), "cpu", None, "cpu", "device(type='cpu')"),
    (("cpu:0",), "cpu", 0, "cpu:0", "device(type='cpu', index=0)"),
    (("cpu", 0), "cpu", 0, "cpu:0", "device(type='cpu', index=0)"),
    (("cuda:1",), "cuda", 1, "cuda:1", "device(type='cuda', index=1)"),
    (("mps",), "mps", None, "mps", "device(type='mps')"),
])
def test_device_fields_str_and_repr(args, type_, index, text, rep):
    d = gdcore.device(*args)
    assert d.type == type_ and d.index == index
    assert str(d) == text and repr(d) == rep
    assert gdcore.device(d) == d


def test_device_equality_and_hash_as_torch():
    assert gdcore.device("cpu") == gdcore.device("cpu")
    assert gdcore.device("cpu") != gdcore.device("cpu:0")  # different index, as torch
    assert gdcore.device("cpu:0") == gdcore.device("cpu", 0)
    # torch.device('cpu') == 'cpu' is False (pytorch issue 153418): compare .type with strings.
    assert (gdcore.device("cpu") == "cpu") is False
    assert gdcore.device("cpu") != "cpu"
    assert gdcore.device("cpu").type == "cpu"
    assert len({gdcore.device("cpu"), gdcore.device("cpu"), gdcore.device("cpu", 0)}) == 2
    assert pickle.loads(pickle.dumps(gdcore.device("cpu", 0))) == gdcore.device("cpu:0")


@pytest.mark.parametrize("args, error, words", [
    (("gpu",), RuntimeError, "Expected one of cpu, cuda"),
    (("cpu:x",), RuntimeError, "Invalid device string"),
    (("cpu:0", 0), RuntimeError, "must not include an index"),
    (("cpu", -1), RuntimeError, "must not be negative"),
    ((0,), RuntimeError, "CPU only"),
    ((1.5,), TypeError, "expected a string"),
    (("cpu", "0"), TypeError, "index must be an int"),
])
def test_bad_device_descriptions(args, error, words):
    with pytest.raises(error, match=words):
        gdcore.device(*args)


def test_default_device_is_the_cpu_and_cannot_be_a_gpu():
    assert gdcore.get_default_device() == gdcore.device("cpu")
    gdcore.set_default_device("cpu")
    gdcore.set_default_device(gdcore.device("cpu"))
    gdcore.set_default_device(None)
    for name in ("cuda", "cuda:0", "mps"):
        with pytest.raises(RuntimeError, match="gdcore runs on the CPU only"):
            gdcore.set_default_device(name)
    with gdcore.device("cpu"):
        assert gdcore.zeros(2).device.type == "cpu"
    with pytest.raises(RuntimeError, match="CPU only"):
        with gdcore.device("cuda"):
            pass


def test_accelerator_queries_answer_no_gpu():
    assert gdcore.cuda.is_available() is False and gdcore.cuda.device_count() == 0
    assert gdcore.cuda.is_initialized() is False
    gdcore.cuda.manual_seed(0)  # ignored without CUDA, as torch documents
    gdcore.cuda.manual_seed_all(0)
    gdcore.cuda.empty_cache()
    with pytest.raises(RuntimeError, match="CPU only"):
        gdcore.cuda.current_device()
    assert gdcore.accelerator.is_available() is False
    assert gdcore.accelerator.current_accelerator() is None
    assert gdcore.backends.mps.is_available() is False and gdcore.backends.mps.is_built() is False
    assert gdcore.backends.cudnn.is_available() is False
    gdcore.backends.cudnn.deterministic = True  # seeding helpers written for torch do this
    gdcore.backends.cudnn.deterministic = False


# ---- tensors -----------------------------------------------------------------------------

def test_tensor_device_and_flags():
    for t in (gdcore.zeros(2), gdcore.arange(3), nn.Parameter(gdcore.ones(2))):
        assert t.device == gdcore.device("cpu") and repr(t.device) == "device(type='cpu')"
        assert t.is_cuda is False and t.is_cpu is True and t.get_device() == -1


CREATION = [
    lambda d: gdcore.tensor([1.0, 2.0], device=d),
    lambda d: gdcore.as_tensor([1.0, 2.0], device=d),
    lambda d: gdcore.zeros(2, 3, device=d),
    lambda d: gdcore.ones(2, device=d),
    lambda d: gdcore.empty(2, device=d),
    lambda d: gdcore.full((2,), 1.5, device=d),
    lambda d: gdcore.zeros_like(gdcore.ones(2), device=d),
    lambda d: gdcore.ones_like(gdcore.ones(2), device=d),
    lambda d: gdcore.full_like(gdcore.ones(2), 3.0, device=d),
    lambda d: gdcore.rand_like(gdcore.ones(2), device=d),
    lambda d: gdcore.randn_like(gdcore.ones(2), device=d),
    lambda d: gdcore.arange(5, device=d),
    lambda d: gdcore.linspace(0, 1, 5, device=d),
    lambda d: gdcore.eye(3, device=d),
    lambda d: gdcore.rand(2, device=d),
    lambda d: gdcore.randn(2, device=d),
    lambda d: gdcore.randint(0, 5, (3,), device=d),
    lambda d: gdcore.randperm(4, device=d),
    lambda d: gdcore.normal(0.0, 1.0, (2,), device=d),
    lambda d: nn.Linear(2, 3, device=d),
    lambda d: nn.Conv2d(1, 2, 3, device=d),
]


@pytest.mark.parametrize("make", CREATION)
@pytest.mark.parametrize("dev", [None, "cpu", "cpu:0", gdcore.device("cpu")])
def test_every_creation_function_takes_a_cpu_device(make, dev):
    made = make(dev)
    assert made is not None


@pytest.mark.parametrize("make", CREATION)
@pytest.mark.parametrize("dev", ["cuda", "cuda:0", gdcore.device("mps"), "cpu:1"])
def test_every_creation_function_refuses_another_device(make, dev):
    with pytest.raises(RuntimeError, match="is not available"):
        make(dev)


def test_to_forms_as_torch():
    x = gdcore.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert x.to("cpu") is x and x.to(gdcore.device("cpu")) is x and x.to(device="cpu:0") is x
    assert x.to(gdcore.float32) is x
    y = x.to("cpu", gdcore.float64)
    assert y.dtype == gdcore.float64
    np.testing.assert_array_equal(y.numpy(), np.array([[1.5, 2.0], [3.0, 4.0]]))
    assert x.to(gdcore.device("cpu"), dtype=gdcore.float64).dtype == gdcore.float64
    assert x.to(dtype=gdcore.float64, device="cpu", non_blocking=True).dtype == gdcore.float64
    assert x.to(gdcore.arange(2)).dtype == gdcore.int64  # to(other): other's dtype
    assert x.to(gdcore.float64, True, False).dtype == gdcore.float64  # non_blocking, copy positionally
    c = x.to("cpu", copy=True)
    assert c is not x
    c[0, 0] = 9.0
    assert x[0, 0].item() == 1.5  # a real copy
    assert x.to(gdcore.float32, copy=True) is not x
    assert x.cpu() is x


def test_to_keeps_the_graph():
    w = gdcore.tensor([1.0, 2.0], requires_grad=True)
    w.to("cpu", gdcore.float64).pow(2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])
    v = gdcore.tensor([1.0, 2.0], requires_grad=True)
    v.to("cpu", copy=True).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("call", [
    lambda x: x.to("cuda"),
    lambda x: x.to("cuda:0", gdcore.float64),
    lambda x: x.to(device="mps"),
    lambda x: x.to(gdcore.device("cuda", 0)),
    lambda x: x.to(0),
    lambda x: x.cuda(),
])
def test_gpu_requests_raise_and_never_run_on_the_cpu(call):
    with pytest.raises(RuntimeError, match="CPU only"):
        call(gdcore.ones(2))


def test_bad_to_arguments():
    x = gdcore.ones(2)
    with pytest.raises(TypeError, match="unexpected keyword"):
        x.to(gdcore.float64, bogus=1)
    with pytest.raises(TypeError, match="two dtypes"):
        x.to(gdcore.float64, gdcore.float32)
    with pytest.raises(TypeError, match="two devices"):
        x.to("cpu", device="cpu")


# ---- modules -----------------------------------------------------------------------------

def test_module_to_device_keeps_parameter_objects():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    params = list(net.parameters())
    assert net.to("cpu") is net and net.to(gdcore.device("cpu")) is net and net.cpu() is net
    assert net.to(device="cpu", non_blocking=True) is net
    net.to("cpu", gdcore.float64)
    assert all(p.dtype == gdcore.float64 for p in net.parameters())
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    net.to(gdcore.zeros(1))  # to(tensor): the tensor's (float) dtype
    assert all(p.dtype == gdcore.float32 for p in net.parameters())
    for call in (lambda: net.to("cuda"), lambda: net.cuda(), lambda: net.to(gdcore.device("mps"))):
        with pytest.raises(RuntimeError, match="CPU only"):
            call()
