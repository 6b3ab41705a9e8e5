// The backward pass: collect the nodes reachable from the roots, then run them in
// decreasing creation order (a node is always created after the nodes of its inputs,
// so this is a reverse topological order). A plain loop: no recursion, no Python.
#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "gdcore/autograd.hpp"
#include "gdcore/capture.hpp"
#include "gdcore/custom_function.hpp"
#include "gdcore/grad_hooks.hpp"
#include "gdcore/grad_mode.hpp"
#include "gdcore/kernel_trace.hpp"
#include "gdcore/ops.hpp"

namespace gdcore {

namespace {

// The engine's bookkeeping for one backward call, with buffers from the object pool (a small
// model's step runs one backward per step; its maps and lists would be a dozen mallocs).
template <typename K, typename V>
using NodeMap = std::unordered_map<K, V, std::hash<K>, std::equal_to<K>, PoolAllocator<std::pair<const K, V>>>;
using NodeSet = std::unordered_set<Node*, std::hash<Node*>, std::equal_to<Node*>, PoolAllocator<Node*>>;

void accumulate(Tensor& slot, const Tensor& g) { slot = slot.defined() ? add(slot, g) : g; }

// A fresh copy of `g` for a .grad slot: `g` may be a view (an expanded stride-0 gradient) or
// another tensor's memory (the user's `gradient=`), which later in-place accumulation or
// .grad.zero_() must not write through. With create_graph the copy is recorded (clone).
Tensor own_copy(const Tensor& g, bool create_graph) { return create_graph ? clone(g) : g.clone_data(); }

// True when `s` was allocated by the kernel trace being recorded (held by it, not shared).
bool held_by_trace(const std::shared_ptr<Storage>& s) {
  const trace::KernelTrace* t = trace::active();
  if (!t) return false;
  for (const auto& h : t->held)
    if (h == s) return true;
  return false;
}

// Adds `g` into a leaf's .grad the way torch does: in place when there is no history to keep.
// Under a lock: backward runs without the GIL, and two threads may backpropagate into one leaf.
// While gdcore.compile lowers a step (a kernel trace), a .grad that is set is recorded as a
// step of the trace; adding into a .grad that existed before the step cannot be lowered.
void accumulate_into_leaf(const std::shared_ptr<TensorImpl>& leaf, const Tensor& g, bool create_graph) {
  static std::mutex leaf_grad_mutex;
  std::lock_guard<std::mutex> lock(leaf_grad_mutex);
  Tensor existing(leaf->grad);
  if (!existing.defined()) {
    // A gradient nothing else holds (the fresh result of a backward rule, such as the one
    // mse_loss makes in its forward) becomes .grad as it is, as torch does: no copy pass.
    // (Contiguous too: a stride-0 expanded gradient must never become a .grad that is accumulated in place.)
    // (The storage of a gradient made while tracing is also held by the trace.)
    const long storage_refs = held_by_trace(g.impl()->storage) ? 2 : 1;
    const bool unshared = !create_graph && g.impl().use_count() == 1 &&
                          g.impl()->storage.use_count() == storage_refs && g.is_contiguous();
    leaf->grad = unshared ? g.impl() : own_copy(g, create_graph).impl();
    if (trace::KernelTrace* t = trace::active()) {
      t->grad_assignments.push_back({leaf, leaf->grad});
      t->assignment_steps.push_back(t->steps.size());
      t->steps.emplace_back([target = std::weak_ptr<TensorImpl>(leaf), grad = leaf->grad] {
        if (auto l = target.lock()) l->grad = grad;
      });
    }
  } else if (create_graph || existing.requires_grad()) {
    trace::unsupported("backward with create_graph");
    leaf->grad = add(existing, g).impl();
  } else {
    if (trace::KernelTrace* t = trace::active()) {  // a .grad set in this trace, or the leaf's at its start
      bool known = false;
      for (const auto& a : t->grad_assignments) known = known || a.second == leaf->grad;
      for (const auto& a : t->grads_bound) known = known || (a.first == leaf && a.second == leaf->grad);
      for (const auto& a : t->grads_at_start)
        if (!known && a.first == leaf && a.second == leaf->grad) {
          known = true;
          t->grads_accumulated.push_back(a);
        }
      if (!known) trace::unsupported("a gradient added into a .grad set earlier in the step by other means");
    }
    NoGradGuard guard;
    add_(existing, g);
  }
}

}  // namespace

std::vector<Tensor> run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                                 bool retain_graph, bool create_graph, const std::vector<Tensor>& inputs,
                                 bool allow_unused) {
  if (capture::is_capturing())  // gdcore.compile records the call, then runs it
    return capture::backward(roots, grad_roots, retain_graph, create_graph, inputs, allow_unused);
  if (roots.size() != grad_roots.size())
    throw std::invalid_argument("backward: got " + std::to_string(roots.size()) + " outputs but " +
                                std::to_string(grad_roots.size()) + " gradients");
  GradModeGuard mode(create_graph);
  if (create_graph) trace::unsupported("backward with create_graph");
  const bool into_leaves = inputs.empty();

  // Where results go when autograd.grad asked for specific inputs.
  NodeMap<TensorImpl*, size_t> leaf_slot;
  NodeMap<Node*, size_t> node_slot;
  struct OutputSlot {  // an input that is output `output_nr` of a node with several (custom Functions)
    Node* node;
    uint32_t output_nr;
    size_t slot;
  };
  PoolVector<OutputSlot> output_slots;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& t = inputs[k];
    if (!t.requires_grad())
      throw std::runtime_error("autograd.grad: input " + std::to_string(k) +
                               " does not require grad; call requires_grad_() on it before computing the outputs");
    if (t.grad_fn() && t.grad_fn()->num_outputs > 1) output_slots.push_back({t.grad_fn().get(), t.impl()->output_nr, k});
    else if (t.grad_fn()) node_slot[t.grad_fn().get()] = k;
    else leaf_slot[t.get()] = k;
  }
  std::vector<Tensor> results(inputs.size());

  // Leaves with Tensor.register_hook functions: their gradient is summed here and passed through the hooks
  // after the loop (once per backward, as torch runs them), then goes where a leaf's gradient goes.
  NodeMap<TensorImpl*, std::pair<std::shared_ptr<TensorImpl>, std::pair<std::shared_ptr<GradHookList>, Tensor>>>
      hooked_leaves;
  NodeMap<Node*, Tensor> buffers;
  NodeMap<Node*, std::vector<Tensor>> output_buffers;  // nodes with several outputs: one gradient per output
  auto deliver = [&](const Edge& e, const Tensor& g) {
    if (e.fn && e.fn->num_outputs > 1) {
      std::vector<Tensor>& b = output_buffers[e.fn.get()];
      b.resize(e.fn->num_outputs);
      accumulate(b.at(e.output_nr), g);
    } else if (e.fn) {
      accumulate(buffers[e.fn.get()], g);
    } else if (auto leaf = e.leaf.lock()) {
      if (auto hooks = leaf_hooks(leaf); hooks && !hooks->empty()) {  // its hooks see the summed gradient, at the end
        auto& pending = hooked_leaves[leaf.get()];
        pending.first = leaf;
        pending.second.first = std::move(hooks);
        accumulate(pending.second.second, g);
      } else if (into_leaves) {
        accumulate_into_leaf(leaf, g, create_graph);
      } else {
        auto it = leaf_slot.find(leaf.get());
        if (it != leaf_slot.end()) accumulate(results[it->second], g);
      }
    }
  };

  // Seed the roots and collect every reachable node.
  PoolVector<std::shared_ptr<Node>> nodes;
  NodeSet seen;
  PoolVector<Node*> stack;
  for (size_t r = 0; r < roots.size(); ++r) {
    const Tensor& root = roots[r];
    if (!root.requires_grad())
      throw std::runtime_error("element " + std::to_string(r) +
                               " of tensors does not require grad and does not have a grad_fn: nothing to "
                               "differentiate. Create the inputs with requires_grad=True (or call requires_grad_())");
    Tensor g = grad_roots[r];
    if (!g.defined()) {
      if (root.numel() != 1)
        throw std::runtime_error("grad can be implicitly created only for scalar outputs; this output has shape " +
                                 shape_str(root.shape()) + ": pass gradient= (a tensor of that shape) to backward()");
      g = ones(root.shape(), root.dtype());
    } else if (g.shape() != root.shape()) {
      throw std::invalid_argument("backward: gradient has shape " + shape_str(g.shape()) +
                                  " but the output has shape " + shape_str(root.shape()) + "; they must match");
    }
    if (g.dtype() != root.dtype()) g = to_dtype(g, root.dtype());
    Edge e;
    if (root.grad_fn()) {
      e.fn = root.grad_fn();
      e.output_nr = root.impl()->output_nr;
    } else {
      e.leaf = root.impl();
    }
    deliver(e, g);
    if (!e.fn) continue;
    if (seen.insert(e.fn.get()).second) {
      nodes.push_back(e.fn);
      stack.push_back(e.fn.get());
    }
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->inputs)
      if (e.fn && seen.insert(e.fn.get()).second) {
        nodes.push_back(e.fn);
        stack.push_back(e.fn.get());
      }
  }
  std::sort(nodes.begin(), nodes.end(),
            [](const std::shared_ptr<Node>& a, const std::shared_ptr<Node>& b) { return a->sequence > b->sequence; });

  for (const std::shared_ptr<Node>& node : nodes) {
    // The gradient(s) that reached the node: one, or one per output for a node with several.
    Tensor g;
    std::vector<Tensor> gs;
    if (node->num_outputs > 1) {
      auto it = output_buffers.find(node.get());
      if (it == output_buffers.end()) continue;  // no gradient reached this node
      gs = std::move(it->second);
      output_buffers.erase(it);
      if (auto hooks = node_hooks(node); hooks && !hooks->empty()) {
        trace::unsupported("a tensor hook (register_hook)");
        for (size_t k = 0; k < gs.size(); ++k) gs[k] = hooks->run(static_cast<uint32_t>(k), std::move(gs[k]));
      }
      if (!into_leaves)
        for (const OutputSlot& o : output_slots)
          if (o.node == node.get() && gs[o.output_nr].defined()) accumulate(results[o.slot], gs[o.output_nr]);
    } else {
      auto it = buffers.find(node.get());
      if (it == buffers.end()) continue;  // no gradient reached this node
      g = std::move(it->second);
      buffers.erase(it);
      if (auto hooks = node_hooks(node); hooks && !hooks->empty()) {
        trace::unsupported("a tensor hook (register_hook)");
        g = hooks->run(0, std::move(g));
      }
      if (!into_leaves) {
        auto slot = node_slot.find(node.get());
        if (slot != node_slot.end()) accumulate(results[slot->second], g);
      }
    }
    if (auto out = node->retained_output.lock()) {
      const Tensor& go = node->num_outputs > 1 ? gs[out->output_nr] : g;
      Tensor existing(out->grad);
      if (go.defined()) out->grad = (existing.defined() ? add(existing, go) : own_copy(go, create_graph)).impl();
    }
    node->self = node;
    std::vector<Tensor> grads;
    try {
      if (node->custom) {  // a custom Function: its backward takes every output's gradient
        if (node->num_outputs <= 1) gs.assign(1, std::move(g));
        grads = node->custom->backward(node, std::move(gs), retain_graph);
      } else {
        grads = node->op->backward(*node, g);
      }
    } catch (...) {
      node->self.reset();
      throw;
    }
    node->self.reset();
    g = Tensor();  // a rule that returns a view of g (reshape, squeeze) then hands over memory no one else holds
    for (size_t i = 0; i < node->inputs.size() && i < grads.size(); ++i) {
      if (!grads[i].defined() || !node->inputs[i].needs_grad()) continue;
      Tensor gi = std::move(grads[i]);  // the only reference left, unless the rule shared it
      if (gi.shape() != node->input_shapes[i])
        throw std::logic_error(std::string("internal error: ") + node->op->name + " returned a gradient of shape " +
                               shape_str(gi.shape()) + " for an input of shape " + shape_str(node->input_shapes[i]));
      if (gi.dtype() != node->input_dtypes[i]) gi = to_dtype(gi, node->input_dtypes[i]);
      deliver(node->inputs[i], gi);
    }
    if (!retain_graph) {
      node->saved.clear();
      node->released = true;
    }
  }

  for (auto& [impl, pending] : hooked_leaves) {
    const bool wanted = into_leaves || leaf_slot.count(impl);
    if (!wanted) continue;  // (autograd.grad for other inputs: this leaf's gradient is not used)
    trace::unsupported("a tensor hook (register_hook)");
    Tensor g = pending.second.first->run(0, std::move(pending.second.second));
    if (into_leaves) accumulate_into_leaf(pending.first, g, create_graph);
    else accumulate(results[leaf_slot[impl]], g);
  }

  if (!into_leaves) {
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (!results[k].defined() && !allow_unused)
        throw std::runtime_error("autograd.grad: input " + std::to_string(k) +
                                 " was not used to compute the outputs; pass allow_unused=True to get None for it");
      if (results[k].defined() && !create_graph) results[k] = results[k].detach();
    }
  }
  return results;
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < grad.dim(); ++d) {
    if (d < lead) dims.push_back(d);
    else if (shape[d - lead] == 1 && grad.shape()[d] != 1) dims.push_back(d);
  }
  Tensor s = dims.empty() ? grad : sum(grad, dims, /*keepdim=*/true);
  return s.shape() == shape ? s : reshape(s, shape);
}

}  // namespace gdcore
