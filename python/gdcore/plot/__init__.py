"""gdcore.plot: the chapter's pictures with matplotlib, working with no display. show_trace and
show_trace_2d draw a gdcore.optimize result (iterates over f or over its contours), plot_losses
draws loss curves against epochs (a gdcore.train History, lists, or a dict of them), plot_fit a
scatter with a fitted line. Each returns the matplotlib Figure and saves it when given path=.
The curvature tools add sharpness (lambda_max during training against 2 / lr), lr_find (a learning-rate
range test) and optimizer_race (several optimizers over the contours of a 2-D function, or as a GIF)."""
from .fit import plot_fit
from .losses import plot_losses
from .trace import show_trace, show_trace_2d
from .curvature import lr_find, sharpness
from .race import RACE_TRACKS, optimizer_race

__all__ = ["show_trace", "show_trace_2d", "plot_losses", "plot_fit", "sharpness", "lr_find", "optimizer_race",
           "RACE_TRACKS"]

# Classification (issue 12): decision regions of a 2-D classifier and a confusion matrix.
from .classification import confusion_matrix, decision_boundary  # noqa: E402

__all__ += ["decision_boundary", "confusion_matrix"]
