"""torch.utils-style import paths, so that `from torch.utils.data import DataLoader`
ports as `from gdcore.utils.data import DataLoader`."""
from . import data
from . import dlpack

__all__ = ["data", "dlpack"]
