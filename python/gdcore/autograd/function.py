"""Custom differentiable operations: ``gdcore.autograd.Function`` with torch's protocol.

A subclass defines ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` as
staticmethods (or ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``) and is
called as ``MyFn.apply(*args)``. ``forward`` runs without recording; the outputs then get one
graph node whose backward is the Python ``backward``: the C++ engine calls it from its loop,
taking the GIL for that call only (cpp/bindings/function.cpp). ``backward`` gets one gradient
per output and returns one per ``forward`` argument (None for non-tensors and for inputs that
need none); what it returns is checked, and a wrong count or shape raises naming the Function.

Lifetime: the node owns the ctx (and so what it saved), and the ctx never owns the node:
outputs it saves are kept detached and attached again only while backward runs. Saved tensors
are freed by a backward without ``retain_graph``, as the op table's saved tensors are.

While ``gdcore.compile`` captures a step, an application is recorded as one entry that calls
the Function again at each replay (its Python code runs every time; such steps replay op by
op, never lowered).
"""
from __future__ import annotations

import functools
import inspect
from typing import Any

from .. import _core
from .._core import Tensor
from ..grad_mode import no_grad

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they have "
          "already been freed): {name} freed its saved tensors after the first backward. Pass retain_graph=True to "
          "the first backward() or autograd.grad() call if you need to backward through the graph again")


def _describe(x: Any) -> str:
    if isinstance(x, Tensor):
        return f"a {str(x.dtype).replace('gdcore.', '')} Tensor of shape {tuple(x.shape)}"
    return "None" if x is None else f"a {type(x).__name__} ({x!r:.40})"


class FunctionCtx:
    """The ``ctx`` of a custom Function: what ``forward`` (or ``setup_context``) leaves for ``backward``.

    Any attribute may be set on it (``ctx.alpha = 2.0``); tensors go through
    ``save_for_backward`` so that they are checked for in-place changes and freed after backward.
    """

    def __init__(self):
        self._to_save: tuple = ()
        self._non_differentiable: tuple = ()
        self._dirty: tuple = ()
        self._materialize_grads = True
        self.needs_input_grad: tuple = ()

    def save_for_backward(self, *tensors) -> None:
        """Keeps tensors (or None) for ``backward``, which reads them back as ``ctx.saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors (or None), but argument {i} is "
                                f"{_describe(t)}; keep other values as attributes of ctx (ctx.name = value)")
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Outputs that get no gradient (indices, masks): they do not require grad, and backward gets None for them
        (zeros with ``set_materialize_grads(True)``, the default)."""
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors) -> None:
        """Inputs that ``forward`` changed in place and returns: they keep their identity and get the Function
        as their history."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """True (the default): backward gets zeros for outputs no gradient reached; False: it gets None."""
        self._materialize_grads = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, checked against in-place changes since."""
        saved = self.__dict__.get("_saved")
        if saved is None:
            if self.__dict__.get("_released"):
                raise RuntimeError(_FREED.format(name=self._name))
            return tuple(self._to_save)  # inside forward/setup_context, before apply took them over
        out = []
        node = self.__dict__.get("_node")
        for t, version, output_nr in saved:
            if t is None:
                out.append(None)
                continue
            if t._version != version:
                raise RuntimeError(
                    f"one of the tensors needed for gradient computation has been modified by an inplace operation: "
                    f"{_describe(t)} saved by {self._name} is at version {t._version}; expected version {version}. "
                    "Clone it before changing it in place, or make the change after backward()")
            if output_nr is not None and node is not None and _core.is_grad_enabled():
                t = _core._function_saved_output(node, output_nr, t)  # differentiable again (create_graph)
            out.append(t)
        return tuple(out)


class _Ctx(FunctionCtx):
    """The ctx apply() makes: also what the engine's call back needs (the Function, the arguments' types)."""

    def _engine_backward(self, node, grads: list, retain_graph: bool) -> list:
        """Called by the C++ engine with the GIL: one gradient (or None) per tensor output in (zeros already
        filled in unless set_materialize_grads(False)), one per tensor input out. The C++ side checks shapes."""
        kinds = self._outputs
        full = grads if kinds is None else [None if k is None else grads[k] for k in kinds]
        self._node = node
        try:
            result = self._cls.backward(self, *full)
        finally:
            self._node = None
            if not retain_graph:
                self._saved = None
                self._released = True
        return self._check(result)

    def _check(self, result) -> list:
        """The gradients for the tensor arguments, after checking their number and types."""
        name, types = self._name, self._arg_types
        returned = result if isinstance(result, tuple) else (result,)
        if len(returned) != len(types):
            if len(returned) > len(types) and all(r is None for r in returned[len(types):]):
                returned = returned[:len(types)]  # extra Nones are allowed, as in torch
            else:
                kinds = ", ".join("Tensor" if issubclass(t, Tensor) else t.__name__ for t in types)
                raise RuntimeError(
                    f"function {name} returned an incorrect number of gradients (expected {len(types)}, got "
                    f"{len(returned)}): backward returned ({', '.join(_describe(r) for r in returned)}) but forward "
                    f"took {len(types)} argument(s) ({kinds}); return one gradient per forward argument, None for "
                    "the non-tensor ones")
        grads = []
        for i, (g, t) in enumerate(zip(returned, types)):
            if not issubclass(t, Tensor):
                if g is not None:
                    raise RuntimeError(
                        f"function {name} returned a gradient different than None at position {i + 1}, but the "
                        f"corresponding forward input was not a Tensor (it was a {t.__name__}); return None for it")
            elif g is None or isinstance(g, Tensor):
                grads.append(g)
            else:
                raise TypeError(f"function {name} returned {_describe(g)} as the gradient at position {i + 1}; "
                                "expected a Tensor or None")
        return grads


class Function:
    """Base class of custom differentiable operations (torch.autograd.Function).

    >>> class Exp(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         y = x.exp()
    ...         ctx.save_for_backward(y)
    ...         return y
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (y,) = ctx.saved_tensors
    ...         return grad * y
    >>> y = Exp.apply(x)

    ``forward`` runs with grad mode off; its outputs (a Tensor, or a tuple of Tensors and other
    values) get this Function as their ``grad_fn``. ``backward`` runs inside ``backward()`` /
    ``autograd.grad``; written with differentiable ops it can be differentiated again
    (``create_graph=True``), unless it is decorated with ``once_differentiable``.
    """

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use "
                           f"new-style autograd function with static forward method: {type(self).__name__}.apply(...)")

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Runs ``forward`` on ``args`` and records the Function for backward; returns what forward returned."""
        setup_style = cls.setup_context is not Function.setup_context
        if kwargs:  # bound to forward's parameters, as torch does
            sig = inspect.signature(cls.forward)
            bound = sig.bind(*args, **kwargs) if setup_style else sig.bind(None, *args, **kwargs)
            bound.apply_defaults()
            args = bound.args if setup_style else bound.args[1:]
        ctx = _Ctx()
        ctx._cls = cls
        ctx._name = cls.__name__ + "Backward"
        grad_on = _core.is_grad_enabled()
        ctx.needs_input_grad = tuple(grad_on and isinstance(a, Tensor) and a.requires_grad for a in args)
        capturing = _core._capture_active()
        if capturing:  # the forward is one step of the compiled program: its own ops are not recorded
            result = _core._call_uncaptured(lambda: _forward(cls, ctx, args, setup_style))
        else:
            result = _forward(cls, ctx, args, setup_style)
        tensor_outputs, differentiable, returned = result
        inputs = [a for a in args if isinstance(a, Tensor)]
        replay = None
        if capturing:
            template = [None if isinstance(a, Tensor) else a for a in args]  # the tensors are not kept
            positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]

            def replay(tensors, template=template, positions=positions):
                call = list(template)
                for p, t in zip(positions, tensors):
                    call[p] = t
                out = cls.apply(*call)
                return [o for o in (out if isinstance(out, tuple) else (out,)) if isinstance(o, Tensor)]
        _core._function_record(ctx._name, ctx, inputs, tensor_outputs, differentiable, replay)
        return returned


def _forward(cls, ctx: _Ctx, args: tuple, setup_style: bool):
    """Runs forward (and setup_context) without recording and prepares the outputs for the graph node.
    (On the path of every apply: plain loops, few calls into the core.)"""
    grad_mode = _core.is_grad_enabled()
    _core._set_grad_enabled(False)
    try:
        if setup_style:
            out = cls.forward(*args)
            cls.setup_context(ctx, args, out)
        else:
            out = cls.forward(ctx, *args)
    finally:
        _core._set_grad_enabled(grad_mode)
    is_tuple = isinstance(out, tuple)
    outs = list(out) if is_tuple else [out]
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    dirty = {id(t) for t in ctx._dirty}
    for t in ctx._dirty:
        if id(t) not in input_ids:
            raise RuntimeError(f"{cls.__name__}: mark_dirty was given a tensor that is not an input of forward; "
                               "only inputs changed in place can be marked dirty")
        if t.is_leaf and t.requires_grad and grad_mode:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation "
                               f"({cls.__name__} marked it dirty); change a clone of it, or do it under no_grad()")
    non_diff = {id(t) for t in ctx._non_differentiable}
    tensor_outputs, differentiable, kinds, position = [], [], [], {}
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            kinds.append(None)
            continue
        key = id(o)
        if key in dirty and key not in position:
            pass  # an input changed in place keeps its identity and takes this Function as its history
        elif key in input_ids or key in position or o.requires_grad:
            outs[i] = o.detach()  # never change the history of a tensor the caller holds: a fresh alias gets it
        position.setdefault(key, len(tensor_outputs))
        kinds.append(len(tensor_outputs))
        tensor_outputs.append(outs[i])
        differentiable.append(key not in non_diff)  # (and floating point: checked by _function_record)
    ctx._outputs = None if len(tensor_outputs) == len(outs) else kinds  # None: output k is tensor output k
    ctx._arg_types = tuple(map(type, args))
    # Saved tensors with the version they have now; an output the Function saved is kept as a
    # detached alias (saving it as it is would make the ctx own its own node: a reference cycle).
    saved = []
    for t in ctx._to_save:
        if t is None:
            saved.append((None, 0, None))
            continue
        k = position.get(id(t))
        if k is not None and differentiable[k] and t.is_floating_point():
            saved.append((t.detach(), t._version, k))
        else:
            saved.append((t, t._version, None))
    ctx._saved = saved
    ctx._to_save = ()
    return tensor_outputs, differentiable, tuple(outs) if is_tuple else outs[0]


class _DelayedError(Function):
    """Passes tensors through; differentiating through it raises (how once_differentiable refuses a second order)."""

    @staticmethod
    def forward(ctx, message, *tensors):
        ctx.message = message
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(ctx.message)


def once_differentiable(fn):
    """Decorates a Function's ``backward`` that is not written with differentiable ops (numpy, in-place
    updates): it runs under no_grad, and differentiating its result again (create_graph) raises."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not _core.is_grad_enabled():  # no create_graph: nothing will differentiate the result
            return outputs
        # What the true gradient depends on: the incoming gradients and the saved tensors that require grad
        # (torch looks at the former only, so a second derivative through saved inputs would silently be 0).
        deps = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        deps += [t for t in ctx.saved_tensors if t is not None and t.requires_grad]
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        positions = [i for i, o in enumerate(outs) if isinstance(o, Tensor)]
        if not deps or not positions:
            return outputs
        # The results now hang on a node that refuses to be differentiated.
        wrapped = _DelayedError.apply(
            "trying to differentiate twice a function that was marked with @once_differentiable",
            *[outs[i] for i in positions], *deps)
        outs = list(outs)
        for j, i in enumerate(positions):
            outs[i] = wrapped[j]
        return tuple(outs) if is_tuple else outs[0]

    return wrapper
