"""Loading OpenBLAS (libscipy_openblas.so of the scipy-openblas32 package, used by the matrix products)
into the process before _core, which needs it and finds it by soname, so that _core carries no path into
site-packages.

The library is opened directly, with RTLD_GLOBAL as the package's own __init__ opens it, instead of
importing the package: its __init__ also reads the package's version through importlib.metadata, which
loads email, zipfile and more, for every ``import gdcore``. Where the layout is not the one expected
(lib/libscipy_openblas*.so), importing the package does the loading as before.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os

__all__ = ["load"]


def load() -> None:
    spec = importlib.util.find_spec("scipy_openblas32")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        lib_dir = os.path.join(folder, "lib")
        names = sorted(name for name in os.listdir(lib_dir)
                       if name.startswith("libscipy_openblas") and ".so" in name) if os.path.isdir(lib_dir) else []
        if names:
            ctypes.CDLL(os.path.join(lib_dir, names[0]), mode=ctypes.RTLD_GLOBAL)
            return
    import scipy_openblas32  # noqa: F401  (imported for its side effect: it loads the library)
