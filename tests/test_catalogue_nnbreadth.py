"""Bad-input catalogue, the nn/data/utility breadth round (issue 11): top-level utilities, nn.functional
additions, data utilities, containers and lr schedulers (see catalogue.py)."""
import pytest

import gdcore
from catalogue import bad, check

g = gdcore

UTILITIES = [
    bad("default-dtype-int", lambda: g.set_default_dtype(g.int64), TypeError, "only floating-point types"),
    bad("default-dtype-str", lambda: g.set_default_dtype("float64"), TypeError, "expected a gdcore.dtype"),
    bad("finfo-int", lambda: g.finfo(g.int64), TypeError, "use gdcore.iinfo"),
    bad("iinfo-float", lambda: g.iinfo(g.float32), TypeError, "use gdcore.finfo"),
    bad("iinfo-bool", lambda: g.iinfo(g.bool), TypeError, "not supported by gdcore.iinfo"),
    bad("inference-mode-str", lambda: g.inference_mode("yes"), TypeError, "mode must be True or False"),
    bad("printoptions-profile", lambda: g.set_printoptions(profile="long"), ValueError, "profile must be one of"),
    bad("printoptions-precision", lambda: g.set_printoptions(precision=-1), ValueError, "precision must be"),
    bad("printoptions-sci", lambda: g.set_printoptions(sci_mode="on"), TypeError, "sci_mode must be"),
    bad("is-complex-list", lambda: g.is_complex([1.0]), TypeError, "expected a gdcore.Tensor"),
]

CASES = UTILITIES


@pytest.mark.parametrize("call, error, words", CASES)
def test_bad_input_raises_a_clear_error(call, error, words, tmp_path):
    check(call, error, words, tmp_path)
