"""``gdcore train`` under ``gdcore launch``: the same training on every rank, each rank a share of every batch.

When the process was started by mpiexec with several ranks, ``train_table`` wraps its model in
DistributedDataParallel, gives each rank a DistributedSampler's share of the rows (``--batch-size`` stays the
global batch, split evenly over the ranks), averages the per-epoch loss over the ranks, and lets only rank 0
print, plot and save. With one process nothing here is used and mpi4py is never imported.
"""
from __future__ import annotations

from typing import Optional

from .. import data as gdata
from ..launch import launched_world_size


class DataParallel:
    """The distributed pieces of one ``gdcore train`` run."""

    def __init__(self, batch_size: int) -> None:
        from .. import distributed as dist
        if not dist.is_initialized():
            dist.init_process_group("mpi")
        self.dist = dist
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        if batch_size % self.world:
            raise ValueError(f"--batch-size {batch_size} does not split evenly over {self.world} ranks; choose a "
                             f"multiple of {self.world} (it is the global batch)")
        self.batch_size = batch_size // self.world
        self.sampler: Optional[gdata.DistributedSampler] = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def loader(self, dataset, seed: int) -> gdata.DataLoader:
        self.sampler = gdata.DistributedSampler(dataset, shuffle=True, seed=seed)
        return gdata.DataLoader(dataset, batch_size=self.batch_size, sampler=self.sampler)

    def wrap(self, net):
        from ..nn.parallel import DistributedDataParallel
        return DistributedDataParallel(net)

    def end_of_epoch(self, history) -> None:
        """Average the epoch's training loss over the ranks (every rank saw as many samples) and move the
        sampler to the next epoch's order."""
        import gdcore
        loss = gdcore.tensor([history.train_losses[-1]], dtype=gdcore.float64)
        self.dist.all_reduce(loss, op=self.dist.ReduceOp.AVG)
        history.train_losses[-1] = history.losses[-1] = loss.item()
        self.sampler.set_epoch(len(history.train_losses))


def data_parallel(batch_size: int) -> Optional[DataParallel]:
    """A DataParallel when launched on several ranks, else None."""
    return DataParallel(batch_size) if launched_world_size() > 1 else None
