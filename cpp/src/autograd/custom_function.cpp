// Recording a custom autograd.Function's node (see gdcore/custom_function.hpp). The engine's
// side (one gradient per output, the call to CustomFunction::backward) is in engine.cpp.
#include "gdcore/custom_function.hpp"

#include <atomic>
#include <stdexcept>

#include "gdcore/capture.hpp"
#include "gdcore/grad_mode.hpp"
#include "gdcore/kernel_trace.hpp"

namespace gdcore {

// node.cpp: the node's edges to its inputs' nodes (or leaves), their shapes and dtypes, and its place
// in the creation order shared with the op table's nodes.
void link_inputs(Node& node, const Tensor* inputs, size_t count);

std::shared_ptr<Node> record_function(const std::shared_ptr<CustomFunction>& fn, const std::vector<Tensor>& inputs,
                                      const std::vector<Tensor>& outputs, const std::vector<bool>& differentiable,
                                      const FunctionApply& apply) {
  if (differentiable.size() != outputs.size())
    throw std::invalid_argument("record_function: one differentiable flag per output is needed");
  if (trace::active()) trace::unsupported("a custom autograd.Function");
  if (capture::is_capturing()) capture::on_function(fn->op().name, inputs, outputs, apply);
  bool any_output = false;
  for (size_t k = 0; k < outputs.size(); ++k) any_output = any_output || differentiable[k];
  if (!GradMode::is_enabled() || !any_requires_grad(inputs) || !any_output) return nullptr;

  auto node = std::make_shared<Node>();
  node->op = &fn->op();
  node->custom = fn;
  node->num_outputs = static_cast<uint32_t>(outputs.size());
  link_inputs(*node, inputs.data(), inputs.size());
  if (!outputs.empty()) {
    node->output_shape = outputs[0].shape();
    node->output_dtype = outputs[0].dtype();
  }
  // Every output's edges are set before any output changes (an output may be an input marked
  // dirty: its old history is what the node's edge keeps).
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (!differentiable[k]) continue;
    TensorImpl& out = *outputs[k].impl();
    out.requires_grad = true;
    out.grad_fn = node;
    out.output_nr = static_cast<uint32_t>(k);
  }
  return node;
}

}  // namespace gdcore
