"""``gdcore.einsum``: Einstein summation for the contractions people write (``ij,jk->ik``,
``bij,bjk->bik``, ``i,i->``, ``ij->ji``, ``ij,jk,kl->il``, ...), any number of operands.
Each operand first sums away the letters nobody else needs; operands are then contracted
left to right, each pair as one batched matrix product (permute, reshape, bmm), so the
result is differentiable to any order through those ops. Not supported, with a clear error:
ellipsis (``...``), a letter repeated within one operand (diagonals, traces) and broadcasting
of size-1 dims against other sizes.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

from . import _core
from ._core import Tensor

__all__ = ["einsum"]


def _parse(equation: str, n_operands: int):
    eq = equation.replace(" ", "")
    if "." in eq:
        raise ValueError(f"einsum: ellipsis ('...') is not supported by gdcore, got {equation!r}")
    if "->" in eq:
        lhs, out = eq.split("->", 1)
        explicit = True
    else:
        lhs, out, explicit = eq, "", False
    terms = lhs.split(",")
    if len(terms) != n_operands:
        raise ValueError(f"einsum: the equation {equation!r} has {len(terms)} operand(s) but {n_operands} tensor(s) "
                         "were given")
    for s in terms + [out]:
        if not all(c.isalpha() for c in s):
            raise ValueError(f"einsum: subscripts must be letters, got {s!r} in {equation!r}")
    for s in terms:
        if len(set(s)) != len(s):
            raise ValueError(f"einsum: the letter repeated in {s!r} (a diagonal or trace) is not supported by gdcore")
    if not explicit:  # implicit output: the letters that appear once, in alphabetical order
        counts: Dict[str, int] = {}
        for s in terms:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = "".join(sorted(c for c, k in counts.items() if k == 1))
    if len(set(out)) != len(out):
        raise ValueError(f"einsum: output subscripts {out!r} repeat a letter")
    for c in out:
        if not any(c in s for s in terms):
            raise ValueError(f"einsum: output letter {c!r} does not appear in any operand of {equation!r}")
    return terms, out


def _sum_away(t: Tensor, sub: str, keep: set):
    """Sums t over the letters of `sub` not in `keep`; returns (tensor, remaining letters)."""
    drop = [k for k, c in enumerate(sub) if c not in keep]
    if drop:
        t = t.sum(tuple(drop))
        sub = "".join(c for c in sub if c in keep)
    return t, sub


def _prod(sizes: List[int]) -> int:
    p = 1
    for s in sizes:
        p *= s
    return p


def _contract(a: Tensor, sa: str, b: Tensor, sb: str, keep: set, size: Dict[str, int]):
    """a (letters sa) and b (letters sb) -> their product with the letters of both summed
    unless in `keep`: batch letters (both, kept), a's and b's own letters, contracted letters."""
    batch = [c for c in sa if c in sb and c in keep]
    contracted = [c for c in sa if c in sb and c not in keep]
    a_only = [c for c in sa if c not in sb]
    b_only = [c for c in sb if c not in sa]
    pa = a.permute(*[sa.index(c) for c in batch + a_only + contracted]) if sa else a
    pb = b.permute(*[sb.index(c) for c in batch + contracted + b_only]) if sb else b
    nb, ni = _prod([size[c] for c in batch]), _prod([size[c] for c in a_only])
    nk, nj = _prod([size[c] for c in contracted]), _prod([size[c] for c in b_only])
    out = _core.bmm(pa.reshape(nb, ni, nk), pb.reshape(nb, nk, nj))
    letters = batch + a_only + b_only
    return out.reshape(*[size[c] for c in letters]) if letters else out.reshape(()), "".join(letters)


def einsum(equation: str, *operands: Tensor) -> Tensor:
    """Einstein summation: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``. Operands may also be
    passed as one list. Shapes of letters that appear more than once must agree exactly."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    for k, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum: operand {k} must be a gdcore.Tensor, got {type(t).__name__}")
    if not operands:
        raise ValueError("einsum: expects at least one operand")
    terms, out = _parse(equation, len(operands))
    size: Dict[str, int] = {}
    for k, (s, t) in enumerate(zip(terms, operands)):
        if len(s) != t.dim():
            raise ValueError(f"einsum: operand {k} has {t.dim()} dims but its subscripts {s!r} name {len(s)}")
        for c, n in zip(s, t.shape):
            if size.setdefault(c, n) != n:
                raise ValueError(f"einsum: letter {c!r} has size {size[c]} in one operand and {n} in operand {k}; "
                                 "gdcore's einsum does not broadcast, sizes must agree")
    # Letters needed after operand k: the output's and those of every later operand.
    acc, acc_sub = _sum_away(operands[0], terms[0], set(out).union(*[set(s) for s in terms[1:]]))
    for k in range(1, len(operands)):
        later = set(out).union(*[set(s) for s in terms[k + 1:]])
        b, sb = _sum_away(operands[k], terms[k], later | set(acc_sub))
        acc, acc_sub = _contract(acc, acc_sub, b, sb, later, size)
    if acc_sub != out:
        acc = acc.permute(*[acc_sub.index(c) for c in out]) if out else acc
    return acc
