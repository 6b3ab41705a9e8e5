"""The computational graph behind a tensor as Graphviz DOT text, and rendered to
SVG/PNG with Graphviz's ``dot`` when it is installed."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from .._core import Tensor


def _shape(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _escape(text: str) -> str:
    """Text safe inside a double-quoted DOT label."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def graph(t: Tensor, name: str = "output") -> str:
    """DOT text for the graph that produced ``t``: one box per op (with its output
    shape), one ellipse per leaf (with its ``name`` if set, and shape). Edges follow
    the data, from inputs to the op that used them."""
    if not isinstance(t, Tensor):
        raise TypeError(f"graph: expected a Tensor, got {type(t).__name__}")
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


def render_graph(t: Tensor, path: str, name: str = "output") -> str:
    """Writes the graph of ``t`` to ``path`` (format from the suffix: .svg, .png or .pdf); returns the path."""
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
