// The autograd graph. Every op that needs a gradient appends a Node: plain data
// (which op, edges to the nodes of its inputs, saved tensors, small attributes).
// Backward (engine.cpp) is a loop over the nodes in reverse topological order;
// each op's backward rule is written with differentiable ops, so running it with
// grad mode on (create_graph) records the backward pass for higher derivatives.
#pragma once
#include <initializer_list>
#include <memory>
#include <vector>

#include "gdcore/object_pool.hpp"
#include "gdcore/tensor.hpp"

namespace gdcore {

struct Node;
class CustomFunction;  // custom_function.hpp

// Returns one gradient per input (undefined where that input needs none).
using BackwardFn = std::vector<Tensor> (*)(Node& node, const Tensor& grad_output);

// One entry of the op table: a name (shown as grad_fn) and the backward rule,
// defined next to the op's forward in ops/<family>.cpp.
struct OpDef {
  const char* name;
  BackwardFn backward;
};

// Where an input's gradient goes: the node that produced it, or a leaf to accumulate into.
struct Edge {
  std::shared_ptr<Node> fn;
  std::weak_ptr<TensorImpl> leaf;
  uint32_t output_nr = 0;  // which output of `fn` (only custom Functions have several)
  bool needs_grad() const { return fn != nullptr || !leaf.expired(); }
};

// A tensor kept for backward, with the version it had when saved so that a later
// in-place change is caught instead of giving a wrong gradient.
struct SavedTensor {
  Tensor tensor;          // inputs as they are; outputs detached (to avoid a cycle)
  uint64_t version = 0;
  bool is_output = false;
};

struct OpAttrs {
  std::vector<int64_t> ints;
  std::vector<double> reals;
  Shape shape;
  std::vector<Shape> shapes;
};

struct Node {
  const OpDef* op = nullptr;
  // (buffers from the pool: a node is made per op and freed per step)
  PoolVector<Edge> inputs;  // one per differentiable input, in the op's argument order
  PoolVector<Shape> input_shapes;
  PoolVector<DType> input_dtypes;
  PoolVector<SavedTensor> saved;
  OpAttrs attrs;
  Shape output_shape;
  DType output_dtype = DType::Float32;
  bool released = false;  // saved tensors freed by a backward without retain_graph
  uint64_t sequence = 0;  // creation order (later nodes run first among ready ones)

  ~Node();  // tears long chains down iteratively (no recursion, no stack overflow)

  bool needs_input_grad(size_t i) const { return inputs[i].needs_grad(); }
  // The i-th saved tensor, checked against in-place modification and release.
  Tensor saved_tensor(size_t i);
  std::shared_ptr<Node> self;  // set only while the engine runs this node (for saved outputs)
  std::weak_ptr<TensorImpl> retained_output;  // a non-leaf output whose .grad is kept (retain_grad)
  // A custom autograd.Function's node (custom_function.hpp): its backward is this function
  // object, which may have several outputs; null for the ops of the op table.
  std::shared_ptr<CustomFunction> custom;
  uint32_t num_outputs = 1;
};

// Builds the node for an op whose `inputs` produced `output`, when grad mode is on and any
// input requires grad. Returns null (and records nothing) otherwise. The op then fills
// saved tensors and attributes through the returned node.
// (The initializer_list form, `record(kMul, {a, b}, out)`, is what ops use: no vector is allocated.)
std::shared_ptr<Node> record(const OpDef& op, std::initializer_list<Tensor> inputs, Tensor& output);
std::shared_ptr<Node> record(const OpDef& op, const std::vector<Tensor>& inputs, Tensor& output);
// Saves a tensor for backward; `is_output` marks the node's own output.
void save(Node& node, const Tensor& t, bool is_output = false);
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Runs backward from `roots` seeded with `grad_roots`. When `inputs` is empty, gradients are
// accumulated into the leaves' .grad; otherwise they are returned for `inputs` (autograd.grad)
// and no .grad is touched.
std::vector<Tensor> run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                                 bool retain_graph, bool create_graph,
                                 const std::vector<Tensor>& inputs, bool allow_unused);

// Reduces a broadcast gradient back to `shape` (sums over broadcast dims).
Tensor sum_to(const Tensor& grad, const Shape& shape);

}  // namespace gdcore
