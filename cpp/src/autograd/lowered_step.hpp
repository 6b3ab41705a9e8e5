// The lowered form of a captured step: gdcore.compile's fast replay. At the first replay the
// program runs entry by entry under a kernel trace (gdcore/kernel_trace.hpp), so every loop
// that its ops, backward rules and the engine run is kept as a closure over raw pointers into
// memory the trace holds. Entries that must run live (optimizer steps, .grad reads, writes and
// checks, .data/detach aliases) become steps that call the entry itself on the lowered slots.
// Later replays copy the new inputs into the traced input buffers and run the steps: the same
// loops in the same order, so results are bit-identical to the eager step, without tensors,
// graph nodes, the engine or an allocation per op.
//
// The lowering is refused (the step keeps replaying op by op, which is always correct) when the
// trace met something a list of loops cannot repeat (see kernel_trace.hpp), or the step creates
// tensors, takes inputs that require grad, writes into its inputs, or assigns a tensor to .grad.
// A lowered replay hands the traced gradient buffers to .grad and overwrites them at the next
// replay, so a replay takes the lowered path only when nothing outside holds those buffers,
// every .grad that was None when the step was traced is None again, and every .grad the step
// used from before (zeroed in place, `w.grad.zero_()`, rather than set to None) is still the
// same tensor; otherwise that one replay goes op by op.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "gdcore/capture.hpp"
#include "gdcore/kernel_trace.hpp"

namespace gdcore::capture {

// What the lowering knows of each step beside its std::function: its direct form (fn null when it
// has none) and its role: a kernel (writes tensor memory only), a `.grad = None` of a leaf, or
// anything else that runs live (may read or set .grad: engine assignments, live entries).
struct StepInfo {
  enum class Role : unsigned char { Kernel, ClearGrad, Live };
  trace::DirectStep direct;
  Role role = Role::Kernel;
};

// Replaces each run of consecutive element loops in `steps` (`loops`: their indices there, in
// order, and descriptions) that may run chunk by chunk with one step (lowered_fusion.cpp);
// `info` (one per step) is kept in step with them (a fused chain of one-element loops gets a
// direct form). Returns how many loops now run fused; GDCORE_COMPILE_FUSE=0 turns this off.
size_t fuse_element_loops(std::vector<std::function<void()>>& steps, std::vector<StepInfo>& info,
                          const std::vector<std::pair<size_t, trace::ElementLoop>>& loops);

class LoweredStep {
 public:
  // Runs `p`'s replay entry by entry on `inputs` under a kernel trace and lowers it. Returns
  // the replay's outputs; `lowered` is set when the step could be lowered, else `why` says why.
  static std::vector<Tensor> trace_and_lower(Program& p, const std::vector<Tensor>& inputs,
                                             std::unique_ptr<LoweredStep>& lowered, std::string& why);

  // True when this replay may take the lowered path (nothing outside holds the gradient
  // buffers, and each .grad that was None at the trace is None now).
  bool can_run() const;
  // A lowered replay: copies `inputs` in, runs the steps, returns the outputs (fresh tensors).
  std::vector<Tensor> run(const Program& p, const std::vector<Tensor>& inputs);
  // True when a run may hold the caller's locks (the GIL): it calls nothing outside the core
  // (no collective) and its buffers (inputs and slots, how long a run takes, roughly) are at
  // most `max_bytes`.
  bool runs_quickly(size_t max_bytes) const { return !trace_.calls_out && traced_bytes_ <= max_bytes; }
  // For run_batches: the traced input buffers (rows are gathered straight into them), a run of
  // the steps alone, and the value of a one-element output slot.
  const std::vector<Tensor>& input_buffers() const { return input_buffers_; }
  void run_steps();
  const Tensor& output(const Program& p, size_t output) const;
  // True when batches of `batch_size` rows of each data tensor can be copied straight into the
  // input buffers (contiguous, same dtype and row shape); then run_rows may run an epoch.
  // (`data` must stay alive while run_rows is used.) The epoch loop is in lowered_epoch.cpp.
  bool prepare_rows(const std::vector<Tensor>& data, int64_t batch_size);
  // Raises std::out_of_range naming the first of order[0:count] that is not a row of every data tensor.
  void check_rows(const int64_t* order, int64_t count) const;
  // Runs the steps on `batches` batches of `batch_size` rows order[0], order[1], ... (checked by
  // check_rows), storing the one-element `loss` (a traced buffer) of batch b into losses[b].
  // can_run() must hold at the start: the steps leave what it looks at as they found it.
  template <typename L>
  void run_rows(const int64_t* order, int64_t batches, int64_t batch_size, const L* loss, L* losses);

  // True for entries that run live at every lowered replay (their own code, not their loops).
  static bool runs_live(const Program::Entry& e);
  // Runs a live entry now (trace paused) and appends a step that runs it again on the lowered slots.
  void run_live(Program::Entry& e, std::vector<Tensor>& slots, int64_t replay);
  // Keeps the program's slots at the end of the traced replay (the lowered steps use them).
  void keep_slots(const std::vector<Tensor>& slots) { slots_ = slots; }
  // How many elementwise loops of the step run fused with their neighbours.
  size_t fused_loops() const { return fused_loops_; }

 private:
  // How an output is handed back: a copy of a traced buffer, the tensor itself, or the argument.
  enum class OutputKind { Undefined, Copy, AsIs, Argument };
  struct Assignment {  // a .grad the lowered backward sets to a traced buffer
    std::shared_ptr<TensorImpl> leaf, grad;
    bool none_at_start = false;  // .grad was None when the step was traced: it must be again
    bool exposed = true;         // false when the hand-over to .grad was dropped (unread_assignments)
    long impl_refs = 0, storage_refs = 0;  // references the lowering itself holds
  };
  // Checks the trace and decides how outputs are handed back; returns why it cannot be lowered, or "".
  std::string finish(const Program& p, const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs);

  trace::KernelTrace trace_;
  std::vector<Tensor> slots_;
  std::vector<Tensor> input_buffers_;
  std::vector<Assignment> assignments_;
  struct KeptGrad {  // a .grad from before the trace that the steps use (read, or added into)
    std::shared_ptr<TensorImpl> leaf, grad;
    const void* data;  // the memory the steps write: the leaf must still have this .grad
  };
  std::vector<KeptGrad> kept_grads_;
  std::vector<std::pair<size_t, const Program::Entry*>> live_steps_;  // (index in the steps, entry)
  // The assignments (indices into assignments_) whose hand-over of a gradient buffer to .grad
  // can go: the step itself sets that .grad to None again before anything live reads it (the
  // loops read the buffer directly).
  std::vector<size_t> unread_assignments() const;
  // The version bumps of in-place changes (their indices added to `drop`) merged into
  // version_bumps_: each counter bumped by its count after the steps (bump_versions), once per
  // replay, or once per epoch by run_rows: versions are read only outside a lowered run, by
  // backward passes that saved the tensors (a run's backward is loops that read no versions).
  void merge_version_bumps(std::vector<size_t>& drop);
  void bump_versions(uint64_t runs) const {
    for (const auto& [counter, n] : version_bumps_) counter->fetch_add(n * runs);
  }
  std::vector<std::pair<std::shared_ptr<std::atomic<uint64_t>>, uint64_t>> version_bumps_;
  void erase_steps(std::vector<size_t> indices);  // indices into trace_.steps, made before any erase
  // The steps as the lowered runs call them (built by finish from trace_.steps and their StepInfo):
  // `program_` all of them, each a direct step or a call of its std::function; `steady_` the same
  // without the `.grad = None` steps when no step can set a .grad (then, after one batch of
  // run_rows has run them, they change nothing). Both are used only while the SIMD path is the one
  // the step was traced on (a direct step may hold a path's loop); otherwise the std::functions run.
  std::vector<trace::DirectStep> program_, steady_;
  int simd_path_ = -1;
  bool direct_path_ok() const;
  static void run_program(const std::vector<trace::DirectStep>& program) {
    for (const trace::DirectStep& s : program) s.fn(s);
  }
  void build_programs(const std::vector<StepInfo>& info);
  std::vector<OutputKind> output_kinds_;
  std::vector<int> output_argument_;  // for OutputKind::Argument: which input
  int64_t replay_ = 0;
  size_t fused_loops_ = 0;
  size_t traced_bytes_ = 0;

 public:
  struct RowCopy {  // one data tensor for run_rows
    const char* src;
    char* dst;
    int64_t rows;
    size_t row_bytes;
    void (*copy)(char* dst, const char* src, size_t bytes);  // fixed to row_bytes when it can be
  };
 private:
  std::vector<RowCopy> row_copies_;
  int64_t rows_ahead_ = 1;  // how many rows further on in the order run_rows prefetches
};

}  // namespace gdcore::capture
