"""Worker: rank 1 raises right after joining; the others wait in a barrier that would never end without the
excepthook that aborts the job."""
import time

import gdcore.distributed as dist

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    raise ValueError("deliberate failure on rank 1")
dist.barrier()
time.sleep(120)
