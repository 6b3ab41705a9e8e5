"""A workload: one task timed once per implementation (gdcore and each installed anchor)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, TypeVar

# setup() builds the data and state outside the timing and returns the step to time.
Setup = Callable[[], Callable[[], object]]


@dataclass
class Workload:
    key: str                      # stable id for the JSON and the targets: "kernel.sgd"
    title: str                    # what one timed call does
    impls: Dict[str, Setup]       # "gdcore" first, then the anchors
    bytes_per_call: Optional[int] = None  # memory traffic of one call, for GB/s
    scale: Dict[str, float] = field(default_factory=dict)  # per impl: a sub-epoch's time scaled to the epoch
    notes: List[str] = field(default_factory=list)


R = TypeVar("R")  # a result row with .workload (a Workload) and .impl (a name)


def by_key(results: Sequence[R]) -> Dict[str, Dict[str, R]]:
    """Rows grouped by workload key, then by implementation, in the order they came."""
    out: Dict[str, Dict[str, R]] = {}
    for r in results:
        out.setdefault(r.workload.key, {})[r.impl] = r
    return out
