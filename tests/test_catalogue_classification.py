"""Bad-input catalogue, the classification layers, data, metrics and CLI of issue 12 (see catalogue.py):
each call must raise the named exception with a message that names the problem or the fix, never crash
and never answer silently wrong."""
import gzip
import struct

import pytest

import gdcore
import gdcore.nn.functional as F
from catalogue import CommandFailed, bad, check, run_cli
from gdcore import metrics, nn
from gdcore.data import MNIST, IDXError, make_moons, read_idx

g = gdcore


def _write(folder, name, data):
    path = folder / name
    path.write_bytes(data)
    return path


def _labels_file(folder, count=3, claimed=3):
    return _write(folder, "labels.gz", gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", claimed) + bytes(count)))


CASES = [
    bad("dropout_p_above_one", lambda: nn.Dropout(p=1.5), ValueError, "between 0 and 1, but got 1.5"),
    bad("dropout_p_negative", lambda: F.dropout(g.ones(2), p=-0.1), ValueError, "between 0 and 1"),
    bad("dropout_int_tensor", lambda: F.dropout(g.tensor([1, 2]), 0.5), TypeError, "floating-point"),
    bad("batchnorm_one_sample_training", lambda: nn.BatchNorm1d(3)(g.randn(1, 3)), ValueError,
        "Expected more than 1 value per channel when training"),
    bad("batchnorm2d_one_pixel_one_sample", lambda: nn.BatchNorm2d(2)(g.randn(1, 2, 1, 1)), ValueError,
        "more than 1 value per channel"),
    bad("batchnorm_wrong_channels", lambda: nn.BatchNorm2d(3)(g.randn(2, 4, 2, 2)), ValueError,
        "num_features=3"),
    bad("batchnorm_bad_momentum", lambda: nn.BatchNorm1d(3, momentum=2.0), ValueError, "momentum must be in [0, 1]"),
    bad("layernorm_shape", lambda: nn.LayerNorm((3, 4))(g.randn(2, 4, 3)), ValueError, "does not end in"),
    bad("embedding_index_out_of_range", lambda: nn.Embedding(4, 2)(g.tensor([0, 4])), IndexError,
        "index 4 is out of range for 4 embeddings"),
    bad("embedding_negative_index", lambda: nn.Embedding(4, 2)(g.tensor([-1])), IndexError, "index -1"),
    bad("embedding_float_indices", lambda: nn.Embedding(4, 2)(g.tensor([1.0])), TypeError, "integer tensor"),
    bad("gelu_approximate", lambda: F.gelu(g.ones(2), approximate="erf"), ValueError, "'none' or 'tanh'"),
    bad("softplus_beta_zero", lambda: nn.Softplus(beta=0), ValueError, "beta must be nonzero"),
    bad("avg_pool_kernel_zero", lambda: F.avg_pool2d(g.randn(1, 1, 3, 3), 0), ValueError, "kernel_size must be >= 1"),
    bad("avg_pool_stride_zero", lambda: F.avg_pool2d(g.randn(1, 1, 3, 3), 2, 0), ValueError, "stride must be >= 1"),
    bad("avg_pool_int_input", lambda: F.avg_pool2d(g.tensor([[[[1, 2], [3, 4]]]]), 2), ValueError,
        "expected float32 or float64"),
    bad("avg_pool_backward_shapes", lambda: g._core._avg_pool2d_backward(g.ones(1, 1, 3, 3), [1, 1, 5, 5], [2, 2],
                                                                         [2, 2], [0, 0], True),
        ValueError, "does not match the pooled size (2, 2)"),
    bad("adaptive_pool_zero", lambda: nn.AdaptiveAvgPool2d((0, 2))(g.randn(1, 1, 4, 4)), ValueError,
        "positive ints"),
    bad("unflatten_sizes", lambda: nn.Unflatten(1, (2, 2))(g.ones(3, 5)), ValueError, "has 4 elements"),
    bad("idx_wrong_magic", lambda tmp: read_idx(_write(tmp, "x.idx", b"\x08\x03\x00\x00" + bytes(20))), IDXError,
        "wrong magic number 0x08030000"),
    bad("idx_truncated_labels", lambda tmp: read_idx(_labels_file(tmp, count=2)), IDXError, "truncated or corrupt"),
    bad("idx_not_gzip_but_named_so", lambda tmp: read_idx(_write(tmp, "y.gz", b"\x00\x00\x08\x01\x00\x00\x00\x09")),
        IDXError, "length is 8 bytes"),
    bad("mnist_missing", lambda tmp: MNIST(tmp), FileNotFoundError, "download=True"),
    bad("accuracy_batch_mismatch", lambda: metrics.accuracy(g.randn(4, 3), g.tensor([0, 1])), ValueError,
        "4 rows but target has 2"),
    bad("top_k_too_large", lambda: metrics.top_k_accuracy(g.randn(4, 3), g.tensor([0, 1, 2, 0]), k=4), ValueError,
        "k must be an int in 1..3"),
    bad("confusion_negative_label", lambda: metrics.confusion_matrix(g.tensor([0, 1]), g.tensor([0, -1])),
        IndexError, "target -1 is out of range"),
    bad("make_moons_bad_n", lambda: make_moons(-3), ValueError, "positive int"),
    bad("decision_boundary_3_features", lambda: gdcore.plot.decision_boundary(nn.Linear(3, 2), g.randn(4, 3),
                                                                              g.tensor([0, 1, 0, 1])),
        ValueError, "(N, 2)"),
    bad("cli_classification_float_labels", lambda tmp: run_cli(
        ["train", "--task", "classification", "--csv", str(_write(tmp, "t.csv", b"a,b\n1,0.5\n2,1.5\n"))]),
        CommandFailed, "non-integer numbers"),
    bad("cli_classification_airfoil", lambda: run_cli(["train", "--task", "classification", "--dataset", "airfoil"]),
        CommandFailed, "needs --csv FILE"),
]


@pytest.mark.parametrize("call, error, words", CASES)
def test_bad_input(call, error, words, tmp_path):
    import gdcore.plot  # noqa: F401
    check(call, error, words, tmp_path)
