// The callback node kind (gdcore/custom_function.hpp) without Python: a C++ CustomFunction with
// two outputs gets one gradient per output (undefined where none arrived), its gradients reach
// the inputs' edges, an output changed in place keeps its output number, a backward written
// with ops records for create_graph, and a long chain of such nodes frees without recursion.
#include <gtest/gtest.h>

#include "check_grad.hpp"
#include "gdcore/custom_function.hpp"
#include "gdcore/grad_mode.hpp"

namespace gdcore {
namespace {

using testing::make;
using testing::values;

// (x * 2, x * 3) with backward 2 g0 + 3 g1, written with ops; remembers what it was given.
class TwoOutputs final : public CustomFunction {
 public:
  TwoOutputs() : CustomFunction("TwoOutputsBackward") {}
  std::vector<Tensor> backward(const std::shared_ptr<Node>&, std::vector<Tensor> g, bool retain) override {
    calls++;
    got = g;
    retained = retain;
    Tensor out;
    if (g[0].defined()) out = mul(g[0], 2.0);
    if (g[1].defined()) out = out.defined() ? add(out, mul(g[1], 3.0)) : mul(g[1], 3.0);
    return {out};
  }
  int calls = 0;
  std::vector<Tensor> got;
  bool retained = false;
};

std::vector<Tensor> apply_two(const std::shared_ptr<TwoOutputs>& fn, const Tensor& x) {
  std::vector<Tensor> outs;
  {
    NoGradGuard no_grad;
    outs = {mul(x, 2.0), mul(x, 3.0)};
  }
  record_function(fn, {x}, outs, {true, true}, nullptr);
  return outs;
}

TEST(CustomFunction, OneGradientPerOutputAndOutputNumbers) {
  auto fn = std::make_shared<TwoOutputs>();
  Tensor x = make({2}, {1.0, 2.0}, true);
  std::vector<Tensor> y = apply_two(fn, x);
  ASSERT_EQ(y[0].grad_fn(), y[1].grad_fn());
  EXPECT_EQ(y[0].impl()->output_nr, 0u);
  EXPECT_EQ(y[1].impl()->output_nr, 1u);
  EXPECT_EQ(std::string(y[0].grad_fn()->op->name), "TwoOutputsBackward");

  run_backward({sum(y[1])}, {Tensor()}, false, false, {}, false);  // only the second output
  ASSERT_EQ(fn->calls, 1);
  EXPECT_FALSE(fn->got[0].defined());
  EXPECT_EQ(values(fn->got[1]), (std::vector<double>{1.0, 1.0}));
  EXPECT_FALSE(fn->retained);
  EXPECT_EQ(values(x.grad()), (std::vector<double>{3.0, 3.0}));
}

TEST(CustomFunction, InPlaceChangeOfTheSecondOutputKeepsItsNumber) {
  auto fn = std::make_shared<TwoOutputs>();
  Tensor x = make({2}, {1.0, 2.0}, true);
  std::vector<Tensor> y = apply_two(fn, x);
  mul_(y[1], make({2}, {5.0, 7.0}));
  std::vector<Tensor> g = run_backward({sum(y[1])}, {Tensor()}, false, false, {x}, false);
  EXPECT_EQ(values(g[0]), (std::vector<double>{15.0, 21.0}));
}

TEST(CustomFunction, BackwardWithOpsRecordsForCreateGraph) {
  auto fn = std::make_shared<TwoOutputs>();
  Tensor x = make({1}, {1.5}, true);
  std::vector<Tensor> y = apply_two(fn, x);
  Tensor f = add(mul(y[0], y[0]), y[1]);  // 4 x^2 + 3 x: f' = 8 x + 3, f'' = 8
  Tensor g = run_backward({sum(f)}, {Tensor()}, true, true, {x}, false)[0];
  EXPECT_EQ(values(g), (std::vector<double>{8 * 1.5 + 3}));
  Tensor h = run_backward({sum(g)}, {Tensor()}, false, false, {x}, false)[0];
  EXPECT_EQ(values(h), (std::vector<double>{8.0}));
}

TEST(CustomFunction, NothingRecordedWithoutGradOrWithGradModeOff) {
  auto fn = std::make_shared<TwoOutputs>();
  Tensor x = make({1}, {1.0}, false);
  std::vector<Tensor> outs = {mul(x, 2.0), mul(x, 3.0)};
  EXPECT_EQ(record_function(fn, {x}, outs, {true, true}, nullptr), nullptr);
  Tensor w = make({1}, {1.0}, true);
  NoGradGuard no_grad;
  EXPECT_EQ(record_function(fn, {w}, outs, {true, true}, nullptr), nullptr);
  EXPECT_FALSE(outs[0].requires_grad());
}

// A backward that saves its input (as a Python ctx would) chained 200,000 times: backward and
// release both run as loops, never recursing once per node.
class SavesInput final : public CustomFunction {
 public:
  explicit SavesInput(Tensor saved) : CustomFunction("SavesInputBackward"), saved_(std::move(saved)) {}
  std::vector<Tensor> backward(const std::shared_ptr<Node>&, std::vector<Tensor> g, bool) override {
    return {g[0]};
  }

 private:
  Tensor saved_;
};

TEST(CustomFunction, LongChainBackwardsAndFreesWithoutRecursion) {
  Tensor x = make({1}, {1.0}, true);
  Tensor y = x;
  for (int k = 0; k < 200000; ++k) {
    Tensor out;
    {
      NoGradGuard no_grad;
      out = y.detach().clone_data();
    }
    record_function(std::make_shared<SavesInput>(y), {y}, {out}, {true}, nullptr);
    y = out;
  }
  run_backward({sum(y)}, {Tensor()}, true, false, {}, false);
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1.0}));
  y = Tensor();  // each node's function owns the previous output and so the previous node
}

}  // namespace
}  // namespace gdcore
