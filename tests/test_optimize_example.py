"""examples/gradient_descent_chapter.py runs headless, prints the chapter's lines and saves its figures."""
import importlib.util
import os

import pytest

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "gradient_descent_chapter.py")


@pytest.fixture
def chapter():
    spec = importlib.util.spec_from_file_location("gradient_descent_chapter", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chapter_example_prints_the_chapter_lines_and_saves_every_figure(chapter, tmp_path, capsys):
    assert chapter.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for line in ["epoch 10, x: 0.060466", "epoch 10, x: 3.486784", "epoch 10, x: 61.917364",
                 "epoch 10, x: -1.528166", "epoch 20, x1: -0.057646, x2: -0.000073",
                 "epoch 10, x: 26.834133", "epoch 10, x: 7.269860", "diverged=True"]:
        assert line in out
    names = set(os.listdir(tmp_path))
    expected = {"gd_lr_0.2.png", "gd_lr_0.05.png", "gd_lr_1.1.png", "local_minimum.png", "gd_2d.png",
                "newton_cosh.png", "newton_nonconvex_eta_1.0.png", "newton_nonconvex_eta_0.5.png",
                "ill_conditioned_gd.png", "ill_conditioned_preconditioned.png", "ill_conditioned_line_search.png",
                "ill_conditioned_cg.png", "ill_conditioned_f_per_step.png", "sgd_constant.png",
                "sgd_exponential.png", "sgd_polynomial.png", "sgd_schedules.png"}
    assert expected <= names
    for name in expected:
        assert os.path.getsize(tmp_path / name) > 1000
