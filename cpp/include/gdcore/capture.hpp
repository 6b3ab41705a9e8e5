// Capture and replay of a training step (gdcore.compile). While a capture is active on a
// thread, the core appends what user code does to a Program: every primitive op at the
// level the user called it (hooked in record()), one entry per backward() call (replayed
// by calling the engine, so gradients are bit-identical), optimizer group steps, in-place
// updates, reads and writes of .grad and .data/detach aliases. Tensors live in numbered
// slots: the step's arguments (rebound at each replay), values produced by entries, and
// constants (tensors that existed before the capture, such as parameters, whose values
// change in place between steps). Replay runs the entries in order in C++.
// Anything the capture cannot replay faithfully raises (at capture or at replay) instead
// of being frozen silently.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gdcore/autograd.hpp"

namespace gdcore::capture {

class Program;
class LoweredStep;

// True while a capture records on this thread (false while paused, e.g. inside backward).
bool is_capturing();

// Starts capturing on this thread; `inputs` become the input slots (rebound per replay).
void begin(const std::vector<Tensor>& inputs);
// Ends the capture: `outputs` are the tensors the step returns. Throws when something
// captured cannot be replayed (the message says what and why); the capture is over either way.
std::shared_ptr<Program> end(const std::vector<Tensor>& outputs);
// Ends a capture that failed (the step raised); a no-op when none is active.
void abort();

// Turns recording off within a scope (the engine, optimizer kernels, replays).
class PauseGuard {
 public:
  PauseGuard();
  ~PauseGuard();
  PauseGuard(const PauseGuard&) = delete;
  PauseGuard& operator=(const PauseGuard&) = delete;
};

// ---- hooks called by the core and the bindings (each a no-op when not capturing) ----

// From record(): appends `op` applied to `inputs` producing `output`. `node` is the graph
// node when one was built; otherwise a detached descriptor node is returned, for the op to
// fill its attributes into (it is never attached to `output`).
std::shared_ptr<Node> on_record(const OpDef& op, const std::vector<Tensor>& inputs, const Tensor& output,
                                std::shared_ptr<Node> node);
// Records a backward / autograd.grad call and runs it with recording paused.
std::vector<Tensor> backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                             bool retain_graph, bool create_graph, const std::vector<Tensor>& inputs,
                             bool allow_unused);
// A custom autograd.Function applied to `inputs` gave `outputs`; each replay calls `apply`
// (the Function's Python code) again on the replayed inputs, as one entry (custom_function.hpp).
// A core op recorded the same way (several outputs, loops that are not traced: linalg.svd) passes
// `not_lowered`, the reason its step replays op by op that Program::lowering() then gives.
void on_function(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
                 std::function<std::vector<Tensor>(const std::vector<Tensor>&)> apply,
                 const char* not_lowered = nullptr);
// An in-place op on operands[0]; `redo` repeats it on the replayed operands.
void on_inplace(const char* name, const std::vector<Tensor>& operands,
                std::function<void(const std::vector<Tensor>&)> redo);
// `t.grad` was read from Python and gave `grad` (undefined = None).
void on_grad_read(const Tensor& t, const Tensor& grad);
// `t.grad = grad` from Python (undefined = None).
void on_grad_write(const Tensor& t, const Tensor& grad);
// `out` is `src.data` (is_data) or `src.detach()`: an alias without history.
void on_alias(const Tensor& src, const Tensor& out, bool is_data);
// A tensor's values are being read into Python (item, numpy, bool, ...): refused while
// capturing, because the value would be frozen into the replay.
void on_host_read(const char* what, const Tensor& t);
// `t` was just created by `make` (zeros, ones, full, rand from the default generator, a copy of
// Python data); a replay calls `make` again, as the eager step would create it again.
void on_created(const Tensor& t, std::function<Tensor()> make);
// An operation gdcore.compile cannot replay (random fills, item assignment): refused while capturing.
void on_unsupported(const char* what);
// A tensor is being handed to Python: one that no captured entry produced is marked, so
// that using it later in the step raises (it came from an op the capture does not replay).
void on_returned(const Tensor& t);

// ---- steps whose sizes depend on the values (x[mask], masked_select, nonzero, unique) ----
// Such an op is recorded as one entry that runs it again at each replay, so every replay
// recomputes the sizes from its own data (op by op: a fixed list of loops cannot repeat it).
// Its outputs are "value-sized", and so is every op output computed from one (unless 0-d: the
// rank is fixed). Only ops whose replay recomputes everything from their inputs may read a
// value-sized tensor (elementwise math, comparisons, where, reductions, cat, advanced indexing,
// losses, ...; the list is in capture_forwards.cpp); the others (views that replay at a captured
// shape: reshape, view, squeeze, expand, basic indexing recorded by a C++ op) make the capture
// raise with the op's name. Python may not read such a tensor's size while capturing.

// True while capturing and `t` is value-sized.
bool is_value_sized(const Tensor& t);
// Runs `op(inputs)` (with recording paused while capturing) and returns its outputs; while
// capturing, records it as one entry named `name` that calls `op` again at each replay. Output k
// is value-sized unless `fixed_size[k]` (or it is 0-d); undefined outputs are allowed.
std::vector<Tensor> value_sized_op(const char* name, const std::vector<Tensor>& inputs,
                                   const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& op,
                                   const std::vector<bool>& fixed_size = {});
// Python reads the size of `t` (.shape, .size(), len(), .numel(), iteration): refused while
// capturing when `t` is value-sized, since the number would be frozen into every replay.
void on_size_read(const char* what, const Tensor& t);

// An optimizer step over one group. Runs `step(grads)` now; while capturing, also records it:
// each replay runs `step(current grads)` with recording paused, where each gradient that was
// params[i].grad at capture is read again from params[i].grad. State that changes from step to
// step (step counts, "buffer is new" flags) lives in the closure.
using OptimizerStep = std::function<void(const std::vector<Tensor>& grads)>;
// `lowerable`: every replay of the step runs the same loops with the same scalars (SGD; not
// Adam, whose bias corrections change with the step count), so a lowered replay may run its
// loops instead of the step itself (see lowered_step.hpp).
void optimizer_step(const char* name, const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                    const OptimizerStep& step, bool lowerable = false);

// Per-parameter step counts of a captured optimizer step (Adam, Adagrad): each replay adds
// one before updating. gdcore.compile's Python side copies the optimizer's counts in before
// a replay and back out after it, so eager and replayed steps can be mixed.
struct StepCounts {
  std::vector<int64_t> steps;
};

// A captured step. replay() binds `inputs` (same count, shapes and dtypes as at capture)
// and returns the output tensors; raises when a constant changed shape, dtype or memory.
class Program {
 public:
  std::vector<Tensor> replay(const std::vector<Tensor>& inputs);
  // replay() for a caller that must neither block nor hold things up for long (one holding
  // the Python GIL): replays only when the step is lowered, touches at most `max_bytes` of
  // traced memory (a step of a few microseconds), has no collective (nothing that calls MPI
  // or Python) and no other replay of this program is running; else returns false having done nothing, and
  // the caller lets go of what it holds and calls replay(). Raises as replay() does.
  bool try_quick_replay(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, size_t max_bytes);
  // One epoch over `data` (tensors with the same first dimension): for each full batch of
  // `batch_size` rows of `order[start:stop]`, gathers the rows (index_select) and replays;
  // returns output `loss_output` of every replay stacked into a 1-d tensor.
  Tensor run_batches(const std::vector<Tensor>& data, const Tensor& order, int64_t start, int64_t stop,
                     int64_t batch_size, size_t loss_output);
  size_t num_inputs() const { return input_shapes_.size(); }
  size_t num_outputs() const { return outputs_.size(); }
  size_t num_entries() const { return entries_.size(); }
  int64_t replays() const { return replays_; }
  std::string describe() const;  // one line per entry, for debugging and docs
  // "lowered", "not lowered yet" or why the step replays op by op (see lowered_step.hpp).
  std::string lowering() const;
  // How many elementwise loops of the lowered step run fused (lowered_fusion.cpp); 0 if not lowered.
  size_t fused_loops() const;
  Program();
  ~Program();

  // What an entry does; the lowering (lowered_step.cpp) treats each kind its own way.
  enum class Kind { Op, Backward, InPlace, GradRead, GradNoneCheck, GradWrite, Alias, Create, Optimizer, Function };
  struct Entry {
    Kind kind = Kind::Op;
    std::string what;
    std::vector<int> in, out;  // slot numbers; -1 = an undefined tensor
    bool side_effect = false;
    bool grad_mode = true;     // grad mode when it was captured (restored at replay)
    bool lowerable = true;     // optimizer steps: whether its loops may be lowered (see optimizer_step)
    std::string not_lowered;   // Function entries of core ops: why the step runs op by op (see on_function)
    std::function<void(std::vector<Tensor>& slots, int64_t replay)> run;
    // op entries, until the capture ends:
    const OpDef* op = nullptr;
    std::shared_ptr<Node> node;
    Shape out_shape;
    DType out_dtype = DType::Float32;
  };
  struct Constant {
    int slot;
    Shape shape;
    DType dtype;
    const void* data;
  };

 private:
  friend struct Recorder;
  friend void begin(const std::vector<Tensor>& inputs);
  friend std::shared_ptr<Program> end(const std::vector<Tensor>& outputs);
  std::vector<Tensor> slots_;
  std::vector<int> inputs_, outputs_;
  std::vector<Shape> input_shapes_;
  std::vector<DType> input_dtypes_;
  std::vector<Constant> constants_;
  std::vector<int> transient_;  // slots cleared after each replay (all but constants)
  std::mutex mutex_;            // replays run without the GIL: one at a time per program
  std::vector<Entry> entries_;
  int64_t replays_ = 0;
  // The lowered form, tried at the first replay (lowered_step.hpp); null until then or when refused.
  std::unique_ptr<LoweredStep> lowered_;
  bool lowering_tried_ = false;
  std::string lowering_refused_;  // why the step cannot be lowered (empty when it is, or not tried)
  friend class LoweredStep;
  void check_constants() const;  // raises when a parameter was replaced since the capture
  void check_inputs(const std::vector<Tensor>& inputs) const;  // raises unless they match the capture
  std::vector<Tensor> replay_entries(const std::vector<Tensor>& inputs, LoweredStep* lowering);
};

}  // namespace gdcore::capture
