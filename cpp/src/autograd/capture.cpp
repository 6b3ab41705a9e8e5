// Recording a training step into a Program and replaying it (see gdcore/capture.hpp).
// The recorder is thread-local; every hook returns at once when no capture is active, so
// the eager path pays one thread-local load per op. Op entries are replayed through the
// op's public function (capture_forwards.cpp), backward through run_backward, optimizer
// steps through the same group call: the replay runs the same kernels in the same order
// as the eager step, so its results are bit-identical.
#include "gdcore/capture.hpp"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <unordered_map>

#include "gdcore/grad_mode.hpp"
#include "gdcore/ops.hpp"
#include "autograd/lowered_step.hpp"

namespace gdcore::capture {

// Looks up how to recompute an op from its inputs and attributes (capture_forwards.cpp).
using ForwardFn = Tensor (*)(const std::vector<Tensor>& inputs, const OpAttrs& attrs, const Shape& out_shape,
                             DType out_dtype);
ForwardFn find_forward(const char* op_name);
// Whether an op's replay recomputes everything from its inputs, so it may read a value-sized
// tensor; and whether its output has the shape of its first input whatever the others are.
bool replays_at_any_size(const char* op_name);
bool keeps_first_input_shape(const char* op_name);

// Why a step with an op whose sizes depend on the values is not lowered (Program::lowering()).
constexpr const char* kValueSized = "its result's size depends on the values";

namespace {
// GDCORE_COMPILE_LOWER=0 keeps every replay op by op (for comparisons and debugging).
bool lowering_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("GDCORE_COMPILE_LOWER");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  return enabled;
}

std::string describe_tensor(const Tensor& t) {
  return std::string("a ") + dtype_name(t.dtype()) + " tensor of shape " + shape_str(t.shape());
}
}  // namespace

struct Recorder {
  std::shared_ptr<Program> program = std::make_shared<Program>();
  std::unordered_map<const TensorImpl*, int> slot_of;
  // Tensors handed to Python that no entry produced, kept alive so that addresses stay unique.
  std::unordered_map<const TensorImpl*, Tensor> foreign;
  int paused = 0;
  // Per slot: its size depends on the values (see capture.hpp, value_sized_op).
  std::vector<bool> value_sized;

  std::vector<Tensor>& slots() { return program->slots_; }

  bool sized(int s) const { return s >= 0 && value_sized[s]; }
  bool any_sized(const std::vector<int>& ss) const {
    for (int s : ss)
      if (sized(s)) return true;
    return false;
  }
  // A 0-d tensor keeps its (empty) shape whatever the values: only tensors with dims vary.
  void mark_sized(int s, const Tensor& t) {
    if (s >= 0 && t.defined() && t.dim() > 0) value_sized[s] = true;
  }

  int new_slot(const Tensor& t) {
    slots().push_back(t);  // keeps t alive for the whole capture: no address is reused
    value_sized.push_back(false);
    const int s = static_cast<int>(slots().size()) - 1;
    slot_of[t.get()] = s;
    return s;
  }
  // The slot of a tensor the step reads: an input, a value an entry produced, or a new constant.
  int input_slot(const Tensor& t, const char* user) {
    if (!t.defined()) return -1;
    auto it = slot_of.find(t.get());
    if (it != slot_of.end()) return it->second;
    if (foreign.count(t.get()))
      throw std::runtime_error(
          std::string("gdcore.compile: ") + user + " uses " + describe_tensor(t) +
          " that was made during the capture by an operation gdcore.compile cannot replay (random numbers drawn "
          "from a generator= other than the default one, a comparison, argmax, indexing with a tensor, ...), so a "
          "replay would reuse its first value. Create it outside the step and pass it in as an argument");
    const int s = new_slot(t);
    program->constants_.push_back({s, t.shape(), t.dtype(), t.raw_data()});
    return s;
  }
  std::vector<int> input_slots(const std::vector<Tensor>& ts, const char* user) {
    std::vector<int> r;
    r.reserve(ts.size());
    for (const Tensor& t : ts) r.push_back(input_slot(t, user));
    return r;
  }
  Program::Entry& add(Program::Entry e) {
    e.grad_mode = GradMode::is_enabled();
    program->entries_.push_back(std::move(e));
    return program->entries_.back();
  }
};

namespace {

thread_local Recorder* current = nullptr;

Recorder& recorder() { return *current; }

std::vector<Tensor> gather(const std::vector<Tensor>& slots, const std::vector<int>& ids) {
  std::vector<Tensor> r;
  r.reserve(ids.size());
  for (int s : ids) r.push_back(s < 0 ? Tensor() : slots[s]);
  return r;
}

std::string short_name(const OpDef& op) {
  std::string n = op.name;
  const std::string suffix = "Backward";
  if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
    n.resize(n.size() - suffix.size());
  return n;
}

// Keeps only entries that have a side effect or produce a value something live reads.
// This also drops the ops that a recorded op ran inside its own forward (their results
// are read by nobody at the outer level, and the outer op recomputes them at replay).
void drop_dead_entries(std::vector<Program::Entry>& entries, std::vector<bool>& live_slot) {
  std::vector<bool> keep(entries.size(), false);
  for (size_t k = entries.size(); k-- > 0;) {
    const Program::Entry& e = entries[k];
    bool live = e.side_effect;
    for (int s : e.out) live = live || (s >= 0 && live_slot[s]);
    if (!live) continue;
    keep[k] = true;
    for (int s : e.in)
      if (s >= 0) live_slot[s] = true;
  }
  std::vector<Program::Entry> kept;
  for (size_t k = 0; k < entries.size(); ++k)
    if (keep[k]) kept.push_back(std::move(entries[k]));
  entries = std::move(kept);
}

}  // namespace

bool is_capturing() { return current != nullptr && current->paused == 0; }

PauseGuard::PauseGuard() {
  if (current) ++current->paused;
}
PauseGuard::~PauseGuard() {
  if (current) --current->paused;
}

void begin(const std::vector<Tensor>& inputs) {
  if (current)
    throw std::runtime_error("gdcore.compile: a step is already being captured on this thread; a compiled step "
                             "cannot call another compiled step while it is captured");
  auto rec = std::make_unique<Recorder>();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined()) throw std::invalid_argument("gdcore.compile: input " + std::to_string(i) + " is None");
    if (rec->slot_of.count(t.get()))
      throw std::invalid_argument("gdcore.compile: the same tensor is passed as two arguments (input " +
                                  std::to_string(i) + "); pass distinct tensors (clone() one of them)");
    rec->program->inputs_.push_back(rec->new_slot(t));
    rec->program->input_shapes_.push_back(t.shape());
    rec->program->input_dtypes_.push_back(t.dtype());
  }
  current = rec.release();
}

void abort() {
  delete current;
  current = nullptr;
}

std::shared_ptr<Program> end(const std::vector<Tensor>& outputs) {
  if (!current) throw std::runtime_error("gdcore.compile: no capture is active");
  std::unique_ptr<Recorder> rec(current);
  current = nullptr;
  Program& p = *rec->program;
  for (const Tensor& t : outputs) p.outputs_.push_back(rec->input_slot(t, "the step's return value"));

  std::vector<bool> live(p.slots_.size(), false);
  for (int s : p.outputs_)
    if (s >= 0) live[s] = true;
  drop_dead_entries(p.entries_, live);

  // Op entries become closures over the op's public function and a copy of its attributes.
  for (Program::Entry& e : p.entries_) {
    if (!e.op) continue;
    ForwardFn forward = find_forward(e.op->name);
    if (!forward)
      throw std::runtime_error("gdcore.compile: the step uses " + short_name(*e.op) +
                               ", which gdcore.compile cannot replay yet; run this step eagerly (uncompiled)");
    if (rec->any_sized(e.in) && !replays_at_any_size(e.op->name))
      throw std::runtime_error(
          "gdcore.compile: the step applies " + short_name(*e.op) + " to a tensor whose size depends on the values "
          "(made by x[mask], masked_select, nonzero or unique, or computed from one), and gdcore.compile replays " +
          short_name(*e.op) + " only at the sizes it saw at capture, while each replay has its own sizes. Use ops "
          "that take the whole tensor (elementwise math, sum, mean, where, cat, indexing), or run this step eagerly "
          "(uncompiled)");
    const OpAttrs attrs = e.node->attrs;
    const std::vector<int> in = e.in;
    const int out = e.out[0];
    const bool fixed = !rec->sized(out);  // value-sized outputs get their shape from the replayed inputs
    const Shape shape = e.out_shape;
    const DType dtype = e.out_dtype;
    const std::string name = short_name(*e.op);
    // `args` is reused from replay to replay (no allocation per op; replays of a program never
    // overlap) and emptied after each call, so that it keeps no tensor alive between replays.
    e.run = [forward, attrs, in, out, shape, dtype, name, fixed, args = std::vector<Tensor>()](
                std::vector<Tensor>& slots, int64_t) mutable {
      struct Release {
        std::vector<Tensor>& args;
        ~Release() { args.clear(); }
      } release{args};
      for (int s : in) args.push_back(s < 0 ? Tensor() : slots[s]);
      Tensor r = forward(args, attrs, shape, dtype);
      if ((fixed && r.shape() != shape) || r.dtype() != dtype)
        throw std::logic_error("internal error: replayed " + name + " gave " + describe_tensor(r) +
                               " but the capture saw shape " + shape_str(shape));
      slots[out] = std::move(r);
    };
    e.node.reset();
  }

  // Keep only the constants that live entries or the outputs read; every other slot is cleared
  // after each replay (so a replay does not keep the last step's graph alive).
  std::vector<Program::Constant> constants;
  for (const Program::Constant& c : p.constants_)
    if (live[c.slot]) constants.push_back(c);
  std::vector<bool> is_constant(p.slots_.size(), false);
  for (const Program::Constant& c : constants) is_constant[c.slot] = true;
  p.constants_ = std::move(constants);
  for (size_t s = 0; s < p.slots_.size(); ++s)
    if (!is_constant[s]) {
      p.slots_[s] = Tensor();
      p.transient_.push_back(static_cast<int>(s));
    }
  return rec->program;
}

// ---- hooks ---------------------------------------------------------------------------

std::shared_ptr<Node> on_record(const OpDef& op, const std::vector<Tensor>& inputs, const Tensor& output,
                                std::shared_ptr<Node> node) {
  if (!is_capturing()) return node;
  Recorder& rec = recorder();
  if (!node) {  // no graph node was needed: a descriptor that collects the op's attributes
    node = std::make_shared<Node>();
    node->op = &op;
  }
  Program::Entry e;
  e.kind = Program::Kind::Op;
  e.what = short_name(op);
  e.in = rec.input_slots(inputs, e.what.c_str());
  e.op = &op;
  e.node = node;
  e.out_shape = output.shape();
  e.out_dtype = output.dtype();
  e.out = {rec.new_slot(output)};
  if (rec.any_sized(e.in) && (!keeps_first_input_shape(op.name) || rec.sized(e.in[0]))) rec.mark_sized(e.out[0], output);
  rec.add(std::move(e));
  return node;
}

std::vector<Tensor> backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                             bool retain_graph, bool create_graph, const std::vector<Tensor>& inputs,
                             bool allow_unused) {
  if (!is_capturing()) return run_backward(roots, grad_roots, retain_graph, create_graph, inputs, allow_unused);
  Recorder& rec = recorder();
  const std::vector<int> root_slots = rec.input_slots(roots, "backward");
  const std::vector<int> grad_slots = rec.input_slots(grad_roots, "backward");
  const std::vector<int> input_slots = rec.input_slots(inputs, "autograd.grad");
  std::vector<Tensor> results;
  {
    PauseGuard pause;
    results = run_backward(roots, grad_roots, retain_graph, create_graph, inputs, allow_unused);
  }
  Program::Entry e;
  e.kind = Program::Kind::Backward;
  e.what = inputs.empty() ? "backward" : "autograd.grad";
  e.side_effect = true;
  e.in = root_slots;
  e.in.insert(e.in.end(), grad_slots.begin(), grad_slots.end());
  e.in.insert(e.in.end(), input_slots.begin(), input_slots.end());
  for (const Tensor& r : results) e.out.push_back(r.defined() ? rec.new_slot(r) : -1);
  for (size_t j = 0; j < e.out.size() && j < input_slots.size(); ++j)  // a gradient has its input's shape
    if (rec.sized(input_slots[j])) rec.mark_sized(e.out[j], results[j]);
  const std::vector<int> outs = e.out;
  e.run = [root_slots, grad_slots, input_slots, outs, retain_graph, create_graph, allow_unused](
              std::vector<Tensor>& slots, int64_t) {
    std::vector<Tensor> r = run_backward(gather(slots, root_slots), gather(slots, grad_slots), retain_graph,
                                         create_graph, gather(slots, input_slots), allow_unused);
    for (size_t j = 0; j < outs.size() && j < r.size(); ++j)
      if (outs[j] >= 0) slots[outs[j]] = std::move(r[j]);
  };
  rec.add(std::move(e));
  return results;
}

void on_function(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
                 std::function<std::vector<Tensor>(const std::vector<Tensor>&)> apply, const char* not_lowered) {
  if (!is_capturing()) return;
  Recorder& rec = recorder();
  Program::Entry e;
  e.kind = Program::Kind::Function;
  std::string n = name;
  const std::string suffix = "Backward";
  if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
    n.resize(n.size() - suffix.size());
  e.what = n;
  if (not_lowered) e.not_lowered = not_lowered;
  e.side_effect = true;  // Python code: it runs at every replay, as in the eager step, even if nothing reads its outputs
  e.in = rec.input_slots(inputs, e.what.c_str());
  std::vector<Shape> shapes;
  std::vector<DType> dtypes;
  // Applied to a value-sized tensor, the Function runs again on each replay's sizes: its outputs follow them.
  const bool sized_in = rec.any_sized(e.in);
  std::vector<bool> sized;
  for (const Tensor& t : outputs) {
    e.out.push_back(rec.new_slot(t));
    if (sized_in) rec.mark_sized(e.out.back(), t);
    sized.push_back(rec.sized(e.out.back()));
    shapes.push_back(t.shape());
    dtypes.push_back(t.dtype());
  }
  const std::vector<int> in = e.in, out = e.out;
  e.run = [in, out, shapes, dtypes, sized, n, apply = std::move(apply)](std::vector<Tensor>& slots, int64_t) {
    std::vector<Tensor> r = apply(gather(slots, in));
    bool same = r.size() == out.size();
    for (size_t k = 0; same && k < r.size(); ++k)
      same = r[k].defined() && (sized[k] ? r[k].dim() == static_cast<int64_t>(shapes[k].size())
                                         : r[k].shape() == shapes[k]) && r[k].dtype() == dtypes[k];
    if (!same) {
      std::string got, want;
      for (size_t k = 0; k < r.size(); ++k)
        got += (k ? ", " : "") + (r[k].defined() ? describe_tensor(r[k]) : std::string("None"));
      for (size_t k = 0; k < shapes.size(); ++k)
        want += (k ? ", " : "") + std::string("a ") + dtype_name(dtypes[k]) + " tensor of shape " + shape_str(shapes[k]);
      throw std::runtime_error("gdcore.compile: the custom Function " + n + " returned [" + got +
                               "] at this replay but [" + want + "] when the step was captured; a compiled step "
                               "needs the same output shapes and dtypes at every call (compile the step again, or "
                               "run it eagerly)");
    }
    for (size_t k = 0; k < out.size(); ++k) slots[out[k]] = std::move(r[k]);
  };
  rec.add(std::move(e));
}

void on_inplace(const char* name, const std::vector<Tensor>& operands,
                std::function<void(const std::vector<Tensor>&)> redo) {
  if (!is_capturing()) return;
  Recorder& rec = recorder();
  Program::Entry e;
  e.kind = Program::Kind::InPlace;
  e.what = name;
  e.side_effect = true;
  e.in = rec.input_slots(operands, name);
  const std::vector<int> in = e.in;
  e.run = [in, redo = std::move(redo)](std::vector<Tensor>& slots, int64_t) { redo(gather(slots, in)); };
  rec.add(std::move(e));
}

void on_grad_read(const Tensor& t, const Tensor& grad) {
  if (!is_capturing()) return;
  Recorder& rec = recorder();
  const int owner = rec.input_slot(t, ".grad");
  Program::Entry e;
  e.in = {owner};
  if (!grad.defined()) {
    // Python saw None here and may have branched on it: replaying is only faithful while it stays None.
    e.kind = Program::Kind::GradNoneCheck;
    e.what = ".grad is None";
    e.side_effect = true;
    e.run = [owner](std::vector<Tensor>& slots, int64_t) {
      if (slots[owner].grad().defined())
        throw std::runtime_error(
            "gdcore.compile: the captured step read .grad of " + describe_tensor(slots[owner]) +
            " when it was None, but at this replay it is set, so the Python code of the step would take another "
            "path (for example zero_grad(set_to_none=False) skips tensors whose .grad is None). Use "
            "zero_grad() (set_to_none=True, the default) in the step, or compile it after one eager step");
    };
  } else {
    e.kind = Program::Kind::GradRead;
    e.what = ".grad";
    e.out = {rec.new_slot(grad)};
    if (rec.sized(owner)) rec.mark_sized(e.out[0], grad);
    const int out = e.out[0];
    e.run = [owner, out](std::vector<Tensor>& slots, int64_t) {
      Tensor g = slots[owner].grad();
      if (!g.defined())
        throw std::runtime_error("gdcore.compile: the captured step read .grad of " + describe_tensor(slots[owner]) +
                                 " and got a tensor, but at this replay it is None (did something clear it "
                                 "between steps?)");
      slots[out] = std::move(g);
    };
  }
  rec.add(std::move(e));
}

void on_grad_write(const Tensor& t, const Tensor& grad) {
  if (!is_capturing()) return;
  Recorder& rec = recorder();
  Program::Entry e;
  e.kind = Program::Kind::GradWrite;
  e.what = ".grad =";
  e.side_effect = true;
  e.in = {rec.input_slot(t, ".grad ="), rec.input_slot(grad, ".grad =")};
  const int owner = e.in[0], value = e.in[1];
  e.run = [owner, value](std::vector<Tensor>& slots, int64_t) {
    Tensor& o = slots[owner];
    o.set_grad(value < 0 ? Tensor() : slots[value]);
  };
  rec.add(std::move(e));
}

void on_alias(const Tensor& src, const Tensor& out, bool is_data) {
  if (!is_capturing()) return;
  Recorder& rec = recorder();
  Program::Entry e;
  e.kind = Program::Kind::Alias;
  e.what = is_data ? ".data" : "detach";
  e.in = {rec.input_slot(src, e.what.c_str())};
  e.out = {rec.new_slot(out)};
  if (rec.sized(e.in[0])) rec.mark_sized(e.out[0], out);
  const int in = e.in[0], o = e.out[0];
  e.run = [in, o, is_data](std::vector<Tensor>& slots, int64_t) {
    slots[o] = is_data ? slots[in].data_alias() : slots[in].detach();
  };
  rec.add(std::move(e));
}

void on_created(const Tensor& t, std::function<Tensor()> make) {
  if (!is_capturing()) return;
  Recorder& rec = recorder();
  Program::Entry e;
  e.kind = Program::Kind::Create;
  e.what = "create";
  e.out = {rec.new_slot(t)};
  const int out = e.out[0];
  e.run = [out, make = std::move(make)](std::vector<Tensor>& slots, int64_t) { slots[out] = make(); };
  rec.add(std::move(e));
}

bool is_value_sized(const Tensor& t) {
  if (!is_capturing() || !t.defined()) return false;
  auto it = current->slot_of.find(t.get());
  return it != current->slot_of.end() && current->sized(it->second);
}

std::vector<Tensor> value_sized_op(const char* name, const std::vector<Tensor>& inputs,
                                   const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& op,
                                   const std::vector<bool>& fixed_size) {
  if (!is_capturing()) return op(inputs);
  Recorder& rec = recorder();
  Program::Entry e;
  e.kind = Program::Kind::Function;
  e.what = name;
  e.not_lowered = kValueSized;
  e.in = rec.input_slots(inputs, name);
  std::vector<Tensor> outputs;
  {
    PauseGuard as_one_entry;  // the ops it runs inside are part of this entry
    outputs = op(inputs);
  }
  std::vector<Shape> shapes;  // of the outputs whose size is fixed: checked at each replay
  for (size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& t = outputs[k];
    e.out.push_back(t.defined() ? rec.new_slot(t) : -1);
    if (!(k < fixed_size.size() && fixed_size[k])) rec.mark_sized(e.out.back(), t);
    shapes.push_back(t.defined() ? t.shape() : Shape());
  }
  std::vector<bool> check;
  for (int s : e.out) check.push_back(s >= 0 && !rec.sized(s));
  const std::vector<int> in = e.in, out = e.out;
  const std::string what = name;
  e.run = [in, out, shapes, check, what, op](std::vector<Tensor>& slots, int64_t) {
    std::vector<Tensor> r = op(gather(slots, in));
    for (size_t k = 0; k < out.size(); ++k) {
      if (out[k] < 0) continue;
      if (check[k] && r[k].shape() != shapes[k])
        throw std::logic_error("internal error: replayed " + what + " gave " + describe_tensor(r[k]) +
                               " but the capture saw shape " + shape_str(shapes[k]));
      slots[out[k]] = std::move(r[k]);
    }
  };
  rec.add(std::move(e));
  return outputs;
}

void on_size_read(const char* what, const Tensor& t) {
  if (!is_value_sized(t)) return;
  throw std::runtime_error(
      std::string("gdcore.compile: the step reads ") + what + " of " + describe_tensor(t) +
      " while it is being captured, and that size depends on the values (the tensor comes from x[mask], "
      "masked_select, nonzero or unique, or is computed from one). The number would be frozen into every replay, "
      "while each replay has its own size. Keep it in tensor ops (x[mask].sum(), .mean(), mask.sum() counts as a "
      "tensor), or run this step eagerly (uncompiled)");
}

void on_host_read(const char* what, const Tensor& t) {
  if (!is_capturing()) return;
  throw std::runtime_error(
      std::string("gdcore.compile: the step called ") + what + " on " + describe_tensor(t) +
      " while it was being captured. The value would be frozen into every replay (Python numbers and control flow "
      "are fixed at capture). Return the tensor from the step and read it after the call instead");
}

void on_unsupported(const char* what) {
  if (!is_capturing()) return;
  throw std::runtime_error(std::string("gdcore.compile: the step uses ") + what +
                           ", which gdcore.compile cannot replay yet; run this step eagerly (uncompiled)");
}

void on_returned(const Tensor& t) {
  if (!is_capturing() || !t.defined()) return;
  Recorder& rec = recorder();
  if (rec.slot_of.count(t.get())) return;
  // A parameter handed back as is (p.contiguous(), p.requires_grad_()) is a constant: it requires grad and
  // something else already holds it. A fresh result (only this return value holds it) never is.
  if (t.is_leaf() && t.requires_grad() && t.impl().use_count() > 1) return;
  rec.foreign.emplace(t.get(), t);
}

void optimizer_step(const char* name, const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                    const OptimizerStep& step, bool lowerable) {
  if (!is_capturing()) {
    step(grads);
    return;
  }
  Recorder& rec = recorder();
  // Where each gradient comes from at replay: the parameter's current .grad (-1) or a slot.
  std::vector<int> param_slots = rec.input_slots(params, name), grad_source;
  for (size_t i = 0; i < grads.size(); ++i) {
    const bool own = i < params.size() && grads[i].defined() && params[i].impl()->grad == grads[i].impl();
    grad_source.push_back(own ? -1 : rec.input_slot(grads[i], name));
  }
  {
    PauseGuard pause;
    step(grads);
  }
  Program::Entry e;
  e.kind = Program::Kind::Optimizer;
  e.lowerable = lowerable;
  e.what = name;
  e.side_effect = true;
  e.in = param_slots;
  for (int s : grad_source)
    if (s >= 0) e.in.push_back(s);
  const std::string label = name;
  e.run = [param_slots, grad_source, step, label](std::vector<Tensor>& slots, int64_t) {
    std::vector<Tensor> g;
    g.reserve(grad_source.size());
    for (size_t i = 0; i < grad_source.size(); ++i) {
      if (grad_source[i] >= 0) {
        g.push_back(slots[grad_source[i]]);
        continue;
      }
      Tensor cur = slots[param_slots[i]].grad();
      if (!cur.defined())
        throw std::runtime_error("gdcore.compile: " + label + " step: parameter " + std::to_string(i) +
                                 " had a gradient when the step was captured but its .grad is None at this replay");
      g.push_back(std::move(cur));
    }
    step(g);
  };
  rec.add(std::move(e));
}

// ---- replay --------------------------------------------------------------------------

void Program::check_inputs(const std::vector<Tensor>& inputs) const {
  if (is_capturing())
    throw std::runtime_error("gdcore.compile: a compiled step cannot be called inside another step that is being "
                             "captured; call the inner function directly (uncompiled)");
  if (inputs.size() != inputs_.size())
    throw std::invalid_argument("gdcore.compile: the captured step takes " + std::to_string(inputs_.size()) +
                                " tensor arguments, got " + std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined() || t.shape() != input_shapes_[i] || t.dtype() != input_dtypes_[i])
      throw std::invalid_argument("gdcore.compile: argument " + std::to_string(i) + " is " +
                                  (t.defined() ? describe_tensor(t) : std::string("None")) +
                                  " but the step was captured for a " + dtype_name(input_dtypes_[i]) +
                                  " tensor of shape " + shape_str(input_shapes_[i]));
  }
}

std::vector<Tensor> Program::replay(const std::vector<Tensor>& inputs) {
  check_inputs(inputs);
  check_constants();
  std::lock_guard<std::mutex> lock(mutex_);
  PauseGuard pause;
  ++replays_;
  if (lowered_ && lowered_->can_run()) return lowered_->run(*this, inputs);
  if (!lowering_tried_ && lowering_enabled()) {
    std::vector<Tensor> out = LoweredStep::trace_and_lower(*this, inputs, lowered_, lowering_refused_);
    lowering_tried_ = true;
    return out;
  }
  return replay_entries(inputs, nullptr);
}

bool Program::try_quick_replay(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs, size_t max_bytes) {
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);  // never wait here: another replay may need the GIL
  if (!lock.owns_lock() || !lowered_ || !lowered_->runs_quickly(max_bytes)) return false;
  check_inputs(inputs);
  check_constants();
  if (!lowered_->can_run()) return false;
  PauseGuard pause;
  ++replays_;
  outputs = lowered_->run(*this, inputs);
  return true;
}

void Program::check_constants() const {
  for (const Constant& c : constants_) {
    const Tensor& t = slots_[c.slot];
    if (t.shape() != c.shape || t.dtype() != c.dtype || t.raw_data() != c.data)
      throw std::runtime_error(
          "gdcore.compile: " + describe_tensor(t) + " that the step uses (a parameter or another tensor from outside "
          "the step, captured as a " + dtype_name(c.dtype) + " tensor of shape " + shape_str(c.shape) +
          ") was replaced since the capture (its shape, dtype or memory changed, e.g. by `p.data = ...`). "
          "Compile the step again (gdcore.compile(fn)) after changing parameters");
  }
}

std::vector<Tensor> Program::replay_entries(const std::vector<Tensor>& inputs, LoweredStep* lowering) {
  struct Clear {
    Program& p;
    ~Clear() {
      for (int s : p.transient_) p.slots_[s] = Tensor();
    }
  } clear{*this};
  for (size_t i = 0; i < inputs.size(); ++i) slots_[inputs_[i]] = inputs[i];
  for (Entry& e : entries_) {
    GradModeGuard mode(e.grad_mode);
    if (lowering && LoweredStep::runs_live(e)) lowering->run_live(e, slots_, replays_);
    else e.run(slots_, replays_);
  }
  if (lowering) lowering->keep_slots(slots_);
  std::vector<Tensor> out;
  out.reserve(outputs_.size());
  for (int s : outputs_) out.push_back(s < 0 ? Tensor() : slots_[s]);
  return out;
}

std::string Program::lowering() const {
  if (lowered_) return "lowered";
  if (!lowering_tried_) return lowering_enabled() ? "not lowered yet" : "off (GDCORE_COMPILE_LOWER=0)";
  return "op by op: " + lowering_refused_;
}

size_t Program::fused_loops() const { return lowered_ ? lowered_->fused_loops() : 0; }

Program::Program() = default;
Program::~Program() = default;

Tensor Program::run_batches(const std::vector<Tensor>& data, const Tensor& order, int64_t start, int64_t stop,
                            int64_t batch_size, size_t loss_output) {
  if (data.size() != inputs_.size())
    throw std::invalid_argument("gdcore.compile: the step takes " + std::to_string(inputs_.size()) +
                                " tensors but the dataset has " + std::to_string(data.size()));
  if (loss_output >= outputs_.size())
    throw std::invalid_argument("gdcore.compile: run_epoch needs the step to return its loss");
  if (batch_size <= 0 || start < 0 || stop > order.numel() || (stop - start) % batch_size != 0)
    throw std::invalid_argument("gdcore.compile: run_batches needs whole batches: start " + std::to_string(start) +
                                ", stop " + std::to_string(stop) + ", batch_size " + std::to_string(batch_size));
  const int64_t batches = (stop - start) / batch_size;
  Tensor losses;  // filled batch by batch (float32 -> double -> float32 round-trips exactly)
  auto make_losses = [&](const Tensor& loss) {  // (checks the loss first)
    if (!loss.defined() || loss.numel() != 1 || !is_floating(loss.dtype()))
      throw std::invalid_argument("gdcore.compile: run_epoch needs the step's loss to be a one-element float tensor");
    if (!losses.defined()) losses = Tensor::empty({batches}, loss.dtype());
  };
  auto store_loss = [&](int64_t b, const Tensor& loss) {
    make_losses(loss);
    const int64_t k = (b - start) / batch_size;
    if (loss.dtype() == DType::Float64) losses.data<double>()[k] = *loss.data<double>();
    else losses.data<float>()[k] = *loss.data<float>();
  };
  // The lowered step, when it can take the rows as they are: the rest of the epoch runs in
  // LoweredStep::run_rows (lowered_epoch.cpp) under the lock, from the first batch that the
  // lowered step may run. A batch it cannot run goes op by op (unlocked), and the next batch
  // tries again. (The step is lowered at its first replay, which may be the first batch here.)
  // can_run() is asked once for the rest of the epoch: a lowered run leaves the .grad state it
  // checks as it found it (the trace's end state), and another thread changing .grad while an
  // epoch trains those parameters would race with the updates whether or not it were asked per row.
  const int64_t* rows = order.dtype() == DType::Int64 && order.is_contiguous() ? order.data<int64_t>() : nullptr;
  bool lowered = false, rows_checked = false;
  std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
  std::vector<Tensor> batch(data.size());
  for (int64_t b = start; b < stop; b += batch_size) {
    if (lowered_ && rows && !rows_checked) {
      rows_checked = true;
      lowered = lowered_->prepare_rows(data, batch_size);
      if (lowered) check_constants();
    }
    if (lowered && !lock.owns_lock()) lock.lock();
    if (lowered && lowered_->can_run()) {
      const Tensor& loss = lowered_->output(*this, loss_output);
      make_losses(loss);
      lowered_->check_rows(rows + b, stop - b);
      const int64_t k = (b - start) / batch_size, left = (stop - b) / batch_size;
      PauseGuard pause;
      if (loss.dtype() == DType::Float64)
        lowered_->run_rows(rows + b, left, batch_size, loss.data<double>(), losses.data<double>() + k);
      else
        lowered_->run_rows(rows + b, left, batch_size, loss.data<float>(), losses.data<float>() + k);
      replays_ += left;
      break;
    }
    if (lock.owns_lock()) lock.unlock();  // replay() takes it
    Tensor idx;
    {
      PauseGuard pause;
      NoGradGuard no_grad;
      std::vector<IndexItem> items(1);
      items[0].kind = IndexItem::Slice;
      items[0].start = b;
      items[0].stop = b + batch_size;
      idx = index(order, items);
      for (size_t i = 0; i < data.size(); ++i) batch[i] = index_select(data[i], 0, idx);
    }
    store_loss(b, replay(batch)[loss_output]);
  }
  return losses;
}

std::string Program::describe() const {
  std::string s;
  for (const Entry& e : entries_) {
    s += e.what + "(";
    for (size_t k = 0; k < e.in.size(); ++k) s += (k ? ", " : "") + std::to_string(e.in[k]);
    s += ")";
    if (!e.out.empty()) {
      s += " -> ";
      for (size_t k = 0; k < e.out.size(); ++k) s += (k ? ", " : "") + std::to_string(e.out[k]);
    }
    s += e.grad_mode ? "\n" : "  [no_grad]\n";
  }
  return s;
}

}  // namespace gdcore::capture
