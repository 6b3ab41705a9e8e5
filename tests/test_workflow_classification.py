"""Workflow (g) (gdcore/workflows/classification.py): the MLP separates the spirals (>= 95% held-out
accuracy with the fixed seed) where softmax regression cannot; LeNet runs on a small Fashion-MNIST
built here when the files are present, and is skipped with a one-line note when they are not."""
import gzip
import os
import struct

import numpy as np
import pytest

import gdcore
from gdcore.workflows import classification, demo

NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz"]


def _write(folder, array):
    head = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return gzip.compress(head + array.tobytes())


def test_mlp_reaches_95_percent_on_spirals_and_softmax_regression_does_not(tmp_path):
    gdcore.manual_seed(classification.SEED)
    mlp, history = classification.train_spirals(classification.mlp(), 60, 0.01, "MLP", str(tmp_path), None)
    assert mlp.learned["val_accuracy"] >= 0.95
    assert len(history.metrics["accuracy"]) == 60 and len(history.val_metrics["accuracy"]) == 60
    gdcore.manual_seed(classification.SEED)
    linear, _ = classification.train_spirals(gdcore.nn.Linear(2, 3), 20, 0.05, "Softmax regression", None, None)
    assert linear.learned["val_accuracy"] < 0.7  # three spiral arms are not linearly separable
    assert sorted(os.listdir(tmp_path)) == ["g_mlp_curves.png", "g_mlp_regions.png"]


def test_lenet_is_skipped_with_a_note_when_fashion_mnist_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("GDCORE_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    results, notes = demo.run_all(out=str(tmp_path / "out"), quick=True, only="g")
    assert [r.name for r in results] == ["(g) Softmax regression on spirals", "(g) MLP on spirals"]
    assert len(notes) == 1 and notes[0].startswith("(g) LeNet skipped: Fashion-MNIST not found")


def test_lenet_runs_on_fashion_mnist_files_when_present(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    labels = rng.integers(0, 10, 64).astype(np.uint8)
    images = (rng.random((64, 28, 28)) * 60).astype(np.uint8) + labels[:, None, None] * 19  # brightness = class
    for name, array in zip(NAMES, [images, labels, images[:32], labels[:32]]):
        (raw / name).write_bytes(_write(raw, array))
    monkeypatch.setenv("GDCORE_DATA_DIR", str(tmp_path))
    train, test = classification.find_fashion_mnist()
    result = classification.train_lenet(train, test, 64, 32, 1, str(tmp_path / "out"), None)
    assert result.name == "(g) LeNet-5 on Fashion-MNIST" and 0.0 <= result.learned["test_accuracy"] <= 1.0
    assert np.isfinite(result.final_loss)
    assert os.path.exists(tmp_path / "out" / "g_lenet_curves.png")


def test_lenet_shapes_follow_d2l():
    net = classification.lenet()
    assert tuple(net(gdcore.randn(2, 1, 28, 28)).shape) == (2, 10)
    assert sum(p.numel() for p in net.parameters()) == 61706  # d2l's LeNet-5 parameter count
