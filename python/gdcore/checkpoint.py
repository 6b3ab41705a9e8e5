"""Checkpoints of a ``gdcore.train.fit`` run: what to save so that a run killed at any instant and resumed
ends with exactly the weights of a run that never stopped, and how to put it all back.

A checkpoint is one ``gdcore.save`` file (so it is written atomically: a kill or a full disk mid-write leaves
the previous checkpoint as it was) holding the model's and the optimizer's state dicts, the lr scheduler's,
the History so far, the position (epoch, batches done in it, the epoch's running loss sums) and two snapshots
of every random generator that decides what happens next: its state when the current epoch began (a shuffled
DataLoader draws the epoch's order from it then) and its state now (what Dropout and the like draw next).
Resuming mid-epoch rewinds the generators to the epoch's start, lets the loader draw the same order again,
skips the batches already done, then sets the generators to their saved "now" states.

The generators are gdcore's default generator, the loader's ``generator`` and every ``gdcore.Generator`` held
as an attribute by a module of the model (a Dropout with its own generator, say), named by module path.
Ctrl-C during ``fit`` with a checkpoint path is caught here too: the step in progress finishes, a checkpoint
is written, a line on stderr says where, and KeyboardInterrupt is raised so the caller's script stops.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import sys
import threading
from typing import Any, Iterator, Optional

from . import _core
from ._core import Generator
from .serialization import load, save

__all__ = ["TrainingCheckpoint", "checkpoint_generators"]

FORMAT = "gdcore.fit checkpoint"
FORMAT_VERSION = 1
_PARTS = {"model", "optimizer_type", "optimizer", "scheduler_type", "scheduler", "rng", "position", "history"}


def checkpoint_generators(model: Any, loader: Any) -> dict:
    """The generators a checkpoint of (model, loader) saves, by name: 'default' (gdcore's default generator),
    'loader' (``loader.generator`` when it is a gdcore.Generator) and 'model.<path>.<attribute>' for every
    gdcore.Generator a module of the model holds."""
    found = {"default": _core.default_generator()}
    if isinstance(getattr(loader, "generator", None), Generator):
        found["loader"] = loader.generator
    named = getattr(model, "named_modules", None)
    if callable(named):
        for path, module in named():
            for attribute, value in vars(module).items():
                if isinstance(value, Generator):
                    found[f"model.{path + '.' if path else ''}{attribute}"] = value
    return found


def _states(generators: dict) -> dict:
    return {name: gen.get_state() for name, gen in generators.items()}


def _set_states(generators: dict, states: dict) -> None:
    for name, gen in generators.items():
        state = states[name]
        # (a checkpoint written before get_state() returned a uint8 tensor holds the old 5-tuple)
        gen.set_state(tuple(state) if isinstance(state, list) else state)


def _check_every(every: Any) -> Any:
    if every == "epoch":
        return every
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f'fit: checkpoint_every must be "epoch" or a positive number of steps, got {every!r}')
    return every


class TrainingCheckpoint:
    """The checkpoint file of one ``fit`` call: writes it when due, reads it back on resume, and turns Ctrl-C
    into "checkpoint, then KeyboardInterrupt". ``fit`` drives it; see the module docstring for what it holds."""

    def __init__(self, path: Any, every: Any, model: Any, optimizer: Any, scheduler: Any, loader: Any) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"fit: checkpoint must be a file path (str or os.PathLike), got {type(path).__name__}")
        self.path = os.fspath(path)
        self.every = _check_every(every)
        for what, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
            if obj is not None and not (callable(getattr(obj, "state_dict", None))
                                        and callable(getattr(obj, "load_state_dict", None))):
                raise TypeError(f"fit(checkpoint=...): the {what} must have state_dict() and load_state_dict() to be "
                                f"checkpointed, got a {type(obj).__name__}")
        self.model, self.optimizer, self.scheduler, self.loader = model, optimizer, scheduler, loader
        self.generators = checkpoint_generators(model, loader)
        self.epoch_start_states: dict = {}
        self._pending: Optional[dict] = None  # the position to resume at, until the loader has been rewound
        self._interrupted = False
        self._previous_handler: Any = None

    # ---- resuming ---------------------------------------------------------------------------------------------
    def resume(self, history: Any) -> dict:
        """Load the checkpoint into the model, optimizer, scheduler and ``history``; return its position
        {'epoch', 'batches_done', 'total', 'count', 'epoch_seconds'}. Raises FileNotFoundError when there is no
        checkpoint and ValueError/RuntimeError naming what does not match."""
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"fit(resume=True): there is no checkpoint at {self.path!r}; pass resume=False "
                                    "to start a new run (it writes the checkpoint there)")
        state = load(self.path)
        where = f"fit(resume=True): the checkpoint {self.path!r}"
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ValueError(f"{where} is a gdcore save file but not a checkpoint written by fit")
        if state.get("version") != FORMAT_VERSION:
            raise ValueError(f"{where} has checkpoint version {state.get('version')}, this gdcore reads "
                             f"{FORMAT_VERSION}")
        missing = sorted(_PARTS - set(state))
        if missing or not isinstance(state["rng"], dict) or not {"epoch_start", "now"} <= set(state["rng"]):
            raise ValueError(f"{where} is incomplete (missing {missing or ['rng states']}); it was not written by "
                             "this version of fit, or was edited")
        self._check_kind(where, "optimizer", self.optimizer, state["optimizer_type"])
        self._check_kind(where, "scheduler", self.scheduler, state["scheduler_type"])
        missing = sorted(set(self.generators) - set(state["rng"]["now"]))
        if missing:
            raise ValueError(f"{where} has no state for the random generator(s) {missing}; it was written for a "
                             "different model or loader (one without those generators)")
        self._load_all(where, state)
        for name, value in state["history"].items():
            if name in {f.name for f in dataclasses.fields(history)}:
                setattr(history, name, value)
        position = dict(state["position"])
        position["epoch_start"] = state["rng"]["epoch_start"]
        position["now"] = state["rng"]["now"]
        self._pending = position
        return position

    @staticmethod
    def _check_kind(where: str, what: str, obj: Any, saved: Optional[str]) -> None:
        kind = None if obj is None else type(obj).__name__
        if kind != saved:
            raise ValueError(f"{where} was written with {what} {saved} but fit got {kind}; resume with the same "
                             f"kind of {what} (and settings) as the interrupted run")

    def _load_all(self, where: str, state: dict) -> None:
        """Model, optimizer and scheduler states, all or none: a mismatch leaves the model as it was."""
        backup = {k: v.clone() for k, v in self.model.state_dict().items()}
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None:
                self.scheduler.load_state_dict(state["scheduler"])
        except (RuntimeError, ValueError, KeyError, TypeError) as err:
            self.model.load_state_dict(backup)
            raise type(err)(f"{where} does not match this run: {err}") from err

    def batches(self, loader: Any, epoch: int) -> Iterator:
        """An iterator over this epoch's batches: a fresh one (remembering the generators' states at the
        epoch's start), or, right after resume(), one rewound to where the checkpoint was written."""
        position, self._pending = self._pending, None
        if position is None:
            self.epoch_start_states = _states(self.generators)
            return iter(loader)
        self.epoch_start_states = {name: position["epoch_start"][name] for name in self.generators}
        _set_states(self.generators, self.epoch_start_states)
        batches = iter(loader)
        for done in range(position["batches_done"]):
            try:
                next(batches)  # the first draws the epoch's order, as in the interrupted run
            except StopIteration:
                raise ValueError(f"fit(resume=True): the checkpoint {self.path!r} was written after batch "
                                 f"{position['batches_done']} of epoch {epoch}, but the loader yields only {done} "
                                 "batches per epoch; resume with the same data and batch size") from None
        _set_states(self.generators, position["now"])
        return batches

    # ---- writing ----------------------------------------------------------------------------------------------
    def due(self, steps: int) -> bool:
        """Whether a checkpoint is due after update number ``steps`` (mid-epoch, every N steps)."""
        return self.every != "epoch" and steps % self.every == 0

    def write(self, history: Any, epoch: int, batches_done: int, total: float, count: int,
              epoch_seconds: float) -> None:
        """Write the checkpoint at this position (``epoch`` 1-based, ``batches_done`` of it). At an epoch's end
        pass the next epoch with batches_done=0: the generators' states now are that epoch's start."""
        now = _states(self.generators)
        start = now if batches_done == 0 else self.epoch_start_states
        state = {
            "format": FORMAT, "version": FORMAT_VERSION,
            "model": self.model.state_dict(),
            "optimizer_type": type(self.optimizer).__name__, "optimizer": self.optimizer.state_dict(),
            "scheduler_type": None if self.scheduler is None else type(self.scheduler).__name__,
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "rng": {"epoch_start": start, "now": now},
            "position": {"epoch": epoch, "batches_done": batches_done, "total": total, "count": count,
                         "epoch_seconds": epoch_seconds},
            "history": {f.name: getattr(history, f.name) for f in dataclasses.fields(history)},
        }
        try:
            save(state, self.path)
        except OSError as err:
            kept = ("the previous checkpoint there is intact" if os.path.exists(self.path)
                    else "no earlier checkpoint exists there")
            raise OSError(err.errno, f"fit: could not write the checkpoint {self.path!r} at epoch {epoch}, step "
                          f"{history.steps} ({err.strerror or err}; is the disk full?); {kept}") from err

    # ---- Ctrl-C -----------------------------------------------------------------------------------------------
    def __enter__(self) -> "TrainingCheckpoint":
        # Signal handlers can only be set from the main thread; elsewhere Ctrl-C behaves as usual.
        if threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self._interrupted:  # a second Ctrl-C: stop at once, without waiting for the step to end
            raise KeyboardInterrupt
        self._interrupted = True

    def stop_if_interrupted(self, history: Any, epoch: int, batches_done: int, total: float, count: int,
                            epoch_seconds: float) -> None:
        """After a step: when Ctrl-C was pressed, write a checkpoint, say where, and raise KeyboardInterrupt."""
        if not self._interrupted:
            return
        self.write(history, epoch, batches_done, total, count, epoch_seconds)
        print(f"fit: interrupted at epoch {epoch}, step {history.steps}; checkpoint saved to {self.path} "
              "(continue with fit(..., resume=True), or gdcore train --resume)", file=sys.stderr, flush=True)
        raise KeyboardInterrupt(f"fit interrupted; checkpoint saved to {self.path}")
