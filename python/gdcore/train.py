"""A training loop in the spirit of the chapter's train_ch7 / train_ch11: ``fit`` runs epochs of
mini-batch updates, records the loss curve (the mean training loss per epoch, or the loss on the full
data every k steps), times each epoch, and stops with a clear error when the loss stops being finite.

``check_finite`` is the same divergence check for hand-written loops; ``History`` is what ``fit``
returns and what ``gdcore.plot.plot_losses`` draws (through its ``epochs`` and ``losses`` lists).
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from ._core import Tensor
from .checkpoint import TrainingCheckpoint
from .grad_mode import no_grad
from .lr_finder import LRFinderResult, lr_find
from .train_metrics import EpochMetrics

__all__ = ["DivergenceError", "History", "check_finite", "fit", "evaluate_loss", "suggest_lr", "lr_find",
           "LRFinderResult"]


class DivergenceError(FloatingPointError):
    """The loss became nan or inf: the iterates diverged.

    Attributes: ``step`` (1-based update count), ``epoch`` (1-based, or None), ``lr``, ``loss`` and
    ``parameter`` (a description of the non-finite parameter, or None).
    """

    def __init__(self, message: str, *, step: Optional[int] = None, epoch: Optional[int] = None,
                 lr: Optional[float] = None, loss: float = math.nan, parameter: Optional[str] = None):
        super().__init__(message)
        self.step, self.epoch, self.lr, self.loss, self.parameter = step, epoch, lr, loss, parameter


def _as_float(loss: Any) -> float:
    if isinstance(loss, Tensor):
        if loss.numel() != 1:
            raise ValueError(f"the loss must be a single number, got a tensor of shape {tuple(loss.shape)}; "
                             "reduce it with .mean() or .sum() first")
        return float(loss.item())
    return float(loss)


def check_finite(loss: Any, *, step: Optional[int] = None, lr: Optional[float] = None,
                 epoch: Optional[int] = None) -> float:
    """Return ``loss`` (a one-element tensor or a number) as a float; raise DivergenceError if it is nan/inf.

    The message names where it happened (step, epoch) and the learning rate, and says what to try.
    Call it once per update in a hand-written loop, e.g. ``check_finite(loss, step=t, lr=lr)``.
    """
    value = _as_float(loss)
    if math.isfinite(value):
        return value
    where = ", ".join(part for part in (
        f"step {step}" if step is not None else "",
        f"epoch {epoch}" if epoch is not None else "",
        f"lr={lr:g}" if lr is not None else "") if part)
    smaller = f"e.g. lr={lr / 10:g}" if lr is not None else "e.g. ten times smaller"
    raise DivergenceError(
        f"the loss became {value} ({where or 'no step given'}): gradient descent diverged. "
        f"Try a smaller learning rate ({smaller}) or standardise the features (zero mean, unit variance).",
        step=step, epoch=epoch, lr=lr, loss=value)


@dataclass
class History:
    """The record of one ``fit`` run.

    ``epochs[i]`` is the x position (in epochs, fractional for evaluation points) of ``losses[i]``;
    ``train_losses[e]`` is the mean training loss of epoch e+1 and ``seconds_per_epoch[e]`` its training
    time (evaluation excluded, as the chapter's timer does). ``label`` names the curve in plots.
    With ``fit(track_sharpness=N)``: ``sharpness[i]`` is the Hessian's largest eigenvalue at step
    ``sharpness_steps[i]`` and ``sharpness_limits[i]`` the value at which that step's lr becomes unstable (2 / lr).
    """

    epochs: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    train_losses: list = field(default_factory=list)
    seconds_per_epoch: list = field(default_factory=list)
    steps: int = 0
    label: Optional[str] = None
    sharpness_steps: list = field(default_factory=list)
    sharpness: list = field(default_factory=list)
    sharpness_limits: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)  # name -> per-epoch values on the training batches
    val_losses: list = field(default_factory=list)  # fit(val_data=...): per-epoch validation loss
    val_metrics: dict = field(default_factory=dict)  # name -> per-epoch values on val_data

    @property
    def final_loss(self) -> float:
        """The last recorded loss (nan before any was recorded)."""
        return self.losses[-1] if self.losses else math.nan

    @property
    def total_seconds(self) -> float:
        return float(sum(self.seconds_per_epoch))

    @property
    def mean_seconds_per_epoch(self) -> float:
        n = len(self.seconds_per_epoch)
        return self.total_seconds / n if n else math.nan

    def summary(self) -> str:
        """One line: epochs, steps, final loss and seconds per epoch."""
        extra = "".join(f", {name} {values[-1]:.4g}" for name, values in self.metrics.items() if values)
        extra += f", val loss {self.val_losses[-1]:.6g}" if self.val_losses else ""
        extra += "".join(f", val {name} {values[-1]:.4g}" for name, values in self.val_metrics.items() if values)
        return (f"{len(self.seconds_per_epoch)} epochs, {self.steps} steps, final loss {self.final_loss:.6g}{extra}, "
                f"{self.mean_seconds_per_epoch:.4f} s/epoch")

    def __str__(self) -> str:
        return f"History({self.summary()})"


def _non_finite_parameters(model: Any) -> list:
    """'name (shape ...)' of each parameter of ``model`` holding nan or inf (models with named_parameters)."""
    named = getattr(model, "named_parameters", None)
    if not callable(named):
        return []
    return [f"'{name}' (shape {tuple(p.shape)})" for name, p in named() if not np.isfinite(p.detach().numpy()).all()]


def _watch(loss: Any, model: Any, **where) -> float:
    """check_finite, with the model's non-finite parameters (if any) named in the error."""
    try:
        return check_finite(loss, **where)
    except DivergenceError as err:
        bad = _non_finite_parameters(model)
        if not bad:
            raise
        raise DivergenceError(f"{err} Non-finite parameters: {', '.join(bad)}.", step=err.step, epoch=err.epoch,
                              lr=err.lr, loss=err.loss, parameter=bad[0]) from None


def _check_parameters(model: Any, step: int, epoch: int, lr: Optional[float]) -> None:
    """Raise DivergenceError when the last updates left a parameter non-finite (no loss shows it yet)."""
    bad = _non_finite_parameters(model)
    if bad:
        rate = f", lr={lr:g}" if lr is not None else ""
        smaller = f"e.g. lr={lr / 10:g}" if lr is not None else "e.g. ten times smaller"
        raise DivergenceError(
            f"parameter {bad[0]} became non-finite by step {step} (epoch {epoch}{rate}): gradient descent diverged"
            f"{' (also ' + ', '.join(bad[1:]) + ')' if bad[1:] else ''}. Try a smaller learning rate ({smaller}) "
            "or standardise the features (zero mean, unit variance).", step=step, epoch=epoch, lr=lr,
            parameter=bad[0])


def _learning_rate(optimizer: Any) -> Optional[float]:
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        lr = groups[0].get("lr") if isinstance(groups[0], dict) else None
        return float(lr) if isinstance(lr, (int, float)) else None
    lr = getattr(optimizer, "lr", None)
    return float(lr) if isinstance(lr, (int, float)) else None


def _reduce(loss: Tensor) -> Tensor:
    # Losses such as the chapter's squared_loss return one value per sample; train on their mean.
    return loss if loss.numel() == 1 else loss.mean()


def _batch(batch: Any) -> tuple:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(f"fit: each batch must be an (inputs, targets) pair, got {type(batch).__name__}"
                        + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""))
    return batch[0], batch[1]


def evaluate_loss(model: Callable, loss_fn: Callable, data: Any) -> float:
    """Mean loss of ``model`` over ``data`` without recording a graph.

    ``data`` is an (inputs, targets) pair of tensors, or an iterable of such batches (a DataLoader);
    batch means are weighted by batch size so the result is the mean over all samples.
    """
    with no_grad():
        if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], Tensor):
            return _as_float(_reduce(loss_fn(model(data[0]), data[1])))
        total, count = 0.0, 0
        for batch in data:
            X, y = _batch(batch)
            n = int(X.shape[0]) if X.dim() > 0 else 1
            total += _as_float(_reduce(loss_fn(model(X), y))) * n
            count += n
    if count == 0:
        raise ValueError("evaluate_loss: the data is empty")
    return total / count


def _full_data(loader: Any) -> Any:
    # The whole training set as one (X, y) pair when the loader wraps a TensorDataset, else the loader.
    tensors = getattr(getattr(loader, "dataset", None), "tensors", None)
    if isinstance(tensors, (tuple, list)) and len(tensors) == 2:
        return tuple(tensors)
    return loader


def _progress_bar(progress: Optional[bool], total: Optional[int]):
    if progress is False:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        if progress:
            raise ImportError("fit(progress=True) needs tqdm: pip install tqdm (or pass progress=False)") from None
        return None
    if progress is None and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return None
    return tqdm(total=total, unit="step", leave=False, file=sys.stderr)


def fit(model: Callable, loss_fn: Callable, optimizer: Any, loader: Any, epochs: int, *,
        eval_every: Optional[int] = None, eval_data: Any = None, progress: Optional[bool] = None,
        callback: Optional[Callable[[History], None]] = None, label: Optional[str] = None,
        check_lr: Any = False, track_sharpness: Optional[int] = None,
        scheduler: Any = None, checkpoint: Any = None, checkpoint_every: Any = "epoch",
        resume: bool = False, metrics: Optional[dict] = None, val_data: Any = None) -> History:
    """Train ``model`` for ``epochs`` passes over ``loader``; return a History.

    Each step: ``optimizer.zero_grad()``; ``loss = loss_fn(model(X), y)`` (its mean when it has one value per
    sample); ``loss.backward()``; ``optimizer.step()``. ``loader`` yields (X, y) batches of shapes (B, ...) and is
    iterated once per epoch (a DataLoader, or a list of pairs).

    Without ``eval_every`` the curve is the mean training loss per epoch, at x = 1, 2, ..., epochs.
    With ``eval_every=k`` the loss on the full data (``eval_data`` as an (X, y) pair or batches; by default the
    loader's TensorDataset, else the loader) is recorded before training (x = 0) and every k steps, at
    fractional epochs x = steps / len(loader), as the chapter's train_ch11 does.

    ``progress``: a tqdm bar when None and stderr is a terminal; True forces it, False disables it.
    ``callback(history)`` runs after every epoch. A nan/inf loss raises DivergenceError naming the step,
    epoch and learning rate (and the model's non-finite parameters, when it has ``named_parameters``); so
    does a parameter left nan/inf at the end of an epoch. ``model.train()`` is called first when the model has it.

    ``check_lr=True`` runs ``suggest_lr`` on the first batch before the first update and warns
    (UnstableLearningRateWarning) when the SGD learning rate is above the stability bound 2 / lambda_max (its
    momentum form with momentum); ``check_lr="error"`` raises ValueError instead. ``track_sharpness=N`` records
    lambda_max on the first batch before training and every N steps (``history.sharpness``; see
    gdcore.curvature.training), without changing the run.

    ``scheduler``: an lr scheduler (gdcore.optim.lr_scheduler), stepped once at the end of every epoch.
    ``checkpoint=PATH`` writes a checkpoint (gdcore.checkpoint: model, optimizer, scheduler, every random
    generator, the position and the History, atomically with gdcore.save) at the end of every epoch, or every
    ``checkpoint_every=N`` steps (and at the end); ``resume=True`` continues from it, so a run killed at any
    point and resumed ends with the same weights, bit for bit, as one never interrupted. With a checkpoint,
    Ctrl-C finishes the current step, writes a checkpoint, prints where, and raises KeyboardInterrupt.

    ``metrics={"accuracy": gdcore.metrics.accuracy, ...}`` records each ``fn(output, y)`` per epoch
    (sample-weighted over the epoch's batches) in ``history.metrics[name]``; ``val_data`` (an (X, y) pair or
    batches) adds the validation loss and metrics after each epoch (``history.val_losses``,
    ``history.val_metrics``; the model in eval mode meanwhile). See gdcore.train_metrics.
    """
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive integer, got {epochs!r}")
    if eval_every is not None and (not isinstance(eval_every, int) or eval_every < 1):
        raise ValueError(f"fit: eval_every must be a positive integer number of steps, got {eval_every!r}")
    for name in ("zero_grad", "step"):
        if not callable(getattr(optimizer, name, None)):
            raise TypeError(f"fit: the optimizer must have a {name}() method, got {type(optimizer).__name__}")
    try:
        steps_per_epoch = len(loader)
    except TypeError:
        steps_per_epoch = None
    if steps_per_epoch == 0:
        raise ValueError("fit: the loader yields no batches (is the dataset empty, or drop_last with a batch "
                         "size larger than the dataset?)")
    if eval_every is not None and steps_per_epoch is None:
        raise TypeError("fit: eval_every needs a loader with a length (len(loader)) to place points in epochs")

    if not isinstance(resume, bool):
        raise TypeError(f"fit: resume must be True or False, got {resume!r}")
    if resume and checkpoint is None:
        raise ValueError("fit: resume=True needs checkpoint=PATH, the file to resume from")
    if scheduler is not None and not callable(getattr(scheduler, "step", None)):
        raise TypeError(f"fit: the scheduler must have a step() method, got {type(scheduler).__name__}")
    keeper = (TrainingCheckpoint(checkpoint, checkpoint_every, model, optimizer, scheduler, loader)
              if checkpoint is not None else None)

    history = History(label=label)
    position = keeper.resume(history) if resume else None
    from .curvature.training import FitCurvature  # (gdcore.curvature loads on first use, not with gdcore)

    curvature = FitCurvature.make(check_lr, track_sharpness, model, loss_fn, optimizer, history)
    tracker = EpochMetrics.make(metrics, val_data, model, loss_fn, history)
    full = eval_data if eval_data is not None else _full_data(loader)
    if hasattr(model, "train") and callable(model.train):
        model.train()
    if eval_every is not None and position is None:
        history.epochs.append(0.0)
        history.losses.append(check_finite(evaluate_loss(model, loss_fn, full), step=0, lr=_learning_rate(optimizer)))

    first_epoch = position["epoch"] if position else 1
    bar = _progress_bar(progress, epochs * steps_per_epoch if steps_per_epoch else None)
    if keeper is not None:
        keeper.__enter__()  # Ctrl-C now means: finish the step, write a checkpoint, stop
    try:
        for epoch in range(first_epoch, epochs + 1):
            resumed = position if position is not None and epoch == first_epoch else None
            started, eval_seconds = time.perf_counter(), 0.0
            total, count = (resumed["total"], resumed["count"]) if resumed else (0.0, 0)
            done = resumed["batches_done"] if resumed else 0
            before = resumed["epoch_seconds"] if resumed else 0.0
            batches = keeper.batches(loader, epoch) if keeper is not None else iter(loader)
            for batch in batches:
                X, y = _batch(batch)
                if curvature is not None:
                    curvature.before_step(X, y)
                optimizer.zero_grad()
                output = model(X)
                loss = _reduce(loss_fn(output, y))
                if tracker is not None:
                    tracker.on_batch(output, y, X)
                history.steps += 1
                value = _watch(loss, model, step=history.steps, epoch=epoch, lr=_learning_rate(optimizer))
                loss.backward()
                optimizer.step()
                if curvature is not None:
                    curvature.after_step(history.steps)
                n = int(X.shape[0]) if X.dim() > 0 else 1
                total, count, done = total + value * n, count + n, done + 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(epoch=epoch, loss=f"{value:.4g}", refresh=False)
                if eval_every is not None and history.steps % eval_every == 0:
                    t0 = time.perf_counter()
                    history.epochs.append(history.steps / steps_per_epoch)
                    history.losses.append(check_finite(evaluate_loss(model, loss_fn, full), step=history.steps,
                                                       epoch=epoch, lr=_learning_rate(optimizer)))
                    eval_seconds += time.perf_counter() - t0
                if keeper is not None:
                    seconds = before + time.perf_counter() - started - eval_seconds
                    if keeper.due(history.steps):
                        keeper.write(history, epoch, done, total, count, seconds)
                    keeper.stop_if_interrupted(history, epoch, done, total, count, seconds)
            history.seconds_per_epoch.append(before + time.perf_counter() - started - eval_seconds)
            _check_parameters(model, history.steps, epoch, _learning_rate(optimizer))
            if count == 0:
                raise ValueError(f"fit: the loader yielded no batches in epoch {epoch}")
            history.train_losses.append(total / count)
            if tracker is not None:
                tracker.end_epoch()
            if eval_every is None:
                history.epochs.append(float(epoch))
                history.losses.append(total / count)
            if scheduler is not None:
                scheduler.step()
            if callback is not None:
                if bar is not None:
                    bar.clear()              # let the callback print on a clean line; the bar redraws below
                callback(history)
                if bar is not None:
                    bar.refresh()
            if keeper is not None and (keeper.every == "epoch" or epoch == epochs):
                keeper.write(history, epoch + 1, 0, 0.0, 0, 0.0)
    finally:
        if bar is not None:
            bar.close()
        if keeper is not None:
            keeper.__exit__(None, None, None)
    return history


def __getattr__(name: str):
    # gdcore.train.suggest_lr is gdcore.curvature's, which is loaded on first use rather than by `import gdcore`.
    if name == "suggest_lr":
        from .curvature.advisor import suggest_lr
        return suggest_lr
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
