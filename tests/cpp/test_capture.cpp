// Capture and replay (gdcore/capture.hpp) without Python: a step made of ops, a gradient
// from the engine and an in-place update under no_grad, captured once, replays on new
// inputs with exactly the eager step's results; a replay checks its inputs and refuses
// to run inside another capture.
#include <gtest/gtest.h>

#include "check_grad.hpp"
#include "gdcore/capture.hpp"

namespace gdcore {
namespace {

using testing::uniform;
using testing::values;

// One step of gradient descent on mean((x @ w - y)^2); returns the loss.
Tensor sgd_step(const Tensor& x, const Tensor& y, const Tensor& w) {
  Tensor loss = mse_loss(matmul(x, w), y);
  Tensor grad = run_backward({loss}, {Tensor()}, false, false, {w}, false)[0];
  NoGradGuard no_grad;
  add_(w, mul(grad, -0.1));
  return loss;
}

TEST(Capture, ReplayEqualsTheEagerStepBitForBit) {
  Tensor w_eager = uniform({3, 1}, -1, 1, 1);
  Tensor w_replay = w_eager.detach().clone_data();
  w_replay.set_requires_grad(true);

  Tensor x0 = uniform({5, 3}, -1, 1, 2, false), y0 = uniform({5, 1}, -1, 1, 3, false);
  capture::begin({x0, y0});
  Tensor captured_loss;
  try {
    captured_loss = sgd_step(x0, y0, w_replay);
  } catch (...) {
    capture::abort();
    throw;
  }
  std::shared_ptr<capture::Program> program = capture::end({captured_loss});
  EXPECT_FALSE(capture::is_capturing());
  EXPECT_EQ(values(sgd_step(x0, y0, w_eager)), values(captured_loss));

  for (uint64_t k = 0; k < 4; ++k) {
    Tensor x = uniform({5, 3}, -1, 1, 10 + k, false), y = uniform({5, 1}, -1, 1, 20 + k, false);
    Tensor eager = sgd_step(x, y, w_eager);
    std::vector<Tensor> replayed = program->replay({x, y});
    ASSERT_EQ(replayed.size(), 1u);
    EXPECT_EQ(values(eager), values(replayed[0]));
    EXPECT_EQ(values(w_eager), values(w_replay));
  }
  EXPECT_EQ(program->replays(), 4);
  // The first replay lowered the step; the later ones ran its loops (lowered_step.hpp).
  EXPECT_EQ(program->lowering(), "lowered");
}

TEST(Capture, ReplayChecksItsInputs) {
  Tensor w = uniform({3, 1}, -1, 1, 1);
  Tensor x = uniform({5, 3}, -1, 1, 2, false), y = uniform({5, 1}, -1, 1, 3, false);
  capture::begin({x, y});
  Tensor loss = sgd_step(x, y, w);
  std::shared_ptr<capture::Program> program = capture::end({loss});
  EXPECT_THROW(program->replay({x}), std::invalid_argument);
  EXPECT_THROW(program->replay({uniform({4, 3}, -1, 1, 2, false), y}), std::invalid_argument);

  capture::begin({x});
  EXPECT_THROW(program->replay({x, y}), std::runtime_error);  // not inside another capture
  capture::abort();
}

TEST(Capture, EagerOpsRecordNothingOutsideACapture) {
  EXPECT_FALSE(capture::is_capturing());
  Tensor a = uniform({2}, -1, 1, 4);
  Tensor b = mul(a, a);
  EXPECT_TRUE(b.grad_fn() != nullptr);
  NoGradGuard no_grad;
  EXPECT_TRUE(mul(a, a).grad_fn() == nullptr);  // no descriptor node leaks into eager results
}

// sum((x * w)[x > 0]^2) and its gradient: the selection's size follows each call's values.
Tensor masked_step(const Tensor& x, const Tensor& w) {
  Tensor loss = sum(pow(masked_select(mul(x, w), gt(x, scalar_tensor(0.0, x.dtype()))), 2.0));
  return run_backward({loss}, {Tensor()}, false, false, {w}, false)[0];
}

TEST(Capture, ValueSizedStepsReplayWithEachCallsSizes) {
  Tensor w = uniform({6}, -1, 1, 5);
  Tensor x0 = uniform({6}, -1, 1, 6, false);
  capture::begin({x0});
  Tensor captured;
  try {
    captured = masked_step(x0, w);
  } catch (...) {
    capture::abort();
    throw;
  }
  std::shared_ptr<capture::Program> program = capture::end({captured});
  for (uint64_t k = 0; k < 5; ++k) {  // a different number of positive entries each time (0 at k = 4)
    Tensor x = k == 4 ? mul(uniform({6}, 0.1, 1, 30, false), -1.0) : uniform({6}, -1, 1, 30 + k, false);
    EXPECT_EQ(values(masked_step(x, w)), values(program->replay({x})[0]));
  }
  EXPECT_EQ(program->lowering(), "op by op: it calls masked_select (its result's size depends on the values)");
}

TEST(Capture, ViewsOfValueSizedTensorsAreRefusedWithTheirName) {
  Tensor x = uniform({4}, -1, 1, 7, false);
  capture::begin({x});
  Tensor r;
  try {
    r = mul(reshape(nonzero(gt(x, scalar_tensor(0.0, x.dtype()))), {-1}), 2.0);
  } catch (...) {
    capture::abort();
    throw;
  }
  try {
    capture::end({r});
    FAIL() << "expected a refusal";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("applies Reshape to a tensor whose size depends on the values"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(capture::is_capturing());
}

}  // namespace
}  // namespace gdcore
