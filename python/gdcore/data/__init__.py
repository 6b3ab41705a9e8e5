"""gdcore.data: datasets, the DataLoader, and the data the chapter's workflows use.

Dataset / TensorDataset / DataLoader follow torch.utils.data; ``load_airfoil`` and
``airfoil_loader`` give the airfoil self-noise data (found locally or downloaded, with
its SHA-1 checked); ``load_csv`` reads a user's own numeric table; the functions of
``synthetic`` generate the small data sets of workflows (a)-(d); ``DistributedSampler`` gives each rank of
a data-parallel job its share of the indices.
"""
from .airfoil import AIRFOIL_SHA1, AIRFOIL_URL, ChecksumError, airfoil_loader, cache_dir, find_airfoil, load_airfoil
from .csv_table import load_csv
from .dataloader import DataLoader, default_collate
from .dataset import Dataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler
from .worker_info import WorkerInfo, get_worker_info
from .distributed_sampler import DistributedSampler
from .synthetic import doubling_points, noisy_identity_line, noisy_linear, twenty_points

__all__ = [
    "Dataset", "TensorDataset", "DataLoader", "default_collate", "load_airfoil", "airfoil_loader", "find_airfoil",
    "cache_dir", "ChecksumError", "AIRFOIL_URL", "AIRFOIL_SHA1", "load_csv", "twenty_points", "noisy_identity_line",
    "noisy_linear", "doubling_points",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler", "WorkerInfo",
    "get_worker_info", "DistributedSampler",
]

# Classification (issue 12): synthetic sets, the IDX reader, MNIST and Fashion-MNIST.
from .classification_sets import make_blobs, make_moons, make_spirals  # noqa: E402
from .idx import IDXError, read_idx, write_idx  # noqa: E402
from .mnist import MNIST, FashionMNIST  # noqa: E402
from .csv_labels import load_labelled_csv  # noqa: E402

__all__ += ["make_moons", "make_blobs", "make_spirals", "IDXError", "read_idx", "write_idx", "MNIST", "FashionMNIST",
            "load_labelled_csv"]

# Dataset tools of everyday torch code (issue 11's breadth round).
from .dataset import ChainDataset, ConcatDataset, IterableDataset, Subset, random_split  # noqa: E402
from .sampler import WeightedRandomSampler  # noqa: E402

__all__ += ["IterableDataset", "Subset", "ConcatDataset", "ChainDataset", "random_split", "WeightedRandomSampler"]
