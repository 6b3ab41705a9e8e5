"""gdcore.metrics (accuracy, top_k_accuracy, confusion_matrix) against plain loops, fit's
per-epoch metrics and validation against a recomputation, and the classification plots."""
import numpy as np
import pytest

import gdcore
import gdcore.plot
from gdcore import metrics, nn
from gdcore.data import DataLoader, TensorDataset, make_blobs


def test_accuracy_from_scores_and_from_labels():
    scores = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0], [0.0, 0.0, 5.0], [1.0, 2.0, 0.5]])
    target = np.array([1, 0, 0, 2])
    expected = sum(int(np.argmax(row) == t) for row, t in zip(scores, target)) / 4
    assert metrics.accuracy(gdcore.tensor(scores), gdcore.tensor(target, dtype=gdcore.int64)) == expected == 0.5
    assert metrics.accuracy(gdcore.tensor([1, 0, 2, 0], dtype=gdcore.int64), gdcore.tensor(target, dtype=gdcore.int64)) == 0.5
    assert metrics.accuracy(scores, target.astype(np.float64)) == 0.5  # numpy in, float labels that are integers


def test_top_k_accuracy_against_a_loop():
    rng = np.random.default_rng(0)
    scores, target = rng.standard_normal((50, 6)), rng.integers(0, 6, 50)
    for k in (1, 2, 3, 6):
        expected = np.mean([t in np.argsort(-row)[:k] for row, t in zip(scores, target)])
        assert metrics.top_k_accuracy(gdcore.tensor(scores), gdcore.tensor(target, dtype=gdcore.int64), k=k) == expected
    assert metrics.top_k_accuracy(scores, target, k=1) == metrics.accuracy(scores, target)
    with pytest.raises(ValueError, match=r"k must be an int in 1\.\.6"):
        metrics.top_k_accuracy(scores, target, k=7)


def test_confusion_matrix_counts_like_a_loop():
    rng = np.random.default_rng(1)
    target, pred = rng.integers(0, 4, 40), rng.integers(0, 4, 40)
    expected = np.zeros((4, 4), dtype=np.int64)
    for t, p in zip(target, pred):
        expected[t, p] += 1
    m = metrics.confusion_matrix(gdcore.tensor(pred, dtype=gdcore.int64), gdcore.tensor(target, dtype=gdcore.int64))
    assert m.dtype == gdcore.int64
    np.testing.assert_array_equal(m.numpy(), expected)
    scores = np.eye(5)[pred]  # one-hot scores: 5 columns give 5 classes
    np.testing.assert_array_equal(metrics.confusion_matrix(scores, target).numpy()[:4, :4], expected)
    assert tuple(metrics.confusion_matrix(scores, target).shape) == (5, 5)


def test_bad_input():
    with pytest.raises(ValueError, match="output has 3 rows but target has 2 labels"):
        metrics.accuracy(np.zeros((3, 2)), np.array([0, 1]))
    with pytest.raises(TypeError, match="non-integer values"):
        metrics.accuracy(np.zeros((2, 2)), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"target must be class indices of shape \(N,\)"):
        metrics.accuracy(np.zeros((2, 2)), np.zeros((2, 1)))
    with pytest.raises(IndexError, match="target 3 is out of range for 3 classes"):
        metrics.confusion_matrix(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="no samples"):
        metrics.accuracy(np.zeros((0, 2)), np.zeros(0, dtype=np.int64))


def _setup(seed=0):
    gdcore.manual_seed(seed)
    X, y = make_blobs(64, centers=3, cluster_std=2.0, seed=seed)
    Xv, yv = make_blobs(40, centers=3, cluster_std=2.0, seed=seed + 100)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Dropout(0.2), nn.Linear(8, 3))
    return X, y, Xv, yv, model


def test_fit_records_train_and_validation_metrics_per_epoch():
    X, y, Xv, yv, model = _setup()
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=False)
    seen = []

    def accuracy_spy(output, target):
        seen.append((output.detach().numpy().copy(), target.numpy().copy()))
        return metrics.accuracy(output, target)

    opt = gdcore.optim.SGD(model.parameters(), lr=0.1)
    h = gdcore.train.fit(model, nn.CrossEntropyLoss(), opt, loader, 3, metrics={"accuracy": accuracy_spy},
                         val_data=(Xv, yv), progress=False)
    assert len(h.metrics["accuracy"]) == 3 and len(h.val_losses) == 3 and len(h.val_metrics["accuracy"]) == 3
    # epoch 3's training accuracy: the sample-weighted mean over the 4 batches the steps saw (4 batches of 16)
    train_calls = seen[-5:-1]  # the last epoch's batches, before its validation call
    expected = sum(np.mean(o.argmax(1) == t) * len(t) for o, t in train_calls) / 64
    assert h.metrics["accuracy"][-1] == pytest.approx(expected, abs=1e-12)
    # the validation numbers: the final model in eval mode (dropout off) on (Xv, yv)
    model.eval()
    with gdcore.no_grad():
        out = model(Xv)
        assert h.val_losses[-1] == pytest.approx(float(nn.CrossEntropyLoss()(out, yv).item()), rel=1e-6)
        assert h.val_metrics["accuracy"][-1] == metrics.accuracy(out, yv)
    assert model.training is False
    assert "val accuracy" in h.summary() and "accuracy" in h.summary()


def test_fit_restores_train_mode_after_validation_and_checks_metrics():
    X, y, Xv, yv, model = _setup(1)
    opt = gdcore.optim.SGD(model.parameters(), lr=0.1)
    modes = []
    gdcore.train.fit(model, nn.CrossEntropyLoss(), opt, [(X, y)], 2, val_data=[(Xv, yv)], progress=False,
                     callback=lambda h: modes.append(model.training))
    assert modes == [True, True]
    with pytest.raises(TypeError, match="metrics must be a dict of name -> function"):
        gdcore.train.fit(model, nn.CrossEntropyLoss(), opt, [(X, y)], 1, metrics=[metrics.accuracy], progress=False)


def test_plots_of_metrics_decision_regions_and_confusion(tmp_path):
    X, y, Xv, yv, model = _setup(2)
    opt = gdcore.optim.Adam(model.parameters(), lr=0.05)
    h = gdcore.train.fit(model, nn.CrossEntropyLoss(), opt, [(X, y)], 3, metrics={"accuracy": metrics.accuracy},
                         val_data=(Xv, yv), progress=False)
    fig = gdcore.plot.plot_losses(h, path=tmp_path / "curves.png")
    assert len(fig.axes) == 2 and (tmp_path / "curves.png").stat().st_size > 0
    assert [line.get_label() for line in fig.axes[1].lines] == ["train accuracy", "validation accuracy"]
    fig = gdcore.plot.decision_boundary(model, X, y, path=tmp_path / "regions.png", resolution=30)
    assert (tmp_path / "regions.png").exists() and model.training
    m = metrics.confusion_matrix(model(Xv), yv)
    fig = gdcore.plot.confusion_matrix(m, ["a", "b", "c"], path=tmp_path / "confusion.png")
    texts = sorted(int(t.get_text()) for t in fig.axes[0].texts)
    assert texts == sorted(m.numpy().ravel().tolist())
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        gdcore.plot.decision_boundary(model, gdcore.randn(5, 3), y[:5])
    with pytest.raises(ValueError, match="2 class names for a 3 x 3 matrix"):
        gdcore.plot.confusion_matrix(m, ["a", "b"])
