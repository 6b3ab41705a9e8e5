"""MNIST and Fashion-MNIST: 28 x 28 grey images of digits / clothing, 10 classes, as the four
gzip IDX files their publishers distribute (60 000 training and 10 000 test images).

``MNIST(root, train=True, download=False, transform=None, target_transform=None)`` follows
torchvision: the files are looked for in ``root/<Name>/raw/`` (torchvision's layout), then
``root/<Name>/`` and ``root/``; ``download=True`` fetches the missing ones into
``root/<Name>/raw/`` from ``mirror`` (``$GDCORE_MNIST_URL`` / ``$GDCORE_FASHION_MNIST_URL``
override it; tests point them at a local server), checking each file's SHA-256 and writing it
atomically, as ``load_airfoil`` does. The files are read by ``gdcore.data.idx``.
"""
from __future__ import annotations

import os
from typing import Callable, List, Optional, Tuple

import numpy as np

from ..creation import from_numpy
from .download import fetch_verified
from .dataset import Dataset
from .idx import read_idx

__all__ = ["MNIST", "FashionMNIST"]



class MNIST(Dataset):
    """The MNIST digits. ``data``: the images, a uint8 tensor (N, 28, 28) (as torchvision's);
    ``targets``: the labels, an int64 tensor (N,). ``dataset[i]`` is
    ``(image, label)``: the image as a float32 tensor (1, 28, 28) scaled to [0, 1] when
    ``to_float`` (the default; torchvision's ToTensor), else the uint8 tensor (28, 28); the label
    an int; then ``transform`` / ``target_transform`` if given. ``tensors()`` gives the whole set
    at once as (float32 (N, 1, 28, 28), int64 (N,)) for a fast TensorDataset.
    """

    mirror = "https://ossci-datasets.s3.amazonaws.com/mnist/"
    url_variable = "GDCORE_MNIST_URL"
    resources: List[Tuple[str, str]] = [
        ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train: bool = True, transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None, download: bool = False, to_float: bool = True):
        self.root = os.fspath(root)
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self.to_float = to_float
        name = type(self).__name__
        images_name, labels_name = (self.resources[0], self.resources[1]) if train else \
            (self.resources[2], self.resources[3])
        images = read_idx(self._find(images_name, download))
        labels = read_idx(self._find(labels_name, download))
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{name}: the images file holds {images.dtype} of shape {images.shape}; expected uint8 "
                             "images (N, rows, cols)")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(f"{name}: {labels.shape[0] if labels.ndim == 1 else labels.shape} labels for "
                             f"{images.shape[0]} images; the files do not match")
        self._images = images  # the numpy array behind data (shared memory), for the float conversions
        self.data = from_numpy(images)
        self.targets = from_numpy(labels.astype(np.int64))

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    def _find(self, resource: Tuple[str, str], download: bool) -> str:
        filename, sha256 = resource
        name = type(self).__name__
        places = [os.path.join(self.raw_folder, filename), os.path.join(self.root, name, filename),
                  os.path.join(self.root, filename)]
        for place in places:
            if os.path.isfile(place):
                return place
        if not download:
            raise FileNotFoundError(f"{name}: {filename} not found (looked in {', '.join(places)}); pass "
                                    f"download=True to fetch it, or root= the folder holding the four files")
        return self._download(filename, sha256)

    def _download(self, filename: str, sha256: str) -> str:
        """Fetch ``filename`` into raw_folder (atomically), keeping it only if its SHA-256 is ``sha256``."""
        name = type(self).__name__
        url = (os.environ.get(self.url_variable) or self.mirror).rstrip("/") + "/" + filename
        return fetch_verified(
            url, os.path.join(self.raw_folder, filename), "sha256", sha256,
            lambda actual: (
                f"{name}: the file downloaded from {url} has SHA-256 {actual}, expected {sha256}; it "
                f"was not saved. The server may have sent an error page or a different file: download {filename} "
                f"by hand into {self.raw_folder}, or set {self.url_variable} to another mirror."),
            lambda reason: (
                f"{name}: downloading {filename} from {url} failed: {reason}. Download it by hand "
                f"into {self.raw_folder}, or set {self.url_variable} to another mirror."))

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def __getitem__(self, index: int):
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}: index must be an int, got {type(index).__name__}")
        if not -len(self) <= index < len(self):
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for {len(self)} images")
        image = self.data[index]
        if self.to_float:
            image = from_numpy((self._images[index].astype(np.float32) / 255.0)[None])
        target = int(self.targets[int(index)].item())
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def tensors(self):
        """The whole set as (images float32 (N, 1, H, W) in [0, 1], labels int64 (N,)), without transforms."""
        return from_numpy(self._images.astype(np.float32)[:, None] / np.float32(255.0)), self.targets

    def __repr__(self) -> str:
        return f"{type(self).__name__}(split={'train' if self.train else 'test'}, {len(self)} images, root={self.root!r})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: the same format and API as MNIST, 10 kinds of clothing."""

    mirror = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
    url_variable = "GDCORE_FASHION_MNIST_URL"
    resources = [
        ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
        ("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
        ("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
        ("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
