// Kernel traces (gdcore/kernel_trace.hpp): ops run their loops through trace::launch, so a trace
// of an op repeats it on new input values written into the same memory; storage made while
// tracing is held; ops and value reads a trace cannot repeat mark it, and a pause hides work.
#include <gtest/gtest.h>

#include "check_grad.hpp"
#include "gdcore/kernel_trace.hpp"

namespace gdcore {
namespace {

using testing::uniform;
using testing::values;

struct Tracing {
  explicit Tracing(trace::KernelTrace* t) { trace::set_active(t); }
  ~Tracing() { trace::set_active(nullptr); }
};

TEST(KernelTrace, RepeatsAnOpOnNewValuesInTheSameMemory) {
  Tensor a = uniform({4, 3}, -1, 1, 1, false), b = uniform({3}, -1, 1, 2, false);
  trace::KernelTrace t;
  Tensor out;
  {
    Tracing tracing(&t);
    out = sum(mul(add(a, b), a), {1});  // broadcast add, mul, a reduction over a dim
  }
  EXPECT_EQ(t.failure, nullptr);
  EXPECT_GE(t.steps.size(), 3u);
  EXPECT_GE(t.held.size(), 3u);  // the three results
  // New values in a and b: replaying the steps recomputes out in place.
  Tensor a2 = uniform({4, 3}, -1, 1, 3, false), b2 = uniform({3}, -1, 1, 4, false);
  copy_into(a, a2);
  copy_into(b, b2);
  for (auto& step : t.steps) step();
  EXPECT_EQ(values(out), values(sum(mul(add(a2, b2), a2), {1})));
}

TEST(KernelTrace, ValueReadsAndUnlistedOpsMarkTheTrace) {
  Tensor a = uniform({3}, -1, 1, 1, false);
  trace::KernelTrace reads;
  {
    Tracing tracing(&reads);
    (void)sum(a).item();
  }
  ASSERT_NE(reads.failure, nullptr);
  EXPECT_NE(std::string(reads.failure).find("item"), std::string::npos);

  trace::KernelTrace unlisted;
  {
    Tracing tracing(&unlisted);
    (void)cat({a, a}, 0);  // its loops do not go through launch
  }
  ASSERT_NE(unlisted.failure, nullptr);
  EXPECT_EQ(std::string(unlisted.failure), "CatBackward");
}

TEST(KernelTrace, PausedWorkIsNotRecorded) {
  Tensor a = uniform({3}, -1, 1, 1, false);
  trace::KernelTrace t;
  {
    Tracing tracing(&t);
    trace::PauseGuard pause;
    (void)add(a, a);
    EXPECT_EQ(trace::active(), nullptr);
  }
  EXPECT_TRUE(t.steps.empty());
  EXPECT_TRUE(t.held.empty());
}

}  // namespace
}  // namespace gdcore
