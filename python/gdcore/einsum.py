"""``gdcore.einsum``: Einstein summation as torch does it, any number of operands: the
contractions (``ij,jk->ik``, ``bij,bjk->bik``, ``i,i->``, ``ij,jk,kl->il``), ellipsis
(``...ij,...jk->...ik``: the ``...`` dims broadcast, right-aligned, and are summed when an
explicit output leaves them out), letters repeated within one operand (``ii->i`` the diagonal,
``ii->`` the trace, ``iij->ji``), and size-1 broadcasting (a letter of size 1 in one operand and
n in another). Each operand first takes its diagonals (index tensors, so differentiable), drops
its size-1 letters that others have at full size (it is constant along them: broadcasting) and
sums away the letters nobody else needs; operands are then contracted left to right, each pair
as one batched matrix product (permute, reshape, bmm), so the result is differentiable to any
order through those ops.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from . import _core
from ._core import Tensor

__all__ = ["einsum"]

# The ellipsis dims get private letters (never alphabetic, so they cannot clash with the user's):
# the one that is j dims from the right of every ellipsis is chr(_ELLIPSIS_BASE + j).
_ELLIPSIS_BASE = 0x2460


def _split(equation: str, n_operands: int) -> Tuple[List[str], str, bool]:
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->", 1)
        explicit = True
    else:
        lhs, out, explicit = eq, "", False
    terms = lhs.split(",")
    if len(terms) != n_operands:
        raise ValueError(f"einsum: the equation {equation!r} has {len(terms)} operand(s) but {n_operands} tensor(s) "
                         "were given")
    for k, s in enumerate(terms + ([out] if explicit else [])):
        what = f"operand {k}" if k < len(terms) else "the output"
        rest = s.replace("...", "", 1)
        if "." in rest:
            raise ValueError(f"einsum: found '.' for {what} that is not part of any ellipsis ('...') in {equation!r}; "
                             "at most one '...' per operand")
        if not all(c.isalpha() for c in rest):
            raise ValueError(f"einsum: subscripts must be letters (or one '...'), got {s!r} in {equation!r}")
    return terms, out, explicit


def _expand_ellipsis(term: str, ndim: int, k: int) -> str:
    """The operand's subscripts with '...' replaced by one private letter per dim it covers."""
    letters = term.replace("...", "")
    if "..." not in term:
        if len(letters) != ndim:
            raise ValueError(f"einsum: operand {k} has {ndim} dims but its subscripts {term!r} name {len(letters)}")
        return term
    n_ell = ndim - len(letters)
    if n_ell < 0:
        raise ValueError(f"einsum: operand {k} has {ndim} dims but its subscripts {term!r} name {len(letters)} "
                         "besides the '...'")
    ell = "".join(chr(_ELLIPSIS_BASE + j) for j in reversed(range(n_ell)))
    return term.replace("...", ell)


def _take_diagonals(t: Tensor, sub: str, k: int) -> Tuple[Tensor, str]:
    """Each letter repeated in `sub` becomes one dim: the diagonal over its dims (put first)."""
    for c in dict.fromkeys(sub):
        pos = [j for j, d in enumerate(sub) if d == c]
        if len(pos) < 2:
            continue
        n = t.shape[pos[0]]
        for j in pos[1:]:
            if t.shape[j] != n:
                shown = "..." if ord(c) >= _ELLIPSIS_BASE else c
                raise ValueError(f"einsum: subscript {shown} is repeated for operand {k} but the sizes don't match, "
                                 f"{t.shape[j]} != {n}")
        others = [j for j in range(len(sub)) if j not in pos]
        moved = t.permute(*pos, *others)
        ar = _core._arange(0.0, float(n), 1.0, _core.dtype.int64, False)
        t = moved[(ar,) * len(pos)]
        sub = c + "".join(sub[j] for j in others)
    return t, sub


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
    passed as one list. A letter's sizes must agree across operands, or be 1 (broadcast);
    ``...`` stands for the remaining dims (broadcast right-aligned); a letter repeated in one
    operand takes the diagonal. Without ``->`` the output is the ``...`` dims followed by the
    letters that appear once, in alphabetical order (torch's rule)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    for k, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum: operand {k} must be a gdcore.Tensor, got {type(t).__name__}")
    if not operands:
        raise ValueError("einsum: expects at least one operand")
    raw_terms, raw_out, explicit = _split(equation, len(operands))
    terms = [_expand_ellipsis(s, t.dim(), k) for k, (s, t) in enumerate(zip(raw_terms, operands))]
    n_ell = max(sum(1 for c in s if ord(c) >= _ELLIPSIS_BASE) for s in terms)
    ell = "".join(chr(_ELLIPSIS_BASE + j) for j in reversed(range(n_ell)))
    if explicit:
        if "..." not in raw_out and "." in raw_out.replace("...", ""):
            raise ValueError(f"einsum: found '.' in the output that is not part of an ellipsis in {equation!r}")
        out = raw_out.replace("...", ell)  # (no '...' in an explicit output: those dims are summed, as torch)
        if len(set(out)) != len(out):
            raise ValueError(f"einsum: output subscripts {raw_out!r} repeat a letter")
        for c in out:
            if not any(c in s for s in terms):
                raise ValueError(f"einsum: output letter {c!r} does not appear in any operand of {equation!r}")
    else:  # implicit output: the ellipsis dims, then the letters that appear once, in alphabetical order
        counts: Dict[str, int] = {}
        for s in raw_terms:
            for c in s.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1))

    ops: List[Tensor] = []
    subs: List[str] = []
    for k, (s, t) in enumerate(zip(terms, operands)):
        t, s = _take_diagonals(t, s, k)
        ops.append(t)
        subs.append(s)
    # Each letter's size: sizes must agree, except that 1 broadcasts against any size.
    size: Dict[str, int] = {}
    for k, (s, t) in enumerate(zip(subs, ops)):
        for c, n in zip(s, t.shape):
            seen = size.setdefault(c, n)
            if seen != n and 1 not in (seen, n):
                shown = "..." if ord(c) >= _ELLIPSIS_BASE else repr(c)
                raise ValueError(f"einsum: subscript {shown} has size {n} for operand {k} which does not broadcast "
                                 f"with the size {seen} seen before; sizes must agree or be 1")
            size[c] = max(seen, n)
    # A size-1 dim of a letter that is larger elsewhere: the operand is constant along it, so drop it.
    for k, (s, t) in enumerate(zip(subs, ops)):
        ones = [j for j, c in enumerate(s) if t.shape[j] == 1 and size[c] != 1]
        if ones:
            ops[k] = t.reshape(*[n for j, n in enumerate(t.shape) if j not in ones])
            subs[k] = "".join(c for j, c in enumerate(s) if j not in ones)

    # Letters needed after operand k: the output's and those of every later operand.
    acc, acc_sub = _sum_away(ops[0], subs[0], set(out).union(*[set(s) for s in subs[1:]]))
    for k in range(1, len(ops)):
        later = set(out).union(*[set(s) for s in subs[k + 1:]])
        b, sb = _sum_away(ops[k], subs[k], later | set(acc_sub))
        acc, acc_sub = _contract(acc, acc_sub, b, sb, later, size)
    if acc_sub != out:
        acc = acc.permute(*[acc_sub.index(c) for c in out]) if out else acc
    return acc
