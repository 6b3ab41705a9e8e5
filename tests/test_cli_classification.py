"""``gdcore train --task classification`` and load_labelled_csv: string and integer labels, accuracy per
epoch and in the summary, the loss/accuracy plot, and bad input."""
import re

import numpy as np
import pytest

import gdcore
from gdcore.cli import main
from gdcore.data import load_labelled_csv, make_blobs


def _write_blobs(path, names=("cat", "dog", "emu"), header=True, seed=0):
    X, y = make_blobs(90, centers=[[0, 0], [6, 0], [0, 6]], cluster_std=0.7, seed=seed)
    x, labels = X.numpy(), y.numpy()
    lines = ["width,height,animal"] if header else []
    lines += [f"{a:.5f},{b:.5f},{names[k]}" for (a, b), k in zip(x, labels)]
    path.write_text("\n".join(lines) + "\n")
    return x, labels


def test_load_labelled_csv_maps_names_and_integers_to_sorted_indices(tmp_path):
    x, labels = _write_blobs(tmp_path / "a.csv", names=("emu", "cat", "dog"))
    X, y, classes = load_labelled_csv(tmp_path / "a.csv", target="animal")
    assert classes == ["cat", "dog", "emu"]
    mapping = {0: 2, 1: 0, 2: 1}  # emu -> 2, cat -> 0, dog -> 1
    np.testing.assert_array_equal(y.numpy(), [mapping[k] for k in labels])
    np.testing.assert_allclose(X.numpy(), x, atol=1e-5)
    _write_blobs(tmp_path / "b.csv", names=("10", "3", "7"), header=False)
    _, y, classes = load_labelled_csv(tmp_path / "b.csv")
    assert classes == [3, 7, 10]  # numeric order, not string order
    assert y.dtype == gdcore.int64


def test_load_labelled_csv_bad_input(tmp_path):
    (tmp_path / "f.csv").write_text("a,b\n1,0.5\n2,1.5\n")
    with pytest.raises(ValueError, match="non-integer numbers .*'0.5'"):
        load_labelled_csv(tmp_path / "f.csv")
    (tmp_path / "g.csv").write_text("a,b,c\n1,x,cat\n2,3,dog\n")
    with pytest.raises(ValueError, match="line 2, column 'b': 'x' is not a number"):
        load_labelled_csv(tmp_path / "g.csv")


@pytest.mark.parametrize("model", ["linear", "mlp"])
def test_train_classification_prints_accuracy_and_saves_the_curves(tmp_path, capsys, model):
    _write_blobs(tmp_path / "animals.csv")
    code = main(["train", "--task", "classification", "--csv", str(tmp_path / "animals.csv"), "--target", "animal",
                 "--model", model, "--optimizer", "adam", "--lr", "0.05", "--epochs", "8", "--plot",
                 str(tmp_path / "curves.png"), "--save", str(tmp_path / "model.gd")])
    out = capsys.readouterr().out
    assert code == 0
    assert "3 classes (cat, dog, emu)" in out
    epochs = re.findall(r"epoch +\d+/8  loss [\d.e+-]+  accuracy ([\d.]+)", out)
    assert len(epochs) == 8
    final = float(re.search(r"accuracy on all 90 rows after training: ([\d.]+)", out).group(1))
    assert final >= 0.95  # three well separated blobs
    assert (tmp_path / "curves.png").stat().st_size > 0
    state = gdcore.load(str(tmp_path / "model.gd"))
    last = [k for k in state if k.endswith("weight")][-1]
    assert tuple(state[last].shape)[0] == 3  # one logit per class


def test_classification_needs_a_csv_and_class_labels(tmp_path, capsys):
    assert main(["train", "--task", "classification", "--dataset", "airfoil"]) == 2
    assert "--task classification needs --csv FILE" in capsys.readouterr().err
    (tmp_path / "one.csv").write_text("a,label\n1,x\n2,x\n")
    assert main(["train", "--task", "classification", "--csv", str(tmp_path / "one.csv")]) == 1
    assert "single class" in capsys.readouterr().err


def test_regression_stays_the_default(tmp_path, capsys):
    (tmp_path / "r.csv").write_text("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(10)))
    assert main(["train", "--csv", str(tmp_path / "r.csv"), "--epochs", "2"]) == 0
    assert "accuracy" not in capsys.readouterr().out
