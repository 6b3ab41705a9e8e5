// The collective step (gdcore/collective.hpp) without MPI or Python: a Collective made of a
// lambda stands in for the ranks (every element times 3, as a sum over 3 ranks holding the same
// values). It runs in place and averages with IEEE division, bumps the version, is replayed by
// a captured step on the step's memory, refuses bad tensors, and raises once closed.
#include <gtest/gtest.h>

#include "check_grad.hpp"
#include "gdcore/capture.hpp"
#include "gdcore/collective.hpp"
#include "gdcore/grad_mode.hpp"

namespace gdcore {
namespace {

using testing::make;
using testing::values;

std::shared_ptr<Collective> tripled(int* calls) {
  auto c = std::make_shared<Collective>();
  c->name = "all_reduce";
  c->run = [calls](void* data, int64_t n, DType dtype) {
    ++*calls;
    ASSERT_EQ(dtype, DType::Float64);
    for (int64_t i = 0; i < n; ++i) static_cast<double*>(data)[i] *= 3;
  };
  return c;
}

TEST(Collective, RunsInPlaceThenAveragesAndBumpsTheVersion) {
  int calls = 0;
  Tensor t = make({3}, {0.1, -2.5, 7.0});
  const uint64_t before = t.version();
  collective_(t, tripled(&calls), 3);
  std::vector<double> expected = {0.1 * 3 / 3, -2.5 * 3 / 3, 7.0 * 3 / 3};
  EXPECT_EQ(values(t), expected);
  EXPECT_EQ(calls, 1);
  EXPECT_GT(t.version(), before);
}

TEST(Collective, IsReplayedByACapturedStep) {
  int calls = 0;
  auto c = tripled(&calls);
  Tensor bucket = make({2}, {0, 0});
  Tensor x0 = make({2}, {1, 2}), x1 = make({2}, {5, -4});
  capture::begin({x0});
  {
    NoGradGuard no_grad;
    copy_(bucket, x0);
    collective_(bucket, c, 2);
  }
  std::shared_ptr<capture::Program> program = capture::end({});
  EXPECT_EQ(values(bucket), (std::vector<double>{1.5, 3.0}));
  for (int k = 0; k < 3; ++k) program->replay({x1});  // op by op, then lowered
  EXPECT_EQ(values(bucket), (std::vector<double>{7.5, -6.0}));
  EXPECT_EQ(calls, 4);
}

TEST(Collective, RefusesBadTensorsAndRaisesWhenClosed) {
  int calls = 0;
  auto c = tripled(&calls);
  EXPECT_THROW(collective_(transpose(make({2, 2}, {1, 2, 3, 4}), 0, 1), c, 1), std::invalid_argument);
  EXPECT_THROW(collective_(full({2}, 1.0, DType::Int64), c, 2), std::invalid_argument);
  EXPECT_THROW(collective_(make({2}, {1, 2}), c, 0), std::invalid_argument);
  EXPECT_THROW(collective_(make({2}, {1, 2}, true), c, 1), std::runtime_error);
  EXPECT_EQ(calls, 0);
  c->closed->store(true);
  EXPECT_THROW(collective_(make({2}, {1, 2}), c, 1), std::runtime_error);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace gdcore
