"""Alias of gdcore.data under torch's path (torch.utils.data)."""
from ..data import *  # noqa: F401,F403
from ..data import __all__  # noqa: F401
