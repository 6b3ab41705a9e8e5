"""Where gdcore.plot's figures come from. matplotlib is imported only when a plot is drawn. A figure
is a bare matplotlib Figure (no pyplot, no display, no global state: it works headless and is freed
like any object) unless the caller already uses pyplot, in which case it is made through pyplot so
that plt.show() and notebooks display it as usual."""
from __future__ import annotations

import os
import sys
from typing import Optional, Union

__all__ = ["new_figure", "finish"]

PathLike = Union[str, "os.PathLike[str]"]


def new_figure(figsize: tuple[float, float]):
    """A new matplotlib Figure of the given size (inches) with one Axes; returns (figure, axes)."""
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=figsize)
    else:
        from matplotlib.figure import Figure
        fig = Figure(figsize=figsize)
    return fig, fig.add_subplot()


def finish(fig, path: Optional[PathLike], title: Optional[str] = None):
    """Lay the figure out, add ``title``, save it to ``path`` when one is given (format from the
    extension, e.g. .png, .pdf, .svg) and return it."""
    if title:
        fig.axes[0].set_title(title)
    fig.tight_layout()
    if path is not None:
        folder = os.path.dirname(os.fspath(path))
        if folder and not os.path.isdir(folder):
            raise FileNotFoundError(f"cannot save the plot to {os.fspath(path)!r}: the folder {folder!r} does not "
                                    "exist; create it first")
        fig.savefig(path, dpi=120)
    return fig
