// The scalar tape: reverse-mode autodiff for single float64 numbers (gdcore.Value).
//
// Why a tape of its own: a scalar op must cost tens of nanoseconds so that micrograd-style
// code (one op per multiply-add) runs fast. Recording it on the tensor tape costs a tensor
// allocation, a shared Node with vectors of saved tensors and a dtype dispatch: about a
// microsecond. Here a node is a fixed 48-byte record {data, grad, two input links or an
// input and a constant, op code, reference count} taken from a pooled free list (no malloc
// in steady state, following the arena idea of Stan Math and Adept), and backward is one
// plain loop over the reachable nodes.
//
// Ownership is micrograd's: a node keeps its inputs alive through intrusive reference
// counts; whoever holds a node (a Python Value, a child node, a ScalarRef) owns one count,
// and a graph is returned to the pool when its last holder lets go (iteratively, so a
// 100,000-long chain is fine). Counts are not atomic: one graph is used by one thread at a
// time (the Python binding holds the GIL). Pools are per thread; a node freed on another
// thread than the one that made it simply joins that thread's free list.
#pragma once

#include <cstdint>
#include <utility>

namespace gdcore::scalar {

// One entry per op; kScalarOps in scalar_tape.cpp gives each one's forward and derivative.
enum class ScalarOp : std::uint8_t {
  Leaf,
  Add, Sub, Mul, Div,                                      // two Values
  AddConst, SubConst, RSubConst, MulConst, DivConst, RDivConst, PowConst,  // a Value and a number
  Neg, Relu, Tanh, Exp, Log, Sigmoid,                      // one Value
  Count
};

struct ScalarNode {
  double data;          // the value computed by the forward pass
  double grad;          // d(root)/d(this), summed over backward() calls
  union {
    double pending;     // during backward: this pass's gradient, not yet added to grad
    ScalarNode* next;   // while free or being released: the next node in that list
  };
  ScalarNode* a;        // first input (null for a leaf); holds one reference
  union {
    ScalarNode* b;      // second input of Add .. Div; holds one reference
    double constant;    // the number of AddConst .. PowConst (the exponent of PowConst)
  };
  std::uint32_t refs;   // holders: Values, child nodes, ScalarRefs
  ScalarOp op;
  bool queued;          // during backward: already collected
};
static_assert(sizeof(ScalarNode) == 48, "a scalar node should stay small: its memory traffic sets the op cost");

// How many Value inputs a node of `op` has (its first `value_inputs` of a, b are nodes).
constexpr int value_inputs(ScalarOp op) {
  return op == ScalarOp::Leaf ? 0 : (op >= ScalarOp::Add && op <= ScalarOp::Div) ? 2 : 1;
}

// Node constructors: each returns a node holding one reference for the caller and adds one
// to each parent. They throw std::bad_alloc only when a new pool chunk cannot be allocated,
// and std::invalid_argument when `op` does not take that many Values.
ScalarNode* make_leaf(double data);
ScalarNode* apply(ScalarOp op, ScalarNode* a);                  // Neg .. Sigmoid
ScalarNode* apply(ScalarOp op, ScalarNode* a, ScalarNode* b);   // Add .. Div
ScalarNode* apply(ScalarOp op, ScalarNode* a, double constant); // AddConst .. PowConst

inline void retain(ScalarNode* n) { ++n->refs; }
void release_graph(ScalarNode* n);  // frees n and every ancestor that nothing else holds
inline void release(ScalarNode* n) {
  if (--n->refs == 0) release_graph(n);
}

// Adds d(root)/d(v) to v.grad for every node v that root depends on (root.grad gets 1), so
// repeated calls accumulate. Derivatives read the nodes' current data. Not recursive.
void backward(ScalarNode* root);

const char* op_name(ScalarOp op);

// Pool bookkeeping, for tests and leak checks (summed over all threads).
struct ScalarTapeStats {
  std::int64_t live_nodes;      // allocated and not yet freed
  std::int64_t reserved_nodes;  // capacity of all pool chunks (never returned to the OS)
};
ScalarTapeStats tape_stats();

// An owning handle for C++ callers (the binding keeps raw pointers inside Python objects).
class ScalarRef {
 public:
  ScalarRef() = default;
  explicit ScalarRef(double data) : n_(make_leaf(data)) {}
  static ScalarRef adopt(ScalarNode* n) { ScalarRef r; r.n_ = n; return r; }
  ScalarRef(const ScalarRef& o) : n_(o.n_) { if (n_) retain(n_); }
  ScalarRef(ScalarRef&& o) noexcept : n_(o.n_) { o.n_ = nullptr; }
  ScalarRef& operator=(ScalarRef o) noexcept { std::swap(n_, o.n_); return *this; }
  ~ScalarRef() { if (n_) release(n_); }
  ScalarNode* get() const { return n_; }
  ScalarNode* operator->() const { return n_; }

 private:
  ScalarNode* n_ = nullptr;
};

}  // namespace gdcore::scalar
