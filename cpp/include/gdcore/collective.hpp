// Collectives inside the core's programs: an in-place operation over the processes of a
// distributed job (DistributedDataParallel's gradient all-reduce, its buffer broadcast) that
// code above the core performs. The core never links MPI: it holds a Collective, a function
// on raw memory that the bindings build (a direct call into the MPI library whose address
// mpi4py's process already loaded, or a call into Python with the GIL held for that call only).
//
// collective_() runs it on a tensor's memory through trace::launch, like any loop that writes
// tensor values: an eager call runs it, gdcore.compile records it as one in-place entry of the
// captured program (replayed op by op), and a lowered replay keeps it as one step of its flat
// list of loops, on the same memory. So a compiled DistributedDataParallel step all-reduces
// exactly where the eager step does, with the same bytes.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "gdcore/tensor.hpp"

namespace gdcore {

struct Collective {
  std::string name;  // "all_reduce", "broadcast": for error messages and Program::describe
  // Runs in place on `count` elements of `dtype` at `data` on every process; throws on failure.
  // Called without the GIL; it must not touch tensors or autograd.
  std::function<void(void* data, int64_t count, DType dtype)> run;
  // Set when the communicator behind `run` is gone (destroy_process_group): running then raises,
  // also inside replays captured before, instead of calling MPI on a freed handle.
  std::shared_ptr<std::atomic<bool>> closed = std::make_shared<std::atomic<bool>>(false);
};

// Runs `collective` on `t`'s memory in place (t must be contiguous and writable), then, when
// `divisor` > 1, divides every element by it (an average; floating tensors only), and bumps
// t's version counter. While gdcore.compile captures, it is also recorded as an entry.
void collective_(const Tensor& t, const std::shared_ptr<const Collective>& collective, int64_t divisor);

}  // namespace gdcore
