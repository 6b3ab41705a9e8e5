"""gdcore.set_num_threads / get_num_threads (threads.py) and the one thread each DataLoader worker keeps,
as torch's workers call torch.set_num_threads(1): N workers must not each split their kernels and
matrix products over every core. The worker reports its counts from inside __getitem__.
"""
import pytest

import gdcore
from gdcore import _core
from gdcore.data import DataLoader, Dataset


class ThreadCounts(Dataset):
    """Sample i is (i, the gdcore kernel threads, the OpenBLAS threads) of the process that builds it."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return gdcore.tensor([i, gdcore.get_num_threads(), _core._blas_threads()])


@pytest.fixture
def two_threads():
    kernel, blas = _core._kernel_threads(), _core._blas_threads()
    gdcore.set_num_threads(2)
    yield
    _core._set_kernel_threads(kernel)
    _core._set_blas_threads(blas)


def test_each_worker_runs_on_one_thread_and_the_main_process_keeps_its_own(two_threads):
    rows = [row for batch in DataLoader(ThreadCounts(), batch_size=1, num_workers=2) for row in batch.tolist()]
    assert rows == [[i, 1, 1] for i in range(4)]
    assert (gdcore.get_num_threads(), _core._blas_threads()) == (2, 2)
    rows = [row for batch in DataLoader(ThreadCounts(), batch_size=1) for row in batch.tolist()]
    assert rows == [[i, 2, 2] for i in range(4)]     # num_workers=0: the main process's own counts


def test_set_num_threads_sets_both_pools_and_checks_its_argument(two_threads):
    gdcore.set_num_threads(1)
    assert (gdcore.get_num_threads(), _core._blas_threads()) == (1, 1)
    with pytest.raises(ValueError, match="set_num_threads\\(\\): the number of threads must be at least 1, got 0"):
        gdcore.set_num_threads(0)
    with pytest.raises(TypeError, match="set_num_threads\\(\\): argument 'n' must be an int, got float 2.0"):
        gdcore.set_num_threads(2.0)
    with pytest.raises(ValueError, match="BLAS threads must be at least 1, got 0"):
        _core._set_blas_threads(0)
