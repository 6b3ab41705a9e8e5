"""gdcore.plot: the chapter's pictures with matplotlib, working with no display. show_trace and
show_trace_2d draw a gdcore.optimize result (iterates over f or over its contours), plot_losses
draws loss curves against epochs (a gdcore.train History, lists, or a dict of them), plot_fit a
scatter with a fitted line. Each returns the matplotlib Figure and saves it when given path=."""
from .fit import plot_fit
from .losses import plot_losses
from .trace import show_trace, show_trace_2d

__all__ = ["show_trace", "show_trace_2d", "plot_losses", "plot_fit"]
