// Lowering a captured step to a flat list of loops, and running it (see lowered_step.hpp).
#include "autograd/lowered_step.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "gdcore/grad_mode.hpp"
#include "kernels/simd/dispatch.hpp"

namespace gdcore::capture {

using Kind = Program::Kind;

namespace {

// Why the step cannot be lowered, judged from its entries and arguments before tracing ("" if it can).
// `from_before[s]`: slot s holds a tensor from before the step (a constant, or a .grad read of one).
std::string refusal_before_trace(const std::vector<Program::Entry>& entries, const std::vector<Tensor>& inputs,
                                 const std::vector<bool>& from_before) {
  for (const Tensor& t : inputs)
    if (t.requires_grad()) return "an argument requires grad";
  for (const Program::Entry& e : entries) {
    if (e.kind == Kind::Function && !e.not_lowered.empty()) return "it calls " + e.what + " (" + e.not_lowered + ")";
    if (e.kind == Kind::Function)  // its outputs are new tensors from Python at every replay, not traced buffers
      return "it calls the custom autograd.Function " + e.what + " (Python code that runs at every replay)";
    if (e.kind == Kind::Create) return "it creates a tensor inside the step (zeros, ones, rand, tensor(...))";
    // `p.grad = t` with t from before the step (DistributedDataParallel binding .grad to its buckets) runs live
    // at each replay; t made by the step would hand a traced buffer to .grad behind the lowering's back.
    if (e.kind == Kind::GradWrite && e.in.size() > 1 && e.in[1] >= 0 && !from_before[e.in[1]])
      return "it assigns a tensor made inside the step to .grad";
  }
  return "";
}

bool shares_storage(const Tensor& a, const Tensor& b) {
  return a.defined() && b.defined() && a.impl()->storage == b.impl()->storage;
}

// Sets the thread's kernel trace for a scope.
struct Tracing {
  explicit Tracing(trace::KernelTrace* t) { trace::set_active(t); }
  ~Tracing() { trace::set_active(nullptr); }
};

}  // namespace

bool LoweredStep::runs_live(const Program::Entry& e) {
  switch (e.kind) {
    case Kind::Op:
    case Kind::Backward:
    case Kind::InPlace:
      return false;
    case Kind::Optimizer:
      return !e.lowerable;
    default:
      return true;
  }
}

std::vector<Tensor> LoweredStep::trace_and_lower(Program& p, const std::vector<Tensor>& inputs,
                                                 std::unique_ptr<LoweredStep>& lowered, std::string& why) {
  std::vector<bool> from_before(p.slots_.size(), false);
  for (const Program::Constant& c : p.constants_) from_before[c.slot] = true;
  for (const Program::Entry& e : p.entries_)
    if (e.kind == Kind::GradRead && !e.out.empty() && e.out[0] >= 0) from_before[e.out[0]] = true;
  why = refusal_before_trace(p.entries_, inputs, from_before);
  if (!why.empty()) return p.replay_entries(inputs, nullptr);
  auto step = std::make_unique<LoweredStep>();
  for (const Tensor& t : inputs) step->input_buffers_.push_back(t.clone_data());
  for (const Program::Constant& c : p.constants_)
    if (const auto& leaf = p.slots_[c.slot].impl(); leaf->grad) step->trace_.grads_at_start.push_back({leaf, leaf->grad});
  std::vector<Tensor> outputs;
  {
    Tracing tracing(&step->trace_);
    outputs = p.replay_entries(step->input_buffers_, step.get());
  }
  step->replay_ = p.replays_;
  why = step->finish(p, inputs, outputs);
  for (const std::vector<Tensor>* buffers : {&step->input_buffers_, &step->slots_})
    for (const Tensor& t : *buffers)
      if (t.defined()) step->traced_bytes_ += static_cast<size_t>(t.numel()) * itemsize(t.dtype());
  if (why.empty()) lowered = std::move(step);
  return outputs;
}

void LoweredStep::run_live(Program::Entry& e, std::vector<Tensor>& slots, int64_t replay) {
  {
    trace::PauseGuard pause;
    e.run(slots, replay);
  }
  live_steps_.push_back({trace_.steps.size(), &e});
  if (e.kind == Kind::GradWrite && e.in.size() > 1 && e.in[1] >= 0 && e.in[0] >= 0)
    trace_.grads_bound.push_back({slots[e.in[0]].impl(), slots[e.in[1]].impl()});
  if (e.kind == Kind::GradWrite && e.in.size() > 1 && e.in[1] < 0 && e.in[0] >= 0) {
    // `t.grad = None` on a tensor the lowered slots keep: no need for the entry's own code. (The
    // direct form's raw pointer stays valid: the std::function beside it holds the tensor.)
    trace_.direct_steps.emplace_back(trace_.steps.size(),
                                     trace::make_direct([owner = slots[e.in[0]].get()] { owner->grad.reset(); }));
    trace_.steps.emplace_back([owner = slots[e.in[0]].impl()] { owner->grad.reset(); });
    return;
  }
  Program::Entry* entry = &e;  // entries never move once the capture has ended
  trace_.steps.emplace_back([this, entry] {
    GradModeGuard mode(entry->grad_mode);
    entry->run(slots_, replay_);
  });
}

std::string LoweredStep::finish(const Program& p, const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) {
  if (trace_.failure) return std::string("it uses ") + trace_.failure;
  auto is_traced_grad = [&](const Tensor& t) {
    for (const auto& a : trace_.grad_assignments)
      if (shares_storage(t, Tensor(a.second))) return true;
    return false;
  };
  auto held_by_trace = [&](const Tensor& t) {
    return std::any_of(trace_.held.begin(), trace_.held.end(), [&](const auto& h) { return h == t.impl()->storage; });
  };
  std::vector<Kind> producer(slots_.size(), Kind::Op);
  std::vector<std::pair<const TensorImpl*, const TensorImpl*>> bound;  // (leaf, .grad) set so far by the step
  for (const Program::Entry& e : p.entries_) {
    for (int s : e.out)
      if (s >= 0) producer[s] = e.kind;
    if (e.kind == Kind::GradWrite && e.in.size() > 1 && e.in[0] >= 0) {
      const TensorImpl* leaf = slots_[e.in[0]].get();
      std::erase_if(bound, [&](const auto& b) { return b.first == leaf; });
      if (e.in[1] >= 0) {
        const Tensor& value = slots_[e.in[1]];
        if (is_traced_grad(value) || held_by_trace(value)) return "it assigns a tensor made inside the step to .grad";
        bound.push_back({leaf, value.get()});
      }
    }
    const bool read_bound = e.kind == Kind::GradRead &&
                            std::find(bound.begin(), bound.end(), std::pair<const TensorImpl*, const TensorImpl*>(
                                                                  slots_[e.in[0]].get(), slots_[e.out[0]].get())) != bound.end();
    if (e.kind == Kind::GradRead && !read_bound && !is_traced_grad(slots_[e.out[0]])) {
      const auto& read = slots_[e.out[0]].impl();
      auto from_start = std::find_if(trace_.grads_at_start.begin(), trace_.grads_at_start.end(),
                                     [&](const auto& a) { return a.second == read; });
      if (from_start == trace_.grads_at_start.end()) return "it reads a .grad that it did not make";
      trace_.grads_accumulated.push_back(*from_start);
    }
    if (e.kind == Kind::InPlace && !e.in.empty() && e.in[0] >= 0)
      for (const Tensor& b : input_buffers_)
        if (shares_storage(slots_[e.in[0]], b)) return "it changes one of its arguments in place";
  }

  // Outputs: traced buffers are copied out (the next replay overwrites them); tensors from
  // outside (parameters, arguments, aliases of them) are handed back as they are.
  for (size_t k = 0; k < p.outputs_.size(); ++k) {
    const int s = p.outputs_[k];
    OutputKind kind = OutputKind::Copy;
    int argument = -1;
    if (s < 0) {
      kind = OutputKind::Undefined;
    } else if (auto it = std::find(p.inputs_.begin(), p.inputs_.end(), s); it != p.inputs_.end()) {
      kind = OutputKind::Argument;
      argument = static_cast<int>(it - p.inputs_.begin());
      outputs[k] = inputs[argument];
    } else if (std::any_of(p.constants_.begin(), p.constants_.end(),
                           [s](const Program::Constant& c) { return c.slot == s; })) {
      kind = OutputKind::AsIs;
    } else {
      const Tensor& t = slots_[s];
      if (is_traced_grad(t)) return "it returns a gradient";
      if (producer[s] == Kind::GradRead || producer[s] == Kind::Alias) {
        kind = OutputKind::AsIs;
      } else {
        if (t.requires_grad() && t.grad_fn() && !t.grad_fn()->released)
          return "it returns a tensor whose graph its backward has not freed";
        outputs[k] = t.clone_data();
      }
    }
    output_kinds_.push_back(kind);
    output_argument_.push_back(argument);
  }

  for (const auto& [leaf, grad] : trace_.grad_assignments) {
    const bool constant = std::any_of(p.constants_.begin(), p.constants_.end(),
                                      [&](const Program::Constant& c) { return p.slots_[c.slot].get() == leaf.get(); });
    if (!constant) return "its backward reaches a leaf tensor made inside the step";
    Assignment a;
    a.leaf = leaf;
    a.grad = grad;
    a.none_at_start = std::none_of(trace_.grads_at_start.begin(), trace_.grads_at_start.end(),
                                   [&](const auto& s) { return s.first == leaf; });
    assignments_.push_back(std::move(a));
  }
  for (const auto& [leaf, grad] : trace_.grads_accumulated) kept_grads_.push_back({leaf, grad, grad->storage->data()});
  {  // (both collect the indices first: erasing shifts the later steps)
    std::vector<size_t> drop;
    for (size_t k : unread_assignments()) {
      drop.push_back(trace_.assignment_steps[k]);
      assignments_[k].exposed = false;
    }
    merge_version_bumps(drop);
    // The element loops' step indices after the erase (the dropped steps are never loops).
    std::sort(drop.begin(), drop.end());
    auto loops = trace_.element_loops;
    for (auto& [at, loop] : loops)
      at -= static_cast<size_t>(std::lower_bound(drop.begin(), drop.end(), at) - drop.begin());
    // What each step is, for the direct programs (indices made before the erase, as `drop`'s).
    std::vector<StepInfo> info(trace_.steps.size());
    for (const auto& [at, direct] : trace_.direct_steps) info[at].direct = direct;
    for (size_t at : trace_.assignment_steps) info[at].role = StepInfo::Role::Live;
    for (const auto& [at, e] : live_steps_) {
      const bool clears = e->kind == Kind::GradWrite && e->in.size() > 1 && e->in[1] < 0 && e->in[0] >= 0;
      info[at].role = clears ? StepInfo::Role::ClearGrad : StepInfo::Role::Live;
    }
    std::sort(drop.begin(), drop.end());
    drop.erase(std::unique(drop.begin(), drop.end()), drop.end());
    for (auto it = drop.rbegin(); it != drop.rend(); ++it) info.erase(info.begin() + static_cast<std::ptrdiff_t>(*it));
    erase_steps(drop);
    fused_loops_ = fuse_element_loops(trace_.steps, info, loops);
    build_programs(info);
  }
  // What the lowering itself holds of each gradient buffer, to tell at each replay whether
  // anything else does (then a lowered replay would overwrite a gradient someone kept).
  for (Assignment& a : assignments_) {
    a.impl_refs = a.grad.use_count() - (a.leaf->grad == a.grad ? 1 : 0);
    a.storage_refs = a.grad->storage.use_count();
  }
  return "";
}

std::vector<size_t> LoweredStep::unread_assignments() const {
  std::vector<size_t> drop;
  for (size_t k = 0; k < trace_.assignment_steps.size(); ++k) {
    const size_t at = trace_.assignment_steps[k];
    const TensorImpl* leaf = trace_.grad_assignments[k].first.get();
    bool again = false;  // another backward of the step assigns this .grad later
    for (size_t j = k + 1; j < trace_.assignment_steps.size(); ++j)
      again = again || trace_.grad_assignments[j].first.get() == leaf;
    if (again) continue;
    for (const auto& [index, e] : live_steps_) {
      if (index < at) continue;
      // Only `.grad = None` writes may come between: on this leaf it ends the search (drop), on another it is skipped.
      if (e->kind != Kind::GradWrite || e->in.size() < 2 || e->in[1] >= 0) break;
      if (slots_[e->in[0]].get() == leaf) {
        drop.push_back(k);
        break;
      }
    }
  }
  return drop;
}

void LoweredStep::merge_version_bumps(std::vector<size_t>& drop) {
  for (const auto& [at, counter] : trace_.version_bumps) {
    drop.push_back(at);
    auto it = std::find_if(version_bumps_.begin(), version_bumps_.end(), [&](const auto& c) { return c.first == counter; });
    if (it == version_bumps_.end()) version_bumps_.push_back({counter, 1});
    else ++it->second;
  }
}

void LoweredStep::erase_steps(std::vector<size_t> indices) {
  std::sort(indices.rbegin(), indices.rend());
  for (size_t at : indices) trace_.steps.erase(trace_.steps.begin() + static_cast<std::ptrdiff_t>(at));
}

bool LoweredStep::can_run() const {
  for (const KeptGrad& k : kept_grads_)
    if (k.leaf->grad != k.grad || k.grad->storage->data() != k.data) return false;
  for (const Assignment& a : assignments_) {
    if (a.none_at_start && a.leaf->grad) return false;
    if (!a.exposed) continue;  // never handed to .grad: no one else can hold it
    if (a.grad.use_count() - (a.leaf->grad == a.grad ? 1 : 0) != a.impl_refs) return false;
    if (a.grad->storage.use_count() != a.storage_refs) return false;
  }
  return true;
}

void LoweredStep::build_programs(const std::vector<StepInfo>& info) {
  // A step without a direct form is called through its std::function (which never moves again:
  // the step list is final here).
  static constexpr auto call_function = [](const trace::DirectStep& s) {
    (**std::launder(reinterpret_cast<const std::function<void()>* const*>(s.payload)))();
  };
  program_.clear();
  steady_.clear();
  bool sets_grads = false;
  for (const StepInfo& i : info) sets_grads = sets_grads || i.role == StepInfo::Role::Live;
  for (size_t k = 0; k < trace_.steps.size(); ++k) {
    trace::DirectStep s = info[k].direct;
    if (!s.fn) {
      s.fn = +call_function;
      const std::function<void()>* f = &trace_.steps[k];
      std::memcpy(s.payload, &f, sizeof f);
    }
    program_.push_back(s);
    if (sets_grads || info[k].role != StepInfo::Role::ClearGrad) steady_.push_back(s);
  }
  simd_path_ = static_cast<int>(kernels::simd::active_path());
}

bool LoweredStep::direct_path_ok() const { return static_cast<int>(kernels::simd::active_path()) == simd_path_; }

void LoweredStep::run_steps() {
  ++replay_;
  if (direct_path_ok()) run_program(program_);
  else
    for (auto& step : trace_.steps) step();
  bump_versions(1);
}

namespace {
// copy_into(dst, src) for tensors of one shape, as one memcpy when both are laid out densely in
// the same dtype (a small step's batch and loss: the general copy's checks cost more than the copy).
void copy_same_shape(const Tensor& dst, const Tensor& src) {
  if (dst.dtype() == src.dtype() && dst.numel() > 0 && dst.is_contiguous() && src.is_contiguous())
    std::memcpy(dst.raw_data(), src.raw_data(), static_cast<size_t>(dst.numel()) * itemsize(dst.dtype()));
  else
    copy_into(dst, src);
}
}  // namespace

std::vector<Tensor> LoweredStep::run(const Program& p, const std::vector<Tensor>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) copy_same_shape(input_buffers_[i], inputs[i]);
  run_steps();
  std::vector<Tensor> out;
  out.reserve(output_kinds_.size());
  for (size_t k = 0; k < output_kinds_.size(); ++k) {
    switch (output_kinds_[k]) {
      case OutputKind::Undefined: out.emplace_back(); break;
      case OutputKind::Copy: {
        const Tensor& t = slots_[p.outputs_[k]];
        out.push_back(Tensor::empty(t.shape(), t.dtype()));
        copy_same_shape(out.back(), t);
        break;
      }
      case OutputKind::AsIs: out.push_back(slots_[p.outputs_[k]]); break;
      case OutputKind::Argument: out.push_back(inputs[output_argument_[k]]); break;
    }
  }
  return out;
}

const Tensor& LoweredStep::output(const Program& p, size_t output) const {
  if (output_kinds_[output] == OutputKind::Argument) return input_buffers_[output_argument_[output]];
  return slots_[p.outputs_[output]];
}

}  // namespace gdcore::capture
