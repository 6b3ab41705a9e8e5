// The scalar tape's ops and its reverse sweep (see gdcore/scalar_tape.hpp for why Value has
// a tape of its own). kScalarOps is the whole calculus on one screen: each op's forward
// next to its local derivative. backward() collects the nodes the root depends on with an
// explicit stack (no recursion), then runs one loop over them in reverse topological order.
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autograd/scalar_pool.hpp"

namespace gdcore::scalar {
namespace {

// forward(a, b): a is the first Value's data; b the second Value's data or the constant.
// backward(n, g): g is d(root)/d(n) for this pass; adds g * d(n)/d(input) to each input.
struct ScalarOpDef {
  const char* name;
  int values;      // Values taken: 0 (leaf), 1 (with or without a constant) or 2
  bool constant;   // takes a number (kept in ScalarNode::constant)
  double (*forward)(double a, double b);
  void (*backward)(ScalarNode& n, double g);
};

// Shorthands for the table: the inputs and the constant of node n.
#define A (*n.a)
#define B (*n.b)
#define C n.constant
// clang-format off
constexpr ScalarOpDef kScalarOps[] = {
  // name        values const  forward                                       backward
  {"leaf",       0, false, nullptr,                                      [](ScalarNode&, double) {}},
  {"add",        2, false, [](double a, double b) { return a + b; },     [](ScalarNode& n, double g) { A.pending += g; B.pending += g; }},
  {"sub",        2, false, [](double a, double b) { return a - b; },     [](ScalarNode& n, double g) { A.pending += g; B.pending -= g; }},
  {"mul",        2, false, [](double a, double b) { return a * b; },     [](ScalarNode& n, double g) { A.pending += g * B.data; B.pending += g * A.data; }},
  // d(a/b)/db = -a/b^2 = -(a/b)/b
  {"div",        2, false, [](double a, double b) { return a / b; },     [](ScalarNode& n, double g) { const double gb = g / B.data; A.pending += gb; B.pending -= gb * n.data; }},
  {"add_const",  1, true,  [](double a, double c) { return a + c; },     [](ScalarNode& n, double g) { A.pending += g; }},
  {"sub_const",  1, true,  [](double a, double c) { return a - c; },     [](ScalarNode& n, double g) { A.pending += g; }},
  {"rsub_const", 1, true,  [](double a, double c) { return c - a; },     [](ScalarNode& n, double g) { A.pending -= g; }},
  {"mul_const",  1, true,  [](double a, double c) { return a * c; },     [](ScalarNode& n, double g) { A.pending += g * C; }},
  {"div_const",  1, true,  [](double a, double c) { return a / c; },     [](ScalarNode& n, double g) { A.pending += g / C; }},
  // d(c/a)/da = -c/a^2 = -(c/a)/a
  {"rdiv_const", 1, true,  [](double a, double c) { return c / a; },     [](ScalarNode& n, double g) { A.pending -= g * n.data / A.data; }},
  // d(a^c)/da = c a^(c-1); 0 for c = 0 even at a = 0, as torch does
  {"pow_const",  1, true,  [](double a, double c) { return std::pow(a, c); },
                                                                         [](ScalarNode& n, double g) { if (C != 0.0) A.pending += g * C * std::pow(A.data, C - 1.0); }},
  {"neg",        1, false, [](double a, double) { return -a; },          [](ScalarNode& n, double g) { A.pending -= g; }},
  // relu keeps NaN (as micrograd and torch do); its derivative is 0 at 0
  {"relu",       1, false, [](double a, double) { return a < 0.0 ? 0.0 : a; },
                                                                         [](ScalarNode& n, double g) { if (n.data > 0.0) A.pending += g; }},
  {"tanh",       1, false, [](double a, double) { return std::tanh(a); }, [](ScalarNode& n, double g) { A.pending += g * (1.0 - n.data * n.data); }},
  {"exp",        1, false, [](double a, double) { return std::exp(a); },  [](ScalarNode& n, double g) { A.pending += g * n.data; }},
  // log of a negative number is NaN and log(0) is -inf, as numpy gives
  {"log",        1, false, [](double a, double) { return std::log(a); },  [](ScalarNode& n, double g) { A.pending += g / A.data; }},
  {"sigmoid",    1, false, [](double a, double) { return 1.0 / (1.0 + std::exp(-a)); },
                                                                         [](ScalarNode& n, double g) { A.pending += g * n.data * (1.0 - n.data); }},
};
// clang-format on
#undef A
#undef B
#undef C
static_assert(std::size(kScalarOps) == static_cast<std::size_t>(ScalarOp::Count), "one kScalarOps entry per ScalarOp");

const ScalarOpDef& def_of(ScalarOp op, int values, bool constant) {
  const auto i = static_cast<std::size_t>(op);
  if (i >= std::size(kScalarOps) || kScalarOps[i].values != values || kScalarOps[i].constant != constant || values == 0)
    throw std::invalid_argument("scalar tape: op " + std::to_string(i) + " does not take " + std::to_string(values) +
                                " Value(s)" + (constant ? " and a number" : ""));
  return kScalarOps[i];
}

ScalarNode* new_node(ScalarOp op, double data) {
  ScalarNode* n = detail::take_node();
  n->data = data;
  n->grad = 0.0;
  n->pending = 0.0;
  n->refs = 1;
  n->op = op;
  n->queued = false;
  return n;
}

}  // namespace

ScalarNode* make_leaf(double data) {
  ScalarNode* n = new_node(ScalarOp::Leaf, data);
  n->a = nullptr;
  n->b = nullptr;
  return n;
}

ScalarNode* apply(ScalarOp op, ScalarNode* a) {
  ScalarNode* n = new_node(op, def_of(op, 1, false).forward(a->data, 0.0));
  n->a = a;
  n->b = nullptr;
  retain(a);
  return n;
}

ScalarNode* apply(ScalarOp op, ScalarNode* a, ScalarNode* b) {
  ScalarNode* n = new_node(op, def_of(op, 2, false).forward(a->data, b->data));
  n->a = a;
  n->b = b;
  retain(a);
  retain(b);
  return n;
}

ScalarNode* apply(ScalarOp op, ScalarNode* a, double constant) {
  ScalarNode* n = new_node(op, def_of(op, 1, true).forward(a->data, constant));
  n->a = a;
  n->constant = constant;
  retain(a);
  return n;
}

void release_graph(ScalarNode* n) {
  // Dead nodes wait in a list linked through `next`, so a long chain frees without recursion.
  n->next = nullptr;
  ScalarNode* dead = n;
  while (dead) {
    ScalarNode* d = dead;
    dead = d->next;
    const int inputs = value_inputs(d->op);
    ScalarNode* in[2] = {d->a, inputs == 2 ? d->b : nullptr};
    detail::give_node(d);
    for (int i = 0; i < inputs; ++i) {
      if (--in[i]->refs == 0) {
        in[i]->next = dead;
        dead = in[i];
      }
    }
  }
}

void backward(ScalarNode* root) {
  // Post-order DFS with an explicit stack: every node lands in `order` after all its inputs,
  // so walking `order` backwards visits each node before the nodes it was computed from.
  std::vector<ScalarNode*> order;
  std::vector<std::pair<ScalarNode*, int>> stack;  // node, index of the next input to visit
  try {
    root->queued = true;
    stack.push_back({root, 0});
    while (!stack.empty()) {
      auto& [node, next_input] = stack.back();
      if (next_input < value_inputs(node->op)) {
        ScalarNode* p = next_input++ == 0 ? node->a : node->b;
        if (!p->queued) {
          p->queued = true;
          stack.push_back({p, 0});
          // Nodes are scattered in memory: start loading the inputs visited next.
          const int inputs = value_inputs(p->op);
          if (inputs > 0) __builtin_prefetch(p->a);
          if (inputs > 1) __builtin_prefetch(p->b);
        }
      } else {
        order.push_back(node);
        stack.pop_back();
      }
    }
  } catch (...) {  // out of memory: leave every node as it was
    for (auto& entry : stack) entry.first->queued = false;
    for (ScalarNode* n : order) n->queued = false;
    throw;
  }
  root->pending = 1.0;
  constexpr std::ptrdiff_t kAhead = 8;  // prefetch distance, in nodes
  for (std::ptrdiff_t i = static_cast<std::ptrdiff_t>(order.size()) - 1; i >= 0; --i) {
    if (i >= kAhead) __builtin_prefetch(order[i - kAhead], 1);
    ScalarNode& n = *order[i];
    const double g = n.pending;
    n.pending = 0.0;
    n.queued = false;
    n.grad += g;
    kScalarOps[static_cast<std::size_t>(n.op)].backward(n, g);
  }
}

const char* op_name(ScalarOp op) {
  const auto i = static_cast<std::size_t>(op);
  return i < std::size(kScalarOps) ? kScalarOps[i].name : "unknown";
}

}  // namespace gdcore::scalar
