"""``gdcore demo``: run workflows (a)-(h) one after another with the settings of the chapter (or smaller ones
with ``quick``), collect their results and lay them out as a table. The examples call the same workflow
functions, so the demo and the scripts cannot drift apart."""
from __future__ import annotations

import os

from .result import Log, WorkflowResult

LETTERS = "abcdefgh"


def run_all(out: str = "gdcore-demo", quick: bool = False, download: bool = False, log: Log = None,
            only: str = LETTERS) -> tuple:
    """Run the workflows named by the letters in ``only`` (default all of them), saving plots into ``out``;
    return (results, notes).

    ``notes`` are one-line remarks for the user: the divergence (b) catches, and why (f) was skipped when the
    airfoil data is not found (it is searched in $GDCORE_DATA_DIR and the user cache; downloaded only when
    ``download``)."""
    unknown = sorted(set(only) - set(LETTERS))
    if unknown or not only:
        raise ValueError(f"demo: workflows are named by the letters {LETTERS}, got {only!r}")
    from . import (airfoil_minibatch_sgd, custom_module, lenet, linear_regression_by_hand,
                   linear_sgd_save_load, manual_updates)
    os.makedirs(out, exist_ok=True)
    results, notes = [], []
    if "a" in only:
        results.append(linear_regression_by_hand.run(out=out, log=log))
    if "b" in only:
        manual = manual_updates.run_tutorial_then_stable(out=out, log=log)
        if manual.learned.get("divergence"):
            notes.append(f"(b) with the tutorial's lr={manual_updates.TUTORIAL_LR:g}: {manual.learned['divergence']}")
        results.append(manual)
    if "c" in only:
        results.append(custom_module.run(iterations=2000 if quick else 5000, out=out, log=log))
    if "d" in only:
        results.append(linear_sgd_save_load.run(epochs=300 if quick else 1000, out=out, log=log))
    if "e" in only:
        results.append(lenet.run(steps=60 if quick else 300, out=out, log=log))
    if "f" in only:
        try:
            data = airfoil_minibatch_sgd.load_data(download=download)
        except FileNotFoundError:
            notes.append("(f) airfoil skipped: airfoil_self_noise.dat not found in $GDCORE_DATA_DIR or the cache; "
                         "set GDCORE_DATA_DIR to the folder holding it, or run 'gdcore demo --download'")
        except airfoil_minibatch_sgd.DATA_MISSING as err:   # the download failed, or the file's bytes are wrong
            notes.append(f"(f) airfoil skipped: {' '.join(str(err).split())}")
        else:
            results.append(airfoil_minibatch_sgd.run(data, quick=quick, out=out, log=log))
    if "g" in only:
        from . import classification
        found, remarks = classification.run(quick=quick, out=out, log=log, download=download)
        results.extend(found)
        notes.extend(remarks)
    if "h" in only:
        from . import curvature_tools
        results.append(curvature_tools.run(quick=quick, out=out, log=log))
    return results, notes


def format_table(results: list[WorkflowResult]) -> str:
    """Rows of (workflow, what was fitted, final loss, time) in aligned columns."""
    header = ("workflow", "what was fitted", "final loss", "time")
    rows = [header] + [(r.name, r.fitted, f"{r.final_loss:.4g}", _duration(r.seconds)) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for k, row in enumerate(rows):
        lines.append("  ".join([row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]),
                                row[3].rjust(widths[3])]).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"
