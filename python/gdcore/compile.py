"""gdcore.compile: capture a training step once, replay it in C++.

``step = gdcore.compile(fn)`` wraps a function that does one training step (forward, loss,
backward, optimizer step, zero_grad) on tensor arguments. The first call with a given
signature (the shapes, dtypes and requires_grad of the tensor arguments, the values of the
other arguments, and whether grad mode is on) runs ``fn`` eagerly while the core records
what it does: every op at the level ``fn`` calls it, each ``backward()``, each optimizer
group update, in-place updates, reads and writes of ``.grad``, and the tensors ``fn``
creates (zeros/ones/full/tensor(data), and rand/randn/normal from the default generator:
made again at each replay, drawing the same numbers as the eager steps would). Later calls
with that signature replay the recording in C++ on the new tensors, in one call with no
Python per op; the results are bit-identical to running ``fn`` eagerly. A new signature
records again (one recording per signature is cached).

What is frozen at capture: Python itself. Control flow (``if``/``for`` on Python values),
Python numbers (learning rates, hyperparameters) and which branch was taken all stay as
they were on the first call; only tensor values flow. Things that would silently go
wrong are refused instead: reading a tensor's value into Python inside the step (``.item()``,
``float(t)``, ``if t > 0``, ``.numpy()``) raises during the capture; so do ops the replay
cannot redo (in-place random fills, item assignment, random numbers from a ``generator=``
object, indexing with a tensor, comparisons, argmax). A replay raises when its inputs do not
match the capture (argument count, shapes, dtypes), when a parameter was replaced by
``p.data = ...`` since the capture, or when the step would take another path (a ``.grad``
that was None at capture is set at replay).

The first call of a signature is a real training step (it runs ``fn``); if the capture is
then refused, that step has still happened. A compiled step, like a model and its optimizer,
is for one thread at a time.

Optimizer options are frozen too, but checked: when a group's options (an lr scheduler
changing ``lr``) or parameters change after a capture, or ``load_state_dict`` replaced the
optimizer's groups and state, the next call captures again.

Not detected: rebinding a module attribute to a new tensor object (``model.weight =
Parameter(...)``) or switching the step to another optimizer object it reaches through a
global; the replay keeps using the tensors and optimizer it captured. Compile again after
such changes (``step.reset()``).

Cost: a recorded op takes about 0.7 KB of tape (its attributes and slot numbers; tensors are
referenced, never copied; ``python -m benchmarks.tape_memory`` measures it); a replay runs the
same C++ ops as the eager step, without Python.

Lowered replays: the first replay of a signature also records the loops it runs, and later
replays run only those loops on memory kept for the purpose (no tensors, graph or allocation
per op; cpp/src/autograd/lowered_step.hpp), with the same bit-identical results. Two things a
caller can see: the returned tensors are fresh copies without a graph, and ``p.grad`` after a
call is a buffer the next call reuses, unless you still hold it (that call then runs op by op,
so a gradient you kept is never changed). Steps that create tensors, use ops whose loops are
not recorded (cat, stack, indexing, random fills, ...), take arguments that require grad
or change their arguments in place keep replaying op by op.

Sizes that depend on the values: ``x[mask]``, ``masked_select``, ``nonzero`` (also as an index) and
``unique`` are replayed with each call's data, so a mask with another count gives another size, as
eagerly (an empty one too: ``mean`` gives nan, ``sum`` 0). Such steps replay op by op. Their results
may feed ops that recompute everything from their inputs (elementwise math, comparisons, ``where``,
reductions, ``cat``, indexing, losses, backward); an op that would replay at the captured size
(``reshape``, ``view``, ``squeeze``/``unsqueeze``, ``expand``) raises at capture with its name, and so
does reading such a size into Python (``len(x[mask])``, ``.shape``, ``.size()``, ``.numel()``,
iterating), which would freeze the number.

Custom autograd Functions (``gdcore.autograd.Function``) are recorded as one entry each: a
replay calls the Function again (its Python forward, and its Python backward inside the
replayed backward), so reading values into numpy inside a Function's forward is fine. Such
steps replay op by op; a replay raises if the Function's outputs change shape or dtype.
``step._captures[key].program.lowering`` says which; ``GDCORE_COMPILE_LOWER=0`` turns it off.

Steps that train a ``DistributedDataParallel`` model: its gradient all-reduce (and buffer broadcast) is a C++
collective step that the capture records, so every replay, lowered or not, and ``run_epoch`` (over a
``DistributedSampler``'s shard) averages the gradients where the eager step does, with the same bytes
(docs/scaling.md, "Compiled steps under DDP").
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Optional

from . import _core
from ._core import Generator, Tensor

__all__ = ["compile", "CompiledStep"]

_local = threading.local()


class _Recording:
    """What the Python side learns during one capture, besides the C++ program."""

    def __init__(self):
        self.step_counts = []  # (counts, state dicts) of Adam/Adagrad steps
        self.groups = []       # _GroupSnapshot of every group an optimizer stepped
        self.counted = []      # state dicts whose Python-only "step" counts each replay


def _track_step_counts(counts: "_core._StepCounts", states: list) -> None:
    """Called by optimizers whose update uses a step count (Adam, Adagrad) when their step is
    being captured: replays then read the counts from, and write them back to, ``states``
    (the optimizer's per-parameter state dicts), so eager and replayed steps can be mixed."""
    recording = getattr(_local, "recording", None)
    if recording is not None:
        recording.step_counts.append((counts, list(states)))


class _GroupSnapshot:
    """A param group as it was at capture: its optimizer, the optimizer's state dict, the
    group's position and a shallow copy of the group (options and the list of parameters).
    ``is_current`` is on the path of every replay, so it is one C-level dict comparison
    (list equality tests parameters by identity first, so no tensor is compared by value)."""

    __slots__ = ("optimizer", "state", "group", "index", "copy")

    def __init__(self, optimizer, group: dict):
        self.optimizer, self.state, self.group = optimizer, optimizer.state, group
        self.index = next(i for i, g in enumerate(optimizer.param_groups) if g is group)
        self.copy = dict(group)
        self.copy["params"] = list(group["params"])

    def is_current(self) -> bool:
        groups = self.optimizer.param_groups
        return (self.optimizer.state is self.state and len(groups) > self.index and groups[self.index] is self.group
                and self.group == self.copy)


def _track_group(optimizer, group: dict, counted_states: Optional[list] = None) -> None:
    """Called by every optimizer after updating a parameter group. While a step is captured,
    the group's options (lr, momentum, ...) and parameters are remembered: the replay uses
    them frozen, so a later change (an lr scheduler, add_param_group, load_state_dict, which
    replaces the groups and the state) makes the next call capture the step again instead of
    replaying stale options. ``counted_states``: state dicts whose ``"step"`` only Python
    counts (RMSprop, Adadelta); each replay adds one."""
    recording = getattr(_local, "recording", None)
    if recording is not None:
        recording.groups.append(_GroupSnapshot(optimizer, group))
        recording.counted.extend(counted_states or [])


class _Capture:
    """One recorded signature: the C++ program, how to rebuild the return value, and the
    optimizer step counts to keep in sync with the optimizers' Python state."""

    def __init__(self, program, structure, recording: _Recording):
        self.program = program
        self.structure = structure  # "none", "tensor" or ("tuple", n) / ("list", n)
        self.step_counts = recording.step_counts
        self.groups = recording.groups
        self.counted = recording.counted
        self._replays_before = 0

    def is_current(self) -> bool:
        """False when an optimizer's groups or state, or a group's options or parameters, changed since the capture."""
        for snapshot in self.groups:
            if not snapshot.is_current():
                return False
        return True

    def sync_in(self) -> None:
        """Before replays: the optimizers' current step counts go into the program."""
        for counts, states in self.step_counts:
            counts.steps = [s["step"] for s in states]
        self._replays_before = self.program.replays

    def sync_out(self) -> None:
        """After replays: the counts the replays reached go back into the optimizers' state."""
        for counts, states in self.step_counts:
            for s, n in zip(states, counts.steps):
                s["step"] = n
        done = self.program.replays - self._replays_before
        for s in self.counted:
            s["step"] += done

    def rebuild(self, outputs: list):
        if self.structure == "none":
            return None
        if self.structure == "tensor":
            return outputs[0]
        kind, _ = self.structure
        return tuple(outputs) if kind == "tuple" else list(outputs)

    def replay(self, tensors):
        if not (self.step_counts or self.counted):  # nothing to keep in sync (SGD, hand-written updates)
            return self.rebuild(self.program.replay(tensors))
        self.sync_in()
        try:
            outputs = self.program.replay(tensors)
        finally:
            self.sync_out()
        return self.rebuild(outputs)


def _flatten_result(result, name: str):
    """(list of tensors or None, structure) of what the step returned."""
    if result is None:
        return [], "none"
    if isinstance(result, Tensor):
        return [result], "tensor"
    if isinstance(result, (tuple, list)) and all(r is None or isinstance(r, Tensor) for r in result):
        return list(result), ("tuple" if isinstance(result, tuple) else "list", len(result))
    raise TypeError(f"gdcore.compile: {name} must return None, a Tensor or a tuple/list of Tensors, got "
                    f"{type(result).__name__}; numbers are frozen at capture, so return tensors and read them "
                    f"after the call")


class CompiledStep(_core._CompiledCall):
    """A training step captured per signature and replayed in C++ (see the module docstring).

    Call it like the function it wraps. ``run_epoch(loader)`` runs a whole epoch of a
    ``DataLoader`` over a ``TensorDataset`` in C++. ``reset()`` drops every capture.

    ``__call__`` is C++ (cpp/bindings/compiled_call.cpp): a call with tensor arguments whose
    signature was captured, whose optimizer groups are unchanged and whose capture keeps no
    Python state in sync (step counts) replays there without running Python; any other call
    goes to ``_call`` below.
    """

    def __init__(self, fn: Callable):
        super().__init__()
        if not callable(fn):
            raise TypeError(f"gdcore.compile: expected a function, got {type(fn).__name__}")
        self._fn = fn
        self._captures: dict = {}
        functools.update_wrapper(self, fn)

    @property
    def num_captures(self) -> int:
        """How many signatures have been captured."""
        return len(self._captures)

    def reset(self) -> None:
        """Forget every capture; the next call records again."""
        self._captures.clear()
        self._clear_fast()

    def _signature(self, args: tuple, kwargs: dict):
        if not kwargs:
            key = _core._tensor_signature(args)  # all-tensor calls: one C++ call
            if key is not None:
                return list(args), key
        tensors, key = [], []
        for position, value in list(enumerate(args)) + sorted(kwargs.items()):
            if isinstance(value, Tensor):
                tensors.append(value)
                key.append((position, "tensor", tuple(value.shape), value.dtype, value.requires_grad))
                continue
            if isinstance(value, (list, tuple, dict)) and any(isinstance(v, Tensor) for v in
                                                             (value.values() if isinstance(value, dict) else value)):
                raise TypeError(f"gdcore.compile: argument {position!r} is a {type(value).__name__} holding tensors; "
                                f"pass each tensor as its own argument so that it can change from call to call")
            try:
                hash(value)
            except TypeError:
                raise TypeError(f"gdcore.compile: argument {position!r} ({type(value).__name__}) is not hashable; "
                                f"non-tensor arguments are part of the signature and must be hashable "
                                f"(numbers, strings, tuples)") from None
            key.append((position, "value", type(value), value))
        key.append(("grad_enabled", _core.is_grad_enabled()))
        return tensors, tuple(key)

    def _call(self, *args, **kwargs):
        """A call the C++ ``__call__`` did not replay itself."""
        if not kwargs:  # a call with tensors only: one C++ call builds the key
            key = _core._tensor_signature(args)
            capture = self._captures.get(key) if key is not None else None
            if capture is not None and capture.is_current():
                return capture.replay(args)
        tensors, key = self._signature(args, kwargs)
        capture = self._captures.get(key)
        if capture is not None and capture.is_current():
            return capture.replay(tensors)
        return self._capture(key, tensors, args, kwargs)  # new signature, or optimizer options changed

    def _capture(self, key, tensors: list, args: tuple, kwargs: dict):
        name = getattr(self._fn, "__qualname__", repr(self._fn))
        if getattr(_local, "recording", None) is not None:
            raise RuntimeError("gdcore.compile: a compiled step cannot be called inside another step that is being "
                               "captured; call the inner function directly (uncompiled)")
        _core._capture_begin(tensors)
        _local.recording = recording = _Recording()
        try:
            result = self._fn(*args, **kwargs)
            outputs, structure = _flatten_result(result, name)
        except BaseException:
            _core._capture_abort()
            raise
        finally:
            _local.recording = None
        program = _core._capture_end(outputs)  # raises (and ends the capture) if it cannot be replayed
        self._captures[key] = capture = _Capture(program, structure, recording)
        if isinstance(key, bytes):  # an all-tensor signature: C++ replays it from the next call on
            fast = not (capture.step_counts or capture.counted)
            self._set_fast(key, program if fast else None, structure if isinstance(structure, str) else structure[0],
                           [(g.optimizer, g.state, g.group, g.copy, g.index) for g in capture.groups])
        return result

    def run_epoch(self, loader) -> Tensor:
        """One epoch of ``loader`` (a gdcore DataLoader over a TensorDataset, default collate):
        the same shuffled order and batches as ``for batch in loader: step(*batch)``, with the
        full batches gathered and replayed in C++. The step must return its loss (a one-element
        tensor) or a tuple whose first element is the loss. Returns the losses of all batches
        as a 1-d tensor of the loss dtype, in order.
        """
        from .data.dataloader import DataLoader
        from .data.dataset import TensorDataset
        if not isinstance(loader, DataLoader):
            raise TypeError(f"run_epoch: expected a gdcore.data.DataLoader, got {type(loader).__name__}")
        if loader.collate_fn is not None or type(loader.dataset).__getitem__ is not TensorDataset.__getitem__:
            raise ValueError("run_epoch: the DataLoader must read a TensorDataset with the default collate_fn "
                             "(batches gathered in C++); iterate over the loader and call the step instead")
        data = list(loader.dataset.tensors)
        size = loader.batch_size
        order = loader._order(len(loader.dataset))  # the same random draw as iterating over the loader
        n = order.numel()  # a sampler (DistributedSampler: this rank's shard) may visit fewer or more rows
        stop = n - n % size if loader.drop_last else n
        full_stop = stop - stop % size
        losses = []
        if full_stop > 0:
            first = _core.gather_rows(data, order[0:size])
            losses.append(self._loss_of(self(*first)))
            if full_stop > size:
                _, key = self._signature(tuple(first), {})
                capture = self._captures[key]
                capture.sync_in()
                try:  # the loss is output 0 (the tensor returned, or the first of a tuple)
                    losses.append(capture.program.run_batches(data, order, size, full_stop, size, 0))
                finally:
                    capture.sync_out()
        if stop > full_stop:
            last = _core.gather_rows(data, order[full_stop:stop])
            losses.append(self._loss_of(self(*last)))
        if not losses:
            raise ValueError(f"run_epoch: the loader yields no batch (dataset of {n} samples, batch_size {size}, "
                             f"drop_last={loader.drop_last})")
        return _core.cat(losses, 0)

    def epoch(self, *tensors: Tensor, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
              generator: Optional[Generator] = None) -> Tensor:
        """``run_epoch(DataLoader(TensorDataset(*tensors), batch_size, shuffle, drop_last, generator))``."""
        from .data.dataloader import DataLoader
        from .data.dataset import TensorDataset
        return self.run_epoch(DataLoader(TensorDataset(*tensors), batch_size=batch_size, shuffle=shuffle,
                                         drop_last=drop_last, generator=generator))

    @staticmethod
    def _loss_of(result: Any) -> Tensor:
        loss = result[0] if isinstance(result, (tuple, list)) and result else result
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            raise ValueError("run_epoch: the step must return its loss (a one-element tensor), or a tuple whose first "
                             f"element is the loss; got {type(loss).__name__}")
        return loss.detach().reshape(1)

    def __repr__(self) -> str:
        return f"gdcore.compile({getattr(self._fn, '__qualname__', self._fn)!s}, {len(self._captures)} captures)"


def compile(fn: Callable) -> CompiledStep:  # noqa: A001  (torch.compile's name)
    """Capture ``fn`` (one training step on tensor arguments) per signature and replay it in C++.

    >>> step = gdcore.compile(train_step)   # or @gdcore.compile
    >>> loss = step(X_batch, y_batch)        # first call: runs eagerly and records
    >>> loss = step(X_next, y_next)          # later calls: replay in C++, bit-identical

    See the module docstring of gdcore.compile for what is frozen at capture and what raises.
    """
    return CompiledStep(fn)
