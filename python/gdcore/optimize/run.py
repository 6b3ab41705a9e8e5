"""The bookkeeping shared by every optimizer: argument checks, the trace of iterates, and the
stopping rules (a step budget, a gradient tolerance, divergence). An optimizer's loop only says
how to make one step; ``Run`` decides when to stop and builds the OptimizeResult.

Divergence: an iterate or f value that is not finite, or an iterate whose largest |coordinate|
exceeds ``max_norm`` (by default 1e6 * max(1, max|x0|)), stops the run with diverged=True and a
RuntimeWarning naming the step and the step size, so that a too-large learning rate is caught at
the step where it went wrong instead of a page of nan later.
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Optional

import numpy as np

from .derivatives import Objective
from .result import OptimizeResult, Trace

__all__ = ["Run", "check_rate", "DEFAULT_MAX_STEPS", "BLOWUP_FACTOR"]

DEFAULT_MAX_STEPS = 10_000  # the cap when only tol= is given
BLOWUP_FACTOR = 1e6  # default max_norm = BLOWUP_FACTOR * max(1, max|x0|)


def check_rate(value, name: str, method: str) -> float:
    """``value`` as a float after checking that it is a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{method}: {name} must be a positive finite number, got {value!r}")
    return float(value)


def _check_stopping(method: str, steps, tol) -> None:
    if steps is None and tol is None:
        raise ValueError(f"{method}: say when to stop: pass steps= (a number of updates), tol= (stop once every "
                         "|gradient| <= tol), or both")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0):
        raise ValueError(f"{method}: steps must be a non-negative integer, got {steps!r}")
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, numbers.Real)
                            or not math.isfinite(tol) or tol < 0):
        raise ValueError(f"{method}: tol must be a non-negative finite number, got {tol!r}")


class Run:
    """One optimizer run: call ``start`` with x0, then for each ``step in run.steps()`` make the update,
    ``blew_up`` to vet the new iterate before f is evaluated there, and ``record`` it; ``result()`` at the end.

    ``rate_name`` is how the step size is called in messages ("lr", "eta", "step size"); ``advice`` is
    what a divergence warning suggests (by default a step size half as large).
    """

    def __init__(self, method: str, objective: Objective, *, steps: Optional[int], tol: Optional[float],
                 max_norm: Optional[float], rate_name: str = "lr", advice: Optional[str] = None):
        _check_stopping(method, steps, tol)
        self.method, self.objective, self.rate_name, self.advice = method, objective, rate_name, advice
        self.budget = int(steps) if steps is not None else DEFAULT_MAX_STEPS
        self.steps_given = steps is not None
        self.tol = None if tol is None else float(tol)
        if max_norm is None:
            max_norm = BLOWUP_FACTOR * max(1.0, float(np.max(np.abs(objective.x0))))
        self.max_norm = check_rate(max_norm, "max_norm", method)
        self.xs: list[np.ndarray] = []
        self.fxs: list[float] = []
        self.rates: list[float] = []
        self.done = False
        self.converged = False
        self.diverged = False
        self.reason = ""

    # -- the loop -------------------------------------------------------------------------------
    def start(self, x: np.ndarray, fx: float, g: Optional[np.ndarray] = None) -> None:
        """Record x0 and f(x0) (which must be finite); stop at once if x0 already meets tol."""
        self.xs.append(np.array(x, dtype=np.float64))
        self.fxs.append(float(fx))
        if not math.isfinite(fx):
            raise ValueError(f"{self.method}: f(x0) = {fx} is not finite; start from a point where f is defined")
        if g is not None:
            self._check_tolerance(g, 0)

    def steps(self):
        """The step numbers 1, 2, ... up to the budget; ends early once the run has stopped."""
        for step in range(1, self.budget + 1):
            if self.done:
                return
            yield step

    def blew_up(self, step: int, x: np.ndarray, rate: float) -> bool:
        """True (and the run stops, diverged) when the new iterate is not finite or beyond max_norm."""
        size = float(np.max(np.abs(x))) if np.all(np.isfinite(x)) else math.inf
        if size <= self.max_norm:
            return False
        self._append(x, self._value_or_nan(x) if math.isfinite(size) else math.nan, rate)
        what = (f"the iterate became non-finite ({self._show(x)})" if not math.isfinite(size)
                else f"|x| = {size:.3g} exceeded max_norm={self.max_norm:.3g}")
        self._diverge(step, rate, what)
        return True

    def record(self, step: int, x: np.ndarray, fx: float, rate: float, g: Optional[np.ndarray] = None) -> None:
        """Add an accepted iterate; stop if f is not finite there, or (given g) once every |g| <= tol."""
        self._append(x, fx, rate)
        if not math.isfinite(fx):
            self._diverge(step, rate, f"f(x) became {fx}")
        elif g is not None:
            self._check_tolerance(g, step)
        if not self.done and step == self.budget:
            if self.steps_given:
                self._stop(f"ran the {step} requested steps")
            else:
                self._stop(f"stopped after {step} steps without reaching tol={self.tol:g}; pass steps= to run longer")

    def stop(self, step: int, why: str, warn: bool = True) -> None:
        """End the run early for a method-specific reason (a singular Hessian, a failed line search)."""
        self._stop(f"step {step}: {why}")
        if warn:
            warnings.warn(f"{self.method} stopped at step {step}: {why}", RuntimeWarning, stacklevel=3)

    def result(self) -> OptimizeResult:
        if not self.done:  # steps=0, or the loop ended without a last record
            self._stop(f"ran the {len(self.rates)} requested steps")
        xs = np.array(self.xs, dtype=np.float64)
        if self.objective.scalar:
            xs = xs.reshape(-1)
        last = self.xs[-1]
        return OptimizeResult(x=self.objective.output(last), fx=self.fxs[-1], iterations=len(self.rates),
                              trace=Trace(x=xs, fx=np.array(self.fxs, dtype=np.float64),
                                          lr=np.array(self.rates, dtype=np.float64)),
                              converged=self.converged, diverged=self.diverged, reason=self.reason,
                              method=self.method)

    # -- helpers --------------------------------------------------------------------------------
    def _append(self, x: np.ndarray, fx: float, rate: float) -> None:
        self.xs.append(np.array(x, dtype=np.float64))
        self.fxs.append(float(fx))
        self.rates.append(float(rate))

    def _check_tolerance(self, g: np.ndarray, step: int) -> None:
        if self.tol is None:
            return
        largest = float(np.max(np.abs(g)))
        if largest <= self.tol:
            self.converged = True
            self._stop(f"every |gradient| <= tol={self.tol:g} (largest {largest:.3g}) after {step} steps")

    def _diverge(self, step: int, rate: float, what: str) -> None:
        self.diverged = True
        advice = self.advice or f"try a smaller {self.rate_name} (e.g. {self.rate_name}={rate / 2:g})"
        message = f"{self.method} diverged at step {step} with {self.rate_name}={rate:g}: {what}; {advice}"
        self._stop(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)  # point at the user's call of the optimizer

    def _stop(self, reason: str) -> None:
        self.done = True
        self.reason = reason

    def _value_or_nan(self, x: np.ndarray) -> float:
        """f at an exploded iterate, for the trace; nan where f itself overflows (e.g. math.exp)."""
        try:
            return self.objective.value(x)
        except (OverflowError, FloatingPointError, ValueError):
            return math.nan

    def _show(self, x: np.ndarray) -> str:
        return f"{x[0]:g}" if self.objective.scalar else np.array2string(x, precision=4, threshold=6)
