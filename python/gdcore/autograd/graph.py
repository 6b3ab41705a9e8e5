"""The computational graph behind a tensor, or behind a micrograd-style ``Value``, as
Graphviz DOT text, and rendered to SVG/PNG with Graphviz's ``dot`` when it is installed."""
from __future__ import annotations

import os
from typing import Union

from .._core import Tensor, Value


def _shape(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _escape(text: str) -> str:
    """Text safe inside a double-quoted DOT label."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _record_text(text: str) -> str:
    """Text safe inside a field of a DOT record label (braces, bars and angle brackets are fields and ports)."""
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


def _value_graph(root: Value, name: str) -> str:
    """micrograd's draw_dot as DOT text: a record { label | data | grad } per Value, an oval per op
    feeding the Value it made, edges from each Value in ``_prev`` to that op. Walked with a stack."""
    lines = ["digraph gdcore {", '  rankdir="LR";', '  node [fontname="Helvetica", fontsize=10];']
    ids: dict = {}
    keep_alive = [root]  # id() keys stay unique while the objects live
    stack, seen = [root], set()
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        uid = ids.setdefault(id(v), f"v{len(ids)}")
        label = v.label or (name if v is root else "")
        lines.append(f'  {uid} [label="{{ {_record_text(label)} | data {v.data:.4f} | grad {v.grad:.4f} }}", '
                     'shape=record];')
        op = v._op
        target = uid
        if op:
            target = uid + "_op"
            lines.append(f'  {target} [label="{_escape(op)}"];')
            lines.append(f"  {target} -> {uid};")
        for child in v._prev:
            keep_alive.append(child)
            cid = ids.setdefault(id(child), f"v{len(ids)}")
            lines.append(f"  {cid} -> {target};")
            stack.append(child)
    return "\n".join(dict.fromkeys(lines)) + "\n}"


def graph(t: Union[Tensor, Value], name: str = "output") -> str:
    """DOT text for the graph that produced ``t``: one box per op (with its output
    shape), one ellipse per leaf (with its ``name`` if set, and shape). Edges follow
    the data, from inputs to the op that used them.

    For a ``Value``, the drawing is micrograd's ``draw_dot``: a record with the label, data
    and grad of every Value (``name`` labels an unlabelled root), and an oval per op."""
    if isinstance(t, Value):
        return _value_graph(t, name)
    if not isinstance(t, Tensor):
        raise TypeError(f"graph: expected a Tensor or a Value, got {type(t).__name__}")
    lines = ["digraph gdcore {", '  rankdir="LR";', '  node [fontname="Helvetica", fontsize=10];']
    ids: dict = {}

    def node_id(key) -> str:
        if key not in ids:
            ids[key] = f"n{len(ids)}"
        return ids[key]

    out_id = node_id(("out", id(t)))
    lines.append(f'  {out_id} [label="{_escape(name)}\\n{_shape(t.shape)}", shape=doubleoctagon];')
    if t.grad_fn is None:
        return "\n".join(lines + ["}"])
    stack = [t.grad_fn]
    seen = set()
    lines.append(f"  {node_id(('fn', id(t.grad_fn)))} -> {out_id};")
    keep_alive = [t.grad_fn]  # id() keys stay unique while the objects live
    while stack:
        fn = stack.pop()
        fid = node_id(("fn", id(fn)))
        if fid in seen:
            continue
        seen.add(fid)
        lines.append(f'  {fid} [label="{fn.name()}\\n{_shape(fn.output_shape)}", shape=box, style=filled, fillcolor="#dde8f8"];')
        for nxt, _ in fn.next_functions:
            if nxt is None:
                continue
            keep_alive.append(nxt)
            if nxt.name() == "AccumulateGrad":
                leaf = nxt.variable
                if leaf is None:  # a leaf nobody holds any more (the graph keeps leaves weakly)
                    lid = node_id(("freed", id(nxt)))
                    label = "freed leaf\\n" + _shape(nxt.shape)
                else:
                    keep_alive.append(leaf)
                    lid = node_id(("leaf", leaf.data_ptr(), tuple(leaf.shape), leaf.name))
                    label = _escape(leaf.name or "leaf") + "\\n" + _shape(leaf.shape)
                lines.append(f'  {lid} [label="{label}", shape=ellipse, style=filled, fillcolor="#f8f0d0"];')
                lines.append(f"  {lid} -> {fid};")
            else:
                nid = node_id(("fn", id(nxt)))
                lines.append(f"  {nid} -> {fid};")
                stack.append(nxt)
    # Deduplicate repeated node/edge lines while keeping order.
    return "\n".join(dict.fromkeys(lines)) + "\n}"


def render_graph(t: Union[Tensor, Value], path: str, name: str = "output") -> str:
    """Writes the graph of ``t`` (a Tensor or a Value) to ``path`` (format from the suffix: .svg, .png or .pdf); returns the path."""
    import shutil  # (here, not at the top: subprocess is not worth loading for every `import gdcore`)
    import subprocess
    import tempfile

    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"render_graph: unsupported file type {fmt!r}; use a .svg, .png or .pdf path")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("render_graph needs Graphviz's `dot` program, which was not found on PATH; install "
                           "Graphviz (e.g. apt-get install graphviz) or use gdcore.autograd.graph(t) for DOT text")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, suffix="." + fmt)
    os.close(fd)
    try:
        proc = subprocess.run([dot, f"-T{fmt}", "-o", tmp], input=graph(t, name).encode(), capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"render_graph: dot failed: {proc.stderr.decode(errors='replace').strip()}")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
