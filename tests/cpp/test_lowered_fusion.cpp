// fuse_element_loops (cpp/src/autograd/lowered_fusion.cpp) on hand-made runs of element loops:
// which runs it fuses, which it must cut because chunking would change a result (a one-element
// input written later in the run, partly overlapping ranges), and that the fused steps give the
// same values as the loops run one after another (computed here by plain loops).
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "autograd/lowered_step.hpp"

namespace gdcore::capture {
namespace {

struct Traced {
  trace::KernelTrace t;
  std::vector<StepInfo> info;  // one per step, kept in step with them by the fusion
  Traced() { trace::set_active(&t); }
  ~Traced() { trace::set_active(nullptr); }
  size_t fuse() {
    trace::set_active(nullptr);
    info.assign(t.steps.size(), StepInfo{});
    const size_t fused = fuse_element_loops(t.steps, info, t.element_loops);
    EXPECT_EQ(info.size(), t.steps.size());
    return fused;
  }
  void run() {
    for (auto& s : t.steps) s();
  }
};

constexpr int64_t kN = 3000;  // more than one chunk

TEST(LoweredFusion, ChainOfIndependentBuffersIsFusedWithTheSameValues) {
  std::vector<double> x(kN), a(kN), b(kN), c(kN);
  for (int64_t k = 0; k < kN; ++k) x[k] = 0.25 * static_cast<double>(k) - 7;
  Traced tr;
  trace::launch_binary(a.data(), x.data(), false, x.data(), false, kN, [](double p, double q) { return p * q; });
  trace::launch_unary(b.data(), a.data(), false, kN, [](double p) { return p - 1.5; });
  trace::launch_binary(c.data(), b.data(), false, x.data(), false, kN, [](double p, double q) { return p / q; });
  trace::launch_binary(a.data(), a.data(), false, c.data(), false, kN, [](double p, double q) { return p + q; });
  EXPECT_EQ(tr.fuse(), 4u);
  EXPECT_EQ(tr.t.steps.size(), 1u);
  for (int64_t k = 0; k < kN; ++k) x[k] += 1;  // a replay on new inputs
  tr.run();
  for (int64_t k = 0; k < kN; ++k) {
    const double ea = x[k] * x[k], eb = ea - 1.5, ec = eb / x[k];
    EXPECT_EQ(b[k], eb);
    EXPECT_EQ(c[k], ec);
    EXPECT_EQ(a[k], ea + ec);
  }
}

TEST(LoweredFusion, OneElementInputWrittenLaterCutsTheRun) {
  std::vector<double> x(kN, 2.0), out(kN), s(kN, 3.0);
  Traced tr;
  // out = x * s[0]; then s = s * 2 (s[0] among them): chunked together, later chunks of the
  // first loop would read the doubled s[0].
  trace::launch_binary(out.data(), x.data(), false, s.data(), true, kN, [](double p, double q) { return p * q; });
  trace::launch_unary(s.data(), s.data(), false, kN, [](double p) { return p * 2; });
  EXPECT_EQ(tr.fuse(), 0u);
  EXPECT_EQ(tr.t.steps.size(), 2u);
  tr.run();  // s[0] was 6 after tracing: out = 2 * 6 everywhere, then s = 12
  for (int64_t k = 0; k < kN; ++k) {
    EXPECT_EQ(out[k], 12.0);
    EXPECT_EQ(s[k], 12.0);
  }
}

TEST(LoweredFusion, PartlyOverlappingRangesCutTheRun) {
  std::vector<double> buf(kN + 1, 1.0), y(kN);
  Traced tr;
  trace::launch_unary(y.data(), buf.data() + 1, false, kN, [](double p) { return p + 1; });
  trace::launch_fill(buf.data(), kN, [] { return 5.0; });  // writes buf[0, kN): overlaps the read at an offset
  EXPECT_EQ(tr.fuse(), 0u);
}

TEST(LoweredFusion, DifferentSizesAndOneElementRuns) {
  double a = 2, b = 0, c = 0;
  std::vector<double> v(4, 1.0), w(4);
  Traced tr;
  trace::launch_binary(&b, &a, false, &a, false, 1, [](double p, double q) { return p * q + 1; });
  trace::launch_unary(&c, &b, false, 1, [](double p) { return p / 4; });
  trace::launch_unary(w.data(), v.data(), false, 4, [](double p) { return -p; });
  EXPECT_EQ(tr.fuse(), 2u);  // the two one-element loops; the four-element one runs alone
  EXPECT_EQ(tr.t.steps.size(), 2u);
  a = 3;
  tr.run();
  EXPECT_EQ(b, 10.0);
  EXPECT_EQ(c, 2.5);
  EXPECT_EQ(w[3], -1.0);
  // The fused one-element chain has a direct form (lowered_step.hpp's programs call it) that does
  // the same; the four-element loop has none.
  ASSERT_NE(tr.info[0].direct.fn, nullptr);
  EXPECT_EQ(tr.info[1].direct.fn, nullptr);
  a = 5;
  tr.info[0].direct.fn(tr.info[0].direct);
  EXPECT_EQ(b, 26.0);
  EXPECT_EQ(c, 6.5);
}

TEST(LoweredFusion, DirectStepsRunTheirClosure) {
  double x = 1.5, y = 0;
  trace::KernelTrace t;
  trace::set_active(&t);
  trace::launch_direct([px = &x, py = &y] { *py += *px * 2; });
  trace::launch_direct([py = &y] { *py += 1; }, [py = &y] { *py += 1; });
  trace::set_active(nullptr);
  EXPECT_EQ(y, 4.0);  // each ran once while traced
  ASSERT_EQ(t.direct_steps.size(), 2u);
  EXPECT_EQ(t.direct_steps[0].first, 0u);
  EXPECT_EQ(t.direct_steps[1].first, 1u);
  for (const auto& [at, d] : t.direct_steps) d.fn(d);
  EXPECT_EQ(y, 8.0);
  for (auto& s : t.steps) s();
  EXPECT_EQ(y, 12.0);
}

}  // namespace
}  // namespace gdcore::capture
