// The scalar tape (gdcore/scalar_tape.hpp) without Python: every op's derivative against
// central finite differences of its forward written with <cmath>, accumulation over backward
// calls, a 200,000-node chain, and the node pool across threads (nodes freed on another
// thread, a thread that frees far more than it builds, a thread that exits with live nodes).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <thread>
#include <vector>

#include "gdcore/scalar_tape.hpp"

namespace gdcore::scalar {
namespace {

ScalarRef leaf(double x) { return ScalarRef(x); }
ScalarRef op(ScalarOp o, const ScalarRef& a) { return ScalarRef::adopt(apply(o, a.get())); }
ScalarRef op(ScalarOp o, const ScalarRef& a, const ScalarRef& b) { return ScalarRef::adopt(apply(o, a.get(), b.get())); }
ScalarRef op(ScalarOp o, const ScalarRef& a, double c) { return ScalarRef::adopt(apply(o, a.get(), c)); }

double central(const std::function<double(double)>& f, double x) {
  const double h = 1e-6;
  return (f(x + h) - f(x - h)) / (2 * h);
}

struct UnaryCase {
  ScalarOp op;
  double constant;  // NaN: the op takes no constant
  std::function<double(double)> f;
  double x;
};

TEST(ScalarTape, UnaryAndConstantOpsMatchFiniteDifferences) {
  const double none = std::nan("");
  const std::vector<UnaryCase> cases = {
      {ScalarOp::Neg, none, [](double x) { return -x; }, 0.7},
      {ScalarOp::Relu, none, [](double x) { return x > 0 ? x : 0.0; }, 0.7},
      {ScalarOp::Relu, none, [](double x) { return x > 0 ? x : 0.0; }, -0.7},
      {ScalarOp::Tanh, none, [](double x) { return std::tanh(x); }, -0.4},
      {ScalarOp::Exp, none, [](double x) { return std::exp(x); }, 0.3},
      {ScalarOp::Log, none, [](double x) { return std::log(x); }, 1.9},
      {ScalarOp::Sigmoid, none, [](double x) { return 1 / (1 + std::exp(-x)); }, -0.6},
      {ScalarOp::AddConst, 2.5, [](double x) { return x + 2.5; }, 0.3},
      {ScalarOp::SubConst, 2.5, [](double x) { return x - 2.5; }, 0.3},
      {ScalarOp::RSubConst, 2.5, [](double x) { return 2.5 - x; }, 0.3},
      {ScalarOp::MulConst, -1.5, [](double x) { return x * -1.5; }, 0.3},
      {ScalarOp::DivConst, -1.5, [](double x) { return x / -1.5; }, 0.3},
      {ScalarOp::RDivConst, -1.5, [](double x) { return -1.5 / x; }, 0.3},
      {ScalarOp::PowConst, 3.0, [](double x) { return x * x * x; }, -1.2},
      {ScalarOp::PowConst, -0.5, [](double x) { return 1 / std::sqrt(x); }, 1.2},
  };
  for (const UnaryCase& c : cases) {
    ScalarRef x = leaf(c.x);
    ScalarRef y = std::isnan(c.constant) ? op(c.op, x) : op(c.op, x, c.constant);
    backward(y.get());
    EXPECT_NEAR(y->data, c.f(c.x), 1e-15) << op_name(c.op);
    EXPECT_NEAR(x->grad, central(c.f, c.x), 1e-7) << op_name(c.op);
  }
}

TEST(ScalarTape, BinaryOpsMatchFiniteDifferences) {
  const double a0 = 0.8, b0 = -1.7;
  const std::vector<std::pair<ScalarOp, std::function<double(double, double)>>> cases = {
      {ScalarOp::Add, [](double a, double b) { return a + b; }},
      {ScalarOp::Sub, [](double a, double b) { return a - b; }},
      {ScalarOp::Mul, [](double a, double b) { return a * b; }},
      {ScalarOp::Div, [](double a, double b) { return a / b; }},
  };
  for (const auto& [o, f] : cases) {
    ScalarRef a = leaf(a0), b = leaf(b0);
    ScalarRef y = op(o, a, b);
    backward(y.get());
    EXPECT_EQ(y->data, f(a0, b0)) << op_name(o);
    EXPECT_NEAR(a->grad, central([&](double x) { return f(x, b0); }, a0), 1e-7) << op_name(o);
    EXPECT_NEAR(b->grad, central([&](double x) { return f(a0, x); }, b0), 1e-7) << op_name(o);
  }
}

TEST(ScalarTape, WrongArityIsRejected) {
  ScalarRef a = leaf(1.0);
  EXPECT_THROW(apply(ScalarOp::Add, a.get()), std::invalid_argument);
  EXPECT_THROW(apply(ScalarOp::Tanh, a.get(), a.get()), std::invalid_argument);
  EXPECT_THROW(apply(ScalarOp::Mul, a.get(), 2.0), std::invalid_argument);
  EXPECT_THROW(apply(ScalarOp::Leaf, a.get()), std::invalid_argument);
}

TEST(ScalarTape, BackwardAccumulatesOverCalls) {
  // y = a*b + a: dy/da = b + 1, dy/db = a; twice.
  ScalarRef a = leaf(2.0), b = leaf(3.0);
  ScalarRef y = op(ScalarOp::Add, op(ScalarOp::Mul, a, b), a);
  backward(y.get());
  backward(y.get());
  EXPECT_EQ(a->grad, 8.0);
  EXPECT_EQ(b->grad, 4.0);
  EXPECT_EQ(y->grad, 2.0);
}

TEST(ScalarTape, LongChainBackwardAndReleaseWithoutRecursion) {
  const std::int64_t base = tape_stats().live_nodes;
  const int n = 200000;
  ScalarRef x = leaf(0.5);
  {
    ScalarRef c = x;
    for (int i = 0; i < n; ++i) c = op(ScalarOp::AddConst, c, 1.0);  // c = x + n
    EXPECT_EQ(tape_stats().live_nodes, base + n + 1);
    backward(c.get());
    EXPECT_EQ(c->data, 0.5 + n);
    EXPECT_EQ(x->grad, 1.0);
  }
  EXPECT_EQ(tape_stats().live_nodes, base + 1);
}

TEST(ScalarTape, NodesFreedOnAnotherThreadAreReused) {
  const std::int64_t base = tape_stats().live_nodes;
  std::int64_t reserved_after_first_round = 0;
  for (int round = 0; round < 8; ++round) {
    std::vector<ScalarRef> made;
    std::thread producer([&] {
      for (int i = 0; i < 100000; ++i) made.push_back(leaf(i));
    });
    producer.join();  // the producer exits with all its nodes alive
    std::thread consumer([&] { made.clear(); });  // frees far more than it ever made
    consumer.join();
    EXPECT_EQ(tape_stats().live_nodes, base);
    if (round == 0) reserved_after_first_round = tape_stats().reserved_nodes;
  }
  // Exited threads and surplus free lists hand their nodes back: later rounds reuse them.
  EXPECT_EQ(tape_stats().reserved_nodes, reserved_after_first_round);
}

TEST(ScalarTape, ProducerAndConsumerRunningTogetherStayBounded) {
  // Two long-lived threads: one builds, the other frees. Without the hand-back of surplus
  // free nodes, the producer would take a new chunk for every node while the consumer's
  // free list grew without end (20 rounds x 50,000 nodes).
  const std::int64_t base = tape_stats().live_nodes;
  const std::int64_t reserved_before = tape_stats().reserved_nodes;
  const int rounds = 20;
  std::vector<ScalarRef> slots(50000);
  std::atomic<int> turn{0};  // even: the producer fills; odd: the consumer empties
  auto wait_for = [&](int t) {
    while (turn.load() != t) std::this_thread::yield();
  };
  std::thread producer([&] {
    for (int r = 0; r < rounds; ++r) {
      wait_for(2 * r);
      for (auto& s : slots) s = leaf(r);
      turn.store(2 * r + 1);
    }
  });
  std::thread consumer([&] {
    for (int r = 0; r < rounds; ++r) {
      wait_for(2 * r + 1);
      for (auto& s : slots) s = ScalarRef();
      turn.store(2 * r + 2);
    }
  });
  producer.join();
  consumer.join();
  EXPECT_EQ(tape_stats().live_nodes, base);
  EXPECT_LE(tape_stats().reserved_nodes - reserved_before, 300000);
}

}  // namespace
}  // namespace gdcore::scalar
