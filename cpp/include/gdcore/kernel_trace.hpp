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
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace gdcore {
class Storage;
struct OpDef;
struct TensorImpl;
}  // namespace gdcore

namespace gdcore::trace {

// An elementwise loop that the lowering may fuse with its neighbours (lowered_fusion.cpp):
// out[k] = f(in[0][k], in[1][k]) for k in [begin, end), an input marked `scalar` read at [0]
// for every k, zero to two inputs. `run` is the loop itself over any sub-range; the element
// functor `f` lives in `functor` (trivially copyable, so a copy of the struct is a copy of it).
struct ElementLoop {
  void (*run)(const ElementLoop&, int64_t begin, int64_t end) = nullptr;
  // Runs the loop over [0, 1) without the loop, then jumps to the next loop of its array (l + 1)
  // the same way: a fused run of one-element loops is one array that ends with a stop (chain_stop),
  // executed as threaded code, each op's own function ending in a tail jump to the next op's.
  void (*one)(const ElementLoop*) = nullptr;
  void* out = nullptr;
  const void* in[2] = {nullptr, nullptr};
  bool scalar[2] = {false, false};
  int inputs = 0;
  int64_t n = 0;
  size_t out_item = 0, in_item[2] = {0, 0};  // bytes per element
  alignas(16) unsigned char functor[16] = {};
};

// A step the lowering may run without a std::function: `fn(*this)` over a payload kept in the
// struct (a trivially copyable closure of at most 48 bytes: pointers, sizes, a kernel's function
// pointer). The lowered program of a step is an array of these (lowered_step.hpp), so a kernel
// launched this way is one indirect call from the program's loop, its closure body inlined in
// `fn`; every other step is called through its std::function.
struct DirectStep {
  void (*fn)(const DirectStep&) = nullptr;
  alignas(16) unsigned char payload[48] = {};
};

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
  // (step index, loop) of every launch_elements: the steps the lowering may fuse.
  std::vector<std::pair<size_t, ElementLoop>> element_loops;
  // (step index, direct form) of every launch_direct: the steps the lowering may call directly.
  std::vector<std::pair<size_t, DirectStep>> direct_steps;
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

template <typename F>
inline constexpr bool kFitsDirectStep =
    std::is_trivially_copyable_v<F> && sizeof(F) <= sizeof(DirectStep::payload) && alignof(F) <= 16;

namespace direct_detail {
template <typename F>
void call(const DirectStep& s) {
  (*std::launder(reinterpret_cast<const F*>(s.payload)))();
}
}  // namespace direct_detail

// The direct form of the closure `f` (trivially copyable, kFitsDirectStep).
template <typename F>
inline DirectStep make_direct(const F& f) {
  static_assert(kFitsDirectStep<F>, "a direct step's closure must be trivially copyable and at most 48 bytes");
  DirectStep s;
  s.fn = &direct_detail::call<F>;
  ::new (static_cast<void*>(s.payload)) F(f);
  return s;
}

// launch(f) for a small trivially copyable closure: while tracing, the step is also noted in
// its direct form, so that a lowered run calls it without the std::function hop.
template <typename F>
inline void launch_direct(const F& f) {
  if (KernelTrace* t = active()) {
    t->direct_steps.emplace_back(t->steps.size(), make_direct(f));
    t->steps.emplace_back(f);
  }
  f();
}

// launch(f) whose direct form runs `g` instead: g does what f does, with something f looks up at
// each call (the SIMD path's loop) looked up once, now. A lowered run calls g only while that
// lookup would still give the same (lowered_step.hpp: the path the step was traced on).
template <typename F, typename G>
inline void launch_direct(const F& f, const G& g) {
  if (KernelTrace* t = active()) {
    t->direct_steps.emplace_back(t->steps.size(), make_direct(g));
    t->steps.emplace_back(f);
  }
  f();
}

// Elementwise loops described by an ElementLoop, for fusion. A functor that does not fit the
// struct (captures over 16 bytes, not trivially copyable) makes the maker return false: the
// caller then launches its loop as a plain closure.
template <typename F>
inline constexpr bool kFitsElementLoop =
    std::is_trivially_copyable_v<F> && sizeof(F) <= 16 && alignof(F) <= 16;

namespace element_detail {
template <typename F>
const F& functor(const ElementLoop& l) {
  return *std::launder(reinterpret_cast<const F*>(l.functor));
}
template <typename Out, typename F>
void run0(const ElementLoop& l, int64_t b, int64_t e) {
  Out* __restrict o = static_cast<Out*>(l.out);
  const F& f = functor<F>(l);
  for (int64_t k = b; k < e; ++k) o[k] = f();
}
// (Each `one` ends in a call of the next loop's `one` in tail position: at -O2 and above a jump,
// so a chain of n loops costs n indirect jumps and no call stack; `chain_stop` returns.)
template <typename Out, typename F>
void one0(const ElementLoop* l) {
  *static_cast<Out*>(l->out) = functor<F>(*l)();
  return l[1].one(l + 1);
}
template <typename Out, typename In, typename F>
void one1(const ElementLoop* l) {
  *static_cast<Out*>(l->out) = functor<F>(*l)(*static_cast<const In*>(l->in[0]));
  return l[1].one(l + 1);
}
template <typename Out, typename In, typename F>
void one2(const ElementLoop* l) {
  *static_cast<Out*>(l->out) =
      functor<F>(*l)(*static_cast<const In*>(l->in[0]), *static_cast<const In*>(l->in[1]));
  return l[1].one(l + 1);
}
template <typename Out, typename In, typename F, bool XS>
void run1(const ElementLoop& l, int64_t b, int64_t e) {
  Out* o = static_cast<Out*>(l.out);
  const In* x = static_cast<const In*>(l.in[0]);
  const F& f = functor<F>(l);
  if constexpr (XS) {
    const In xv = *x;
    for (int64_t k = b; k < e; ++k) o[k] = f(xv);
  } else {
    for (int64_t k = b; k < e; ++k) o[k] = f(x[k]);
  }
}
template <typename Out, typename In, typename F, bool XS, bool YS>
void run2(const ElementLoop& l, int64_t b, int64_t e) {
  Out* o = static_cast<Out*>(l.out);
  const In* x = static_cast<const In*>(l.in[0]);
  const In* y = static_cast<const In*>(l.in[1]);
  const F& f = functor<F>(l);
  if constexpr (XS) {
    const In xv = *x;
    for (int64_t k = b; k < e; ++k) o[k] = f(xv, y[k]);
  } else if constexpr (YS) {
    const In yv = *y;
    for (int64_t k = b; k < e; ++k) o[k] = f(x[k], yv);
  } else {
    for (int64_t k = b; k < e; ++k) o[k] = f(x[k], y[k]);
  }
}
// The end of a chain of one-element loops.
inline void chain_stop(const ElementLoop*) {}
template <typename F>
ElementLoop make(const F& f, void* out, size_t out_item, int64_t n) {
  ElementLoop l;
  l.out = out;
  l.out_item = out_item;
  l.n = n;
  ::new (static_cast<void*>(l.functor)) F(f);
  return l;
}
}  // namespace element_detail

// Runs `l` over [0, n); while tracing, also appends it as a step and notes it for fusion.
inline void launch_elements(const ElementLoop& l) {
  if (KernelTrace* t = active()) {
    t->element_loops.emplace_back(t->steps.size(), l);
    t->steps.emplace_back([l] { l.run(l, 0, l.n); });
  }
  l.run(l, 0, l.n);
}

// o[k] = f() for k < n.
template <typename Out, typename F>
bool launch_fill(Out* o, int64_t n, const F& f) {
  if constexpr (!kFitsElementLoop<F>) return false;
  else {
    ElementLoop l = element_detail::make(f, o, sizeof(Out), n);
    l.run = &element_detail::run0<Out, F>;
    l.one = &element_detail::one0<Out, F>;
    launch_elements(l);
    return true;
  }
}
// o[k] = f(x[k]) (x_scalar: f(x[0])) for k < n.
template <typename Out, typename In, typename F>
bool launch_unary(Out* o, const In* x, bool x_scalar, int64_t n, const F& f) {
  if constexpr (!kFitsElementLoop<F>) return false;
  else {
    ElementLoop l = element_detail::make(f, o, sizeof(Out), n);
    l.inputs = 1;
    l.in[0] = x;
    l.scalar[0] = x_scalar;
    l.in_item[0] = sizeof(In);
    l.run = x_scalar ? &element_detail::run1<Out, In, F, true> : &element_detail::run1<Out, In, F, false>;
    l.one = &element_detail::one1<Out, In, F>;
    launch_elements(l);
    return true;
  }
}
// o[k] = f(x[k], y[k]), either input possibly a scalar (not both), for k < n.
template <typename Out, typename In, typename F>
bool launch_binary(Out* o, const In* x, bool x_scalar, const In* y, bool y_scalar, int64_t n, const F& f) {
  if constexpr (!kFitsElementLoop<F>) return false;
  else {
    ElementLoop l = element_detail::make(f, o, sizeof(Out), n);
    l.inputs = 2;
    l.in[0] = x;
    l.in[1] = y;
    l.scalar[0] = x_scalar;
    l.scalar[1] = y_scalar;
    l.in_item[0] = l.in_item[1] = sizeof(In);
    l.run = x_scalar   ? &element_detail::run2<Out, In, F, true, false>
            : y_scalar ? &element_detail::run2<Out, In, F, false, true>
                       : &element_detail::run2<Out, In, F, false, false>;
    l.one = &element_detail::one2<Out, In, F>;
    launch_elements(l);
    return true;
  }
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
