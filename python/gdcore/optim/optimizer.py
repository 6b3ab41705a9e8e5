"""The Optimizer base class: parameter groups, per-parameter state, zero_grad and state dicts,
with torch.optim's semantics.

Subclasses (SGD, Adam, ...) set their default options, check a group's options in
``_check_group`` and implement ``step``, which gathers each group's parameters, gradients
and state buffers and updates the whole group in one call into C++. The Python side only
does bookkeeping; no per-element math happens here.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterable, Optional

from .._core import Tensor
from ..grad_mode import enable_grad
from .hyperparams import check_flag

__all__ = ["Optimizer"]


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of tensors to optimize, of ``(name, tensor)`` pairs (e.g.
            ``model.named_parameters()``; the names go to the group's ``"param_names"`` and into
            error messages), or of dicts that define parameter groups (each with a ``"params"``
            entry and any options that override ``defaults``).
        defaults: the default option values of every group. Every optimizer also takes
            ``check_finite`` (default False): stop with gdcore.train.DivergenceError, naming the
            step, parameter and learning rate, when a gradient or parameter becomes nan or inf
            (see gdcore.optim.watchdog).

    Attributes:
        param_groups: list of dicts, each with ``"params"`` (a list of tensors) and its options.
        state: per-parameter state (a dict of buffers and counters), keyed by the tensor.
        defaults: the default options.
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params must be an iterable of tensors or dicts, got a single tensor; "
                            f"wrap it in a list: {name}([p], ...)")
        if isinstance(params, dict):
            raise TypeError(f"{name}: params must be an iterable of tensors or of group dicts, got one dict; "
                            f"wrap the group in a list: {name}([group], ...)")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: params must be an ordered iterable (a list), not a set: the order of the "
                            f"parameters must be the same from run to run for state dicts to load correctly")
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list; pass the tensors to optimize "
                             f"(for example model.parameters())")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---- parameter groups -------------------------------------------------------------
    def _check_group(self, group: dict[str, Any]) -> None:
        """Raise if the options of ``group`` are invalid (subclasses check their own options)."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing options take the defaults).

        A tensor may belong to one group only; parameters must be float32/float64 leaf tensors.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group (param_group) must be a dict with a 'params' entry, "
                            f"got {type(param_group).__name__}; do not mix tensors and dicts in params")
        if "params" not in param_group:
            raise ValueError(f"{name}: parameter group {param_group!r} has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: the params of a group must be an ordered sequence (a list), not a set")
        else:
            params = list(params)
        names = None
        if params and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in params):
            names = [n for n, _ in params]  # from model.named_parameters(), as torch accepts
            params = [p for _, p in params]
        index = len(self.param_groups)
        seen: set[int] = set()
        for i, p in enumerate(params):
            where = f"{name}: parameter {i} of group {index}"
            if not isinstance(p, Tensor):
                raise TypeError(f"{where} is a {type(p).__name__}, not a Tensor; an optimizer only updates tensors")
            if not p.is_leaf:
                raise ValueError(f"{where} is not a leaf tensor (it was computed by {p.grad_fn.name()}); "
                                 f"optimize the tensors you created, or use x.detach().requires_grad_()")
            if not p.dtype.is_floating_point:
                raise TypeError(f"{where} has dtype {p.dtype}; only float32 and float64 tensors can be optimized")
            if not p.is_contiguous():
                raise ValueError(f"{where} is not contiguous (shape {tuple(p.shape)}, strides {p.stride()}); "
                                 f"optimizers update memory in place: use p.data = p.data.contiguous() first")
            if id(p) in seen:
                raise ValueError(f"{where} appears twice in the group; pass each tensor once")
            seen.add(id(p))
        for g, other in enumerate(self.param_groups):
            if any(id(p) in seen for p in other["params"]):
                raise ValueError(f"{name}: some parameters of the new group {index} are already in group {g}; "
                                 f"a tensor may belong to one parameter group only")
        group = {"params": params}
        for key, value in param_group.items():
            if key != "params":
                group[key] = value
        if names is not None:
            group["param_names"] = names
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group)
        if "check_finite" in group:
            check_flag(name, "check_finite", group["check_finite"])
        self.param_groups.append(group)

    # ---- gradients and steps -----------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (the default, as torch does), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:  # without reading .grad first: a step captured by gdcore.compile clears every one
                    p.grad = None
                    continue
                g = p.grad
                if g is None:
                    continue
                g.detach_()  # a gradient built with create_graph stops carrying history
                g.zero_()

    def step(self, closure: Optional[Callable[[], Any]] = None):
        """Update the parameters once from their ``.grad``; returns ``closure()`` when given."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    def _gather(self, group: dict[str, Any], init_state: Callable[[Tensor, dict], None]):
        """(params, grads, states) of the group's parameters that have a gradient, in order.

        ``init_state(p, state)`` fills in whatever the state lacks (all of it on the first step).
        """
        params, grads, states = [], [], []
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            state = self.state[p]
            init_state(p, state)
            params.append(p)
            grads.append(g)
            states.append(state)
        return params, grads, states

    @staticmethod
    def _evaluate(closure: Optional[Callable[[], Any]]):
        """Run the closure (which recomputes the loss and its gradients) with grad mode on."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ---- state dicts -------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as ``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``.

        Parameters are referred to by their position across all groups, as in torch. Unlike
        torch, the state tensors are copies, so the dict is a snapshot that later steps do not change.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                s = self.state.get(p)
                if s:
                    state[index[id(p)]] = {k: (v.clone() if isinstance(v, Tensor) else v) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state saved by ``state_dict()`` (group options and per-parameter state).

        The optimizer must have been built with the same number of groups and of parameters
        per group; tensors are copied and cast to their parameter's dtype.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups' "
                             f"(from optimizer.state_dict()), got {got}")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter groups but "
                             f"the optimizer has {len(self.param_groups)}; build the optimizer with the same groups")
        by_index: dict[int, Tensor] = {}
        for g, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            ids = list(saved.get("params", []))
            if len(ids) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {g} of the state dict has {len(ids)} "
                                 f"parameters but the optimizer's group {g} has {len(group['params'])}")
            for k, p in zip(ids, group["params"]):
                by_index[int(k)] = p
        new_state: defaultdict = defaultdict(dict)
        for key, saved in dict(state_dict["state"]).items():
            try:
                p = by_index[int(key)]
            except (KeyError, ValueError):
                raise ValueError(f"{name}.load_state_dict: the state refers to parameter {key!r}, which is not in "
                                 f"any parameter group of the state dict") from None
            new_state[p] = {k: self._restore_value(p, int(key), k, v) for k, v in dict(saved).items()}
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            restored = {"params": group["params"]}
            restored.update({k: v for k, v in saved.items() if k != "params"})
            for key, value in self.defaults.items():
                restored.setdefault(key, value)
            if isinstance(restored.get("betas"), list):
                restored["betas"] = tuple(restored["betas"])
            self._check_group(restored)
            new_groups.append(restored)
        self.param_groups = new_groups
        self.state = new_state

    def _restore_value(self, p: Tensor, index: int, key: str, value):
        """A copy of one saved state entry, fit for parameter ``p``."""
        if key == "step":
            return int(value.item() if isinstance(value, Tensor) else value)
        if type(value).__module__ == "numpy" and hasattr(value, "shape"):
            from ..creation import tensor
            value = tensor(value)
        if not isinstance(value, Tensor):
            return value
        if tuple(value.shape) != tuple(p.shape):
            raise ValueError(f"{type(self).__name__}.load_state_dict: state '{key}' of parameter {index} has shape "
                             f"{tuple(value.shape)} but the parameter has shape {tuple(p.shape)}")
        value = value.detach()
        return value.to(p.dtype).contiguous().clone() if value.dtype != p.dtype else value.clone()

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
