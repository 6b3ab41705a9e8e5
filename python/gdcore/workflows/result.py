"""What a workflow hands back: a short description of what it fitted, its final loss, its wall time,
the plots it saved and the numbers it learned. ``gdcore demo`` tabulates these; the examples print them."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Callable, Optional

Log = Optional[Callable[[str], None]]


@dataclass
class WorkflowResult:
    """``name``: e.g. "(a) linear regression by hand"; ``fitted``: what was learned, in words and numbers;
    ``final_loss``: the workflow's own loss at the end; ``seconds``: wall time of the run;
    ``plots``: paths of the saved figures; ``learned``: the learned values by name (floats, lists)."""

    name: str
    fitted: str
    final_loss: float
    seconds: float
    plots: list = field(default_factory=list)
    learned: dict = field(default_factory=dict)

    def report(self) -> str:
        """A few lines for a terminal: the name, what was fitted, the loss, the time and the plots."""
        lines = [f"{self.name}: {self.fitted}", f"  final loss {self.final_loss:.6g} in {self.seconds:.2f} s"]
        lines += [f"  plot saved to {p}" for p in self.plots]
        return "\n".join(lines)


def emit(log: Log, message: str) -> None:
    """Send one progress line to ``log`` (print, a list's append, ...) when one was given."""
    if log is not None:
        log(message)


def plot_path(out: Optional[str], filename: str) -> Optional[str]:
    """``out/filename`` with ``out`` created, or None when no output folder was asked for."""
    if out is None:
        return None
    os.makedirs(out, exist_ok=True)
    return os.path.join(out, filename)


def close(fig) -> None:
    """Release a figure that pyplot tracks (gdcore.plot uses pyplot only when the caller already imported it,
    and pyplot would keep every figure of the demo open); a bare Figure is freed like any object."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)
