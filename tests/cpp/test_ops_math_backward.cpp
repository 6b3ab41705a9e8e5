// The backward rules of ops_math.hpp (softmax family, norms, var, scans, the elementwise
// additions and the fused cross_entropy / nll_loss) against central finite differences in double.
#include <gtest/gtest.h>

#include "check_grad.hpp"
#include "gdcore/ops_math.hpp"

namespace gdcore {
namespace {

using testing::expect_backward_matches_finite_differences;
using testing::uniform;
using V = std::vector<Tensor>;

Tensor targets(std::vector<int64_t> values) {
  Tensor t = Tensor::empty({static_cast<int64_t>(values.size())}, DType::Int64);
  for (size_t k = 0; k < values.size(); ++k) t.data<int64_t>()[k] = values[k];
  return t;
}

TEST(SoftmaxBackward, AllThreeAlongEachDim) {
  for (int64_t d : {0, 1, -1}) {
    SCOPED_TRACE("dim " + std::to_string(d));
    Tensor x = uniform({3, 4}, -2, 2, 5);
    expect_backward_matches_finite_differences([&](const V& in) { return softmax(in[0], d); }, {x});
    expect_backward_matches_finite_differences([&](const V& in) { return log_softmax(in[0], d); }, {x});
    expect_backward_matches_finite_differences([&](const V& in) { return logsumexp(in[0], {d}, false); }, {x});
  }
}

TEST(NormBackward, PNormsVarStd) {
  Tensor x = uniform({3, 4}, 0.3, 2.0, 6);
  for (double p : {1.0, 2.0, 3.0, 0.5}) {
    SCOPED_TRACE("ord " + std::to_string(p));
    expect_backward_matches_finite_differences([&](const V& in) { return vector_norm(in[0], p, {1}, false); }, {x});
  }
  expect_backward_matches_finite_differences([&](const V& in) { return var(in[0], {0}, 1.0, true); }, {x});
  expect_backward_matches_finite_differences([&](const V& in) { return std(in[0], {}, 0.0, false); }, {x});
}

TEST(ScanBackward, CumsumAndProd) {
  Tensor x = uniform({3, 4}, 0.5, 1.5, 8);
  expect_backward_matches_finite_differences([&](const V& in) { return cumsum(in[0], 1); }, {x});
  expect_backward_matches_finite_differences([&](const V& in) { return prod(in[0], 0, false); }, {x});
  expect_backward_matches_finite_differences([&](const V& in) { return prod(in[0]); }, {x});
}

TEST(SpecialBackward, Elementwise) {
  Tensor x = uniform({2, 3}, 0.2, 0.8, 9);
  for (auto fn : {&erf, &erfinv, &log1p, &expm1, &log2, &log10, &rsqrt, &reciprocal, &square}) {
    expect_backward_matches_finite_differences([&](const V& in) { return fn(in[0]); }, {x});
  }
}

TEST(CrossEntropyBackward, FusedLossEveryReduction) {
  Tensor x = uniform({4, 3}, -2, 2, 10);
  Tensor w = uniform({3}, 0.5, 2.0, 11);
  Tensor t = targets({0, 2, -100, 1});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    expect_backward_matches_finite_differences([&](const V& in) { return cross_entropy(in[0], t, w, -100, 0.1, r); },
                                               {x});
    expect_backward_matches_finite_differences([&](const V& in) { return nll_loss(in[0], t, Tensor(), -100, r); },
                                               {x});
  }
}

TEST(CrossEntropyBackward, OutOfRangeIndexThrowsBeforeReading) {
  Tensor x = uniform({2, 3}, -1, 1, 12);
  EXPECT_THROW(cross_entropy(x, targets({0, 3}), Tensor()), std::out_of_range);
  EXPECT_THROW(nll_loss(x, targets({-2, 0}), Tensor()), std::out_of_range);
  EXPECT_THROW(cross_entropy(x, targets({0, 1, 2}), Tensor()), std::invalid_argument);
}

}  // namespace
}  // namespace gdcore
