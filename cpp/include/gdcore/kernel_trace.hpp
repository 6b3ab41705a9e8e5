// Kernel traces, the lowering behind gdcore.compile's fast replay. Every loop that writes
// tensor values runs through launch(f): eagerly it just calls f; while a trace is active on
// the thread it also keeps a copy of f (a closure over raw pointers and sizes, never over
// tensors), so that a captured step can be replayed as a flat list of loops without tensors,
// graph nodes, the engine or allocation. Storage made while tracing is held by the trace, so
// the pointers the loops saw stay valid and unique.
// A computation that a list of loops cannot repeat (reading a value to decide what to do next,
// drawing random numbers, a loop that does not go through launch) calls unsupported(): the
// trace is abandoned and the step keeps replaying op by op, which is always correct.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace gdcore {
class Storage;
struct OpDef;
struct TensorImpl;
}  // namespace gdcore

namespace gdcore::trace {

struct KernelTrace {
  std::vector<std::function<void()>> steps;      // launches (and the lowering's own steps), in order
  std::vector<std::shared_ptr<Storage>> held;    // every storage allocated while tracing
  const char* failure = nullptr;                 // the first reason the trace cannot be replayed
  // (leaf, gradient) pairs: every .grad that backward set while tracing (engine.cpp); the
  // .grad each leaf of the step had when the trace began (set by the lowering); those of them
  // that backward added into (a step that zeroes .grad in place instead of setting it to None).
  using GradPairs = std::vector<std::pair<std::shared_ptr<TensorImpl>, std::shared_ptr<TensorImpl>>>;
  GradPairs grad_assignments, grads_at_start, grads_accumulated;
  std::vector<size_t> assignment_steps;  // where in `steps` each of grad_assignments is made
  // (leaf, gradient) pairs that a live step of the lowering sets with `leaf.grad = tensor`, the
  // tensor being one from before the step (DistributedDataParallel binds each .grad to a view of
  // its gradient bucket): backward may add into them, as the step sets them again at each replay.
  GradPairs grads_bound;
  // A step calls code outside the core (a collective: MPI, or Python with the GIL taken), so a
  // replay must not hold the GIL for it (Program::try_quick_replay).
  bool calls_out = false;
  // (step index, version counter) of every version bump of an in-place change (tensor.hpp).
  std::vector<std::pair<size_t, std::shared_ptr<std::atomic<uint64_t>>>> version_bumps;
};

// The trace recording on this thread; null when none is (or while paused).
inline thread_local KernelTrace* active_trace = nullptr;
inline KernelTrace* active() { return active_trace; }
inline void set_active(KernelTrace* t) { active_trace = t; }

// Runs the loop `f`; while tracing, also appends a copy of it to the trace.
template <typename F>
inline void launch(F&& f) {
  if (KernelTrace* t = active()) t->steps.emplace_back(f);
  f();
}

// Marks the active trace (if any) as not replayable; `what` says why (a string literal).
void unsupported(const char* what);
// Called for every op (from record()): ops whose loops all go through launch are allowed.
void on_op(const OpDef& op);
// Keeps `s` alive for the trace's lifetime (from Tensor::empty).
inline void hold(const std::shared_ptr<Storage>& s) {
  if (KernelTrace* t = active()) t->held.push_back(s);
}

// Stops tracing within a scope (live steps of the lowering run their own code eagerly).
class PauseGuard {
 public:
  PauseGuard() : saved_(active()) { set_active(nullptr); }
  ~PauseGuard() { set_active(saved_); }
  PauseGuard(const PauseGuard&) = delete;
  PauseGuard& operator=(const PauseGuard&) = delete;

 private:
  KernelTrace* saved_;
};

}  // namespace gdcore::trace
