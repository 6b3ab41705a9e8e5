"""Bad-input catalogue, the PyTorch surface: device requests, numpy spellings, lazy layers and
DataLoader options (gdcore/device.py, numpy_spellings.py, nn/lazy.py, data/dataloader.py).

A GPU request of any form must raise a RuntimeError saying gdcore runs on the CPU (never run on
the CPU instead); DataLoader option clashes raise torch's ValueError (see catalogue.py).
"""
import pytest

import gdcore
from catalogue import bad, check
from gdcore import nn
from gdcore.data import DataLoader, TensorDataset

g = gdcore


def _ds():
    return TensorDataset(g.zeros(4, 2), g.zeros(4))


DEVICES = [
    bad("tensor-to-cuda", lambda: g.ones(2).to("cuda"), RuntimeError, "gdcore runs on the CPU only"),
    bad("tensor-to-cuda-index", lambda: g.ones(2).to(g.device("cuda", 1)), RuntimeError, "'cuda:1' is not available"),
    bad("tensor-to-mps", lambda: g.ones(2).to(device="mps"), RuntimeError, "gdcore runs on the CPU only"),
    bad("tensor-to-ordinal", lambda: g.ones(2).to(0), RuntimeError, "a bare device index means a CUDA device"),
    bad("tensor-cuda", lambda: g.ones(2).cuda(), RuntimeError, "there is no CUDA device"),
    bad("tensor-cpu-1", lambda: g.ones(2).to("cpu:1"), RuntimeError, "gdcore has one device"),
    bad("zeros-cuda", lambda: g.zeros(2, device="cuda"), RuntimeError, "zeros: device 'cuda' is not available"),
    bad("tensor-cuda-kw", lambda: g.tensor([1.0], device="cuda:0"), RuntimeError, "tensor: device 'cuda:0'"),
    bad("randn-mps", lambda: g.randn(3, device=g.device("mps")), RuntimeError, "randn: device 'mps'"),
    bad("linear-cuda", lambda: nn.Linear(2, 2, device="cuda"), RuntimeError, "gdcore runs on the CPU only"),
    bad("module-cuda", lambda: nn.Linear(2, 2).cuda(), RuntimeError, "gdcore runs on the CPU only"),
    bad("default-device-cuda", lambda: g.set_default_device("cuda"), RuntimeError, "gdcore runs on the CPU only"),
    bad("device-unknown", lambda: g.device("gpu"), RuntimeError, "device type at start of device string: 'gpu'"),
    bad("device-float", lambda: g.zeros(2, device=1.5), TypeError, "device must be a gdcore.device or a string"),
    bad("cuda-current-device", lambda: g.cuda.current_device(), RuntimeError, "no CUDA device"),
    bad("to-two-dtypes", lambda: g.ones(2).to(g.float64, g.float32), TypeError, "two dtypes"),
    bad("to-memory-format", lambda: g.ones(2).to(memory_format="channels_last"), TypeError,
        "memory_format is not supported"),
]

SPELLINGS = [
    bad("sum-dim-and-axis", lambda: g.ones(2, 2).sum(dim=0, axis=1), TypeError,
        "got both dim= and its numpy spelling axis="),
    bad("argmax-keepdim-twice", lambda: g.argmax(g.ones(2, 2), 0, keepdim=True, keepdims=False), TypeError,
        "got both keepdim= and its numpy spelling keepdims="),
    bad("mT-of-a-vector", lambda: g.ones(3).mT, RuntimeError, "tensor.mT is only supported on matrices"),
]

LAZY = [
    bad("lazy-shape", lambda: nn.LazyLinear(2).weight.shape, ValueError, "uninitialized parameter"),
    bad("lazy-numel", lambda: sum(p.numel() for p in nn.LazyLinear(2).parameters()), ValueError,
        "Call the module (forward) with a dummy batch"),
    bad("lazy-0d-input", lambda: nn.LazyLinear(2)(g.tensor(1.0)), ValueError, "at least one dimension"),
    bad("lazy-numpy-input", lambda: nn.LazyLinear(2)([1.0, 2.0]), TypeError, "expected a gdcore.Tensor input"),
]

LOADER = [
    bad("sampler-and-shuffle", lambda: DataLoader(_ds(), sampler=[0, 1], shuffle=True), ValueError,
        "sampler option is mutually exclusive with shuffle"),
    bad("batch-sampler-and-size", lambda: DataLoader(_ds(), batch_size=2, batch_sampler=[[0]]), ValueError,
        "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
    bad("prefetch-without-workers", lambda: DataLoader(_ds(), prefetch_factor=2), ValueError,
        "prefetch_factor option could only be specified in multiprocessing"),
    bad("prefetch-zero", lambda: DataLoader(_ds(), num_workers=1, prefetch_factor=0), ValueError,
        "prefetch_factor option should be a positive int"),
    bad("persistent-without-workers", lambda: DataLoader(_ds(), persistent_workers=True), ValueError,
        "persistent_workers option needs num_workers > 0"),
    bad("negative-workers", lambda: DataLoader(_ds(), num_workers=-1), ValueError,
        "num_workers option should be non-negative"),
    bad("negative-timeout", lambda: DataLoader(_ds(), timeout=-1), ValueError, "timeout option should be non-negative"),
    bad("worker-init-not-callable", lambda: DataLoader(_ds(), num_workers=1, worker_init_fn=3), TypeError,
        "worker_init_fn must be callable"),
    bad("unbatched-drop-last", lambda: DataLoader(_ds(), batch_size=None, drop_last=True), ValueError,
        "batch_size=None option disables auto-batching"),
    bad("batch-sampler-zero", lambda: g.data.BatchSampler(range(3), 0, False), ValueError,
        "batch_size should be a positive integer value"),
    bad("random-sampler-num-samples", lambda: g.data.RandomSampler(range(3), num_samples=0), ValueError,
        "num_samples should be a positive integer value"),
]


@pytest.mark.parametrize("call, error, words", DEVICES + SPELLINGS + LAZY + LOADER)
def test_bad_input_raises_a_clear_error(call, error, words, tmp_path):
    check(call, error, words, tmp_path)
