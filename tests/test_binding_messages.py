"""Every public callable of gdcore, gdcore.Tensor, gdcore.Value, gdcore.Generator, gdcore.nn.functional and the
optimizers, called with wrong-type arguments, answers with a message that names the function, an argument and
the type it wanted; pybind11's raw "incompatible function arguments" text never reaches the user. The callables
are enumerated at run time, so functions bound later are walked too.
"""
from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import gdcore
import gdcore.nn.functional as F
from gdcore import optim

BAD_VALUES = {
    "str": "a",
    "None": None,
    "list": [1.0, "x"],
    "dict": {"a": 1},
    "object": object(),
    "object array": np.array([1, "x"], dtype=object),
}
TYPE_WORDS = re.compile(r"Tensor|tensor|float|int|number|str|list|sequence|tuple|bool|dict|callable|Generator|"
                        r"dtype|iterable|path|Module|module|Value|None|array|size|shape", re.I)
# Callables that take no argument a value could be wrong for, or that accept any object by design.
ACCEPT_ANYTHING = {"is_tensor", "compile", "save"}


def _doc_parameters(f) -> list[tuple[str, bool]]:
    """(name, required) of a pybind11 function's parameters, read from its docstring signature."""
    first = (f.__doc__ or "").strip().splitlines()[0] if f.__doc__ else ""
    match = re.match(r"[\w.]*\((.*)\)\s*->", first)
    if not match:
        return []
    params, depth, current = [], 0, ""
    for ch in match.group(1) + ",":
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            params.append(current.strip())
            current = ""
        else:
            current += ch
    out = []
    for p in params:
        if p in ("*", "/", "") or p.startswith("**"):
            continue
        name = p.split(":")[0].split("=")[0].strip()
        if name == "self":
            continue
        out.append((name.lstrip("*"), "=" not in p and not name.startswith("*")))
    return out


def parameters(f) -> list[tuple[str, bool]]:
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return _doc_parameters(f)
    return [(p.name, p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
            for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD]


def _public(owner) -> list[tuple[str, object]]:
    found = []
    for name in sorted(dir(owner)):
        if name.startswith("_"):
            continue
        value = inspect.getattr_static(owner, name)
        if isinstance(value, (staticmethod, classmethod)):
            value = getattr(owner, name)
        if inspect.isroutine(value) or type(value).__name__ in ("instancemethod",):
            found.append((name, getattr(owner, name)))
    return found


def _module_functions(module) -> list[tuple[str, object]]:
    return [(name, f) for name, f in _public(module)
            if not inspect.isclass(f) and getattr(f, "__module__", "gdcore").startswith("gdcore")]


def _cases():
    cases = []
    for name, f in _module_functions(gdcore):
        cases.append((f"gdcore.{name}", name, f, None))
    for name, f in _module_functions(F):
        cases.append((f"gdcore.nn.functional.{name}", name, f, None))
    for owner in (gdcore.Tensor, gdcore.Value, gdcore.Generator):
        cases.append((f"{owner.__name__}()", owner.__name__, owner, None))
        for name, f in _public(owner):
            cases.append((f"{owner.__name__}.{name}", name, f, owner))
    for name in dir(optim):
        cls = getattr(optim, name)
        if inspect.isclass(cls) and issubclass(cls, optim.Optimizer) and cls is not optim.Optimizer:
            cases.append((f"optim.{name}", name, cls, None))
            for method in ("add_param_group", "load_state_dict", "step", "zero_grad"):
                cases.append((f"optim.{name}.{method}", method, getattr(cls, method), cls))
    # Callables without parameters have no argument to get wrong.
    return [c for c in cases if c[1] not in ACCEPT_ANYTHING and _params(c[2], c[3])]


def _params(f, owner) -> list[tuple[str, bool]]:
    params = parameters(f)
    if owner is not None and not inspect.isclass(f) and params and params[0][0] in ("self", "arg0"):
        params = params[1:]
    return params


def _instance(owner):
    if owner is gdcore.Tensor:
        return gdcore.ones(2, 2)
    if owner is gdcore.Value:
        return gdcore.Value(1.5)
    if owner is gdcore.Generator:
        return gdcore.Generator(1)
    return owner([gdcore.zeros(2, requires_grad=True)])  # an optimizer


CASES = _cases()


def test_the_walk_finds_the_callables():
    names = {c[0] for c in CASES}
    assert {"gdcore.mm", "Tensor.fill_", "Tensor.backward", "Generator.manual_seed", "gdcore.nn.functional.linear",
            "optim.SGD", "optim.Adam.load_state_dict", "gdcore.zeros_like"} <= names
    assert len(CASES) > 100


@pytest.mark.parametrize("label, name, f, owner", CASES, ids=[c[0] for c in CASES])
def test_wrong_types_get_a_message_naming_function_argument_and_type(label, name, f, owner):
    params = _params(f, owner)
    required = [p for p, needed in params if needed] or [params[0][0]]
    names = [p for p, _ in params]
    failures = []
    for kind, bad in BAD_VALUES.items():
        args = [bad] * len(required)
        try:
            if owner is not None and not inspect.isclass(f):
                getattr(_instance(owner), name)(*args)
            else:
                f(*args)
        except (TypeError, ValueError) as err:
            message = str(err)
            problems = []
            if "incompatible function arguments" in message or "incompatible constructor arguments" in message:
                problems.append("raw pybind11 text")
            # A method may be named through its class (optimizers say "SGD: ..."); a Tensor method by itself.
            named_by = [name] + ([owner.__name__] if owner is not None and owner is not gdcore.Tensor else [])
            if not any(n in message for n in named_by):
                problems.append("no function name")
            # An argument is named by its name, a plural ("sizes") or words ("parameter group"); *args of sizes pass.
            if isinstance(err, TypeError) and names != ["args"] and not any(
                    p in message or p.replace("_", " ") in message or len(p) < 3 for p in names):
                problems.append(f"no argument name of {names}")
            if isinstance(err, TypeError) and not TYPE_WORDS.search(message):
                problems.append("no wanted type")
            if problems:
                failures.append(f"{kind}: {', '.join(problems)}: {type(err).__name__}: {message[:300]}")
        except Exception as err:  # noqa: BLE001 - any other type must at least not be pybind11's raw text
            if "incompatible function arguments" in str(err):
                failures.append(f"{kind}: raw pybind11 text in {type(err).__name__}: {err}")
            elif isinstance(err, (AttributeError, KeyError, IndexError, AssertionError)):
                failures.append(f"{kind}: {type(err).__name__} leaked: {str(err)[:200]}")
    assert not failures, f"{label}:\n" + "\n".join(failures)


@pytest.mark.parametrize("attribute", ["grad", "data", "requires_grad", "name"])
def test_property_setters_name_the_property_and_the_type(attribute):
    t = gdcore.ones(2)
    for bad in BAD_VALUES.values():
        if attribute == "requires_grad" and bad is None:
            continue
        try:
            setattr(t, attribute, bad)
        except (TypeError, ValueError) as err:
            message = str(err)
            assert "incompatible" not in message
            assert f"Tensor.{attribute}" in message and TYPE_WORDS.search(message), message
