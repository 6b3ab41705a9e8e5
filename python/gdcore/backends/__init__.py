"""``gdcore.backends``: torch.backends' switches and queries, answered for a CPU-only library.

``backends.mps`` and ``backends.cudnn`` say their backend is not available; cudnn's flags
(``deterministic``, ``benchmark``, ``enabled``) can be set, as seeding helpers written for
torch do, and change nothing since nothing runs on cuDNN.
"""
from . import cudnn, mps

__all__ = ["mps", "cudnn"]
