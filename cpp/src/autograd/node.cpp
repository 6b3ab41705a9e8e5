// Recording ops into the graph, saving tensors for backward, and freeing long
// chains of nodes without recursion.
#include <atomic>
#include <stdexcept>

#include "gdcore/autograd.hpp"
#include "gdcore/capture.hpp"
#include "gdcore/custom_function.hpp"
#include "gdcore/grad_mode.hpp"
#include "gdcore/kernel_trace.hpp"
#include "gdcore/object_pool.hpp"

namespace gdcore {

namespace {
std::atomic<uint64_t> next_sequence{1};
}

void link_inputs(Node& node, const Tensor* inputs, size_t count) {
  node.inputs.reserve(count);
  node.input_shapes.reserve(count);
  node.input_dtypes.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const Tensor& t = inputs[i];
    Edge e;
    if (t.defined() && t.requires_grad()) {
      if (t.grad_fn()) {
        e.fn = t.grad_fn();
        e.output_nr = t.impl()->output_nr;
      } else {
        e.leaf = t.impl();
      }
    }
    node.inputs.push_back(std::move(e));
    node.input_shapes.push_back(t.defined() ? t.shape() : Shape{});
    node.input_dtypes.push_back(t.defined() ? t.dtype() : DType::Float32);
  }
  node.sequence = next_sequence.fetch_add(1, std::memory_order_relaxed);
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

namespace {

std::shared_ptr<Node> record_range(const OpDef& op, const Tensor* inputs, size_t count, Tensor& output) {
  if (trace::active()) trace::on_op(op);  // gdcore.compile is lowering a step
  bool needs_grad = false;
  for (size_t i = 0; i < count && !needs_grad; ++i) needs_grad = inputs[i].defined() && inputs[i].requires_grad();
  if (!GradMode::is_enabled() || !needs_grad)
    return capture::is_capturing()
               ? capture::on_record(op, std::vector<Tensor>(inputs, inputs + count), output, nullptr)
               : nullptr;
  auto node = make_pooled<Node>();
  node->op = &op;
  link_inputs(*node, inputs, count);
  node->output_shape = output.shape();
  node->output_dtype = output.dtype();
  output.impl()->requires_grad = true;
  output.impl()->grad_fn = node;
  output.impl()->output_nr = 0;
  if (capture::is_capturing())  // gdcore.compile
    capture::on_record(op, std::vector<Tensor>(inputs, inputs + count), output, node);
  return node;
}

}  // namespace

std::shared_ptr<Node> record(const OpDef& op, std::initializer_list<Tensor> inputs, Tensor& output) {
  return record_range(op, inputs.begin(), inputs.size(), output);
}

std::shared_ptr<Node> record(const OpDef& op, const std::vector<Tensor>& inputs, Tensor& output) {
  return record_range(op, inputs.data(), inputs.size(), output);
}

void save(Node& node, const Tensor& t, bool is_output) {
  SavedTensor s;
  s.tensor = is_output ? t.detach() : t;
  s.version = t.version();
  s.is_output = is_output;
  node.saved.push_back(std::move(s));
}

Tensor Node::saved_tensor(size_t i) {
  if (released)
    throw std::runtime_error(
        std::string("trying to backward through the graph a second time (") + op->name +
        " has already freed its saved tensors). Saved values are freed by backward() and autograd.grad(); "
        "pass retain_graph=True to the first backward call if you need to backward through the graph again");
  SavedTensor& s = saved.at(i);
  if (s.tensor.version() != s.version)
    throw std::runtime_error(
        std::string("one of the tensors needed for gradient computation has been modified by an in-place "
                    "operation: a tensor of shape ") + shape_str(s.tensor.shape()) + " saved by " + op->name +
        " is at version " + std::to_string(s.tensor.version()) + "; expected version " + std::to_string(s.version) +
        ". Clone it before changing it in place, or make the in-place change after backward()");
  if (s.is_output && GradMode::is_enabled() && self) {
    // Re-attach the output to this node so that a recorded backward differentiates through it.
    Tensor t = s.tensor.detach();
    t.impl()->requires_grad = true;
    t.impl()->grad_fn = self;
    return t;
  }
  return s.tensor;
}

Node::~Node() {
  // Releasing a node can release its inputs' nodes, and so on down a chain of any depth.
  // Every node this one keeps alive (through an edge, or through a saved tensor that only
  // this node holds) is moved into `pending` before the members are destroyed, so member
  // destruction never recurses; the outermost destructor releases them in a loop.
  // A custom Function's backward object is released in the same loop: it owns what its
  // Function saved (inputs with their own graphs), so releasing it inside this destructor
  // would recurse down a chain of Functions.
  thread_local std::vector<std::shared_ptr<Node>> pending;
  thread_local std::vector<std::shared_ptr<CustomFunction>> pending_custom;
  thread_local bool draining = false;
  for (Edge& e : inputs)
    if (e.fn) pending.push_back(std::move(e.fn));
  for (SavedTensor& s : saved)
    if (s.tensor.defined() && s.tensor.impl().use_count() == 1 && s.tensor.impl()->grad_fn)
      pending.push_back(std::move(s.tensor.impl()->grad_fn));
  if (custom) pending_custom.push_back(std::move(custom));
  if (draining) return;
  draining = true;
  while (!pending.empty() || !pending_custom.empty()) {
    if (!pending.empty()) {
      std::shared_ptr<Node> n = std::move(pending.back());
      pending.pop_back();
      n.reset();  // may push more nodes onto `pending`
    } else {
      std::shared_ptr<CustomFunction> c = std::move(pending_custom.back());
      pending_custom.pop_back();
      c.reset();  // may push more nodes onto `pending`
    }
  }
  draining = false;
}

}  // namespace gdcore
