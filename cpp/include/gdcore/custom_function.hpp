// A node kind whose backward is code from above the core: a custom autograd.Function, whose
// forward and backward are Python. The core declares the interface and records the node; the
// bindings (cpp/bindings/function.cpp) implement it by calling Python with the GIL held for that
// call only, so the core includes no Python header and the engine keeps its plain loop.
//
// Such a node may have several outputs: each output tensor remembers its index (output_nr),
// each edge that reaches the node says which output it reached, and the engine hands the
// backward one gradient per output. gdcore.compile records an application as one entry of its
// program that calls the Function again at each replay (op by op: it is never lowered).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gdcore/autograd.hpp"

namespace gdcore {

class CustomFunction {
 public:
  explicit CustomFunction(std::string name) : name_(std::move(name)) { op_.name = name_.c_str(); }
  virtual ~CustomFunction() = default;
  CustomFunction(const CustomFunction&) = delete;
  CustomFunction& operator=(const CustomFunction&) = delete;

  // The node's name (grad_fn's name(), error messages): "<Function>Backward".
  const OpDef& op() const { return op_; }
  // `grad_outputs` has one gradient per output (undefined where none reached it). Returns one
  // gradient per input edge of `node` (undefined where there is none). `retain_graph` false
  // means this is the last backward through the node: it may free what it saved.
  virtual std::vector<Tensor> backward(const std::shared_ptr<Node>& node, std::vector<Tensor> grad_outputs,
                                       bool retain_graph) = 0;

 private:
  std::string name_;
  OpDef op_{nullptr, nullptr};  // no table rule: the engine calls backward() above
};

// Runs the Function again on new tensor inputs and returns its tensor outputs (gdcore.compile's replay).
using FunctionApply = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs)>;

// Records `fn` applied to `inputs` (the Function's tensor arguments, in order), which produced
// `outputs`. When grad mode is on and an input requires grad, builds the node (one edge per input)
// and makes it the grad_fn of every output with differentiable[i] set (the others get no history);
// returns the node, or null when nothing is recorded. Outputs must be tensors no other graph
// owns (fresh results, or aliases the caller made). While gdcore.compile captures, `apply` is
// recorded as one step of the program (see capture::on_function).
std::shared_ptr<Node> record_function(const std::shared_ptr<CustomFunction>& fn, const std::vector<Tensor>& inputs,
                                      const std::vector<Tensor>& outputs, const std::vector<bool>& differentiable,
                                      const FunctionApply& apply);

}  // namespace gdcore
