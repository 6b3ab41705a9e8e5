// avg_pool2d and its adjoint: values against a hand count, the backward rules of both against
// central finite differences, and the geometry checks.
#include <gtest/gtest.h>

#include "check_grad.hpp"

namespace gdcore {
namespace {

using testing::expect_backward_matches_finite_differences;
using testing::make;
using testing::uniform;
using testing::values;
using V = std::vector<Tensor>;

TEST(AvgPool2d, ValuesWithAndWithoutPaddingInTheDivisor) {
  // 1x1x2x2 plane [[1, 2], [3, 4]], kernel 2, stride 1, padding 1: 3x3 windows over the padded plane.
  Tensor x = make({1, 1, 2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(values(avg_pool2d(x, {2, 2}, {1, 1}, {1, 1}, true)),
            (std::vector<double>{0.25, 0.75, 0.5, 1.0, 2.5, 1.5, 0.75, 1.75, 1.0}));
  EXPECT_EQ(values(avg_pool2d(x, {2, 2}, {1, 1}, {1, 1}, false)),
            (std::vector<double>{1.0, 1.5, 2.0, 2.0, 2.5, 3.0, 3.0, 3.5, 4.0}));
}

TEST(AvgPool2d, BackwardAndDoubleBackwardMatchFiniteDifferences) {
  for (bool include : {true, false}) {
    SCOPED_TRACE(include ? "count_include_pad" : "exclude pad");
    Tensor x = uniform({2, 2, 5, 4}, -1, 1, 3);
    expect_backward_matches_finite_differences(
        [&](const V& in) { return avg_pool2d(in[0], {3, 2}, {2, 1}, {1, 1}, include); }, {x});
    Tensor g = uniform({2, 2, 3, 5}, -1, 1, 4);
    expect_backward_matches_finite_differences(
        [&](const V& in) { return avg_pool2d_backward(in[0], {2, 2, 5, 4}, {3, 2}, {2, 1}, {1, 1}, include); },
        {g});
  }
}

TEST(AvgPool2d, GeometryIsChecked) {
  Tensor x = uniform({1, 1, 3, 3}, 0, 1, 5, false);
  EXPECT_THROW(avg_pool2d(x, {0, 2}, {1, 1}, {0, 0}, true), std::invalid_argument);
  EXPECT_THROW(avg_pool2d(x, {2, 2}, {1, 1}, {2, 0}, true), std::invalid_argument);
  EXPECT_THROW(avg_pool2d(x, {4, 4}, {1, 1}, {0, 0}, true), std::invalid_argument);
  EXPECT_THROW(avg_pool2d_backward(uniform({1, 1, 3, 3}, 0, 1, 6, false), {1, 1, 3, 3}, {2, 2}, {1, 1}, {0, 0}, true),
               std::invalid_argument);
}

}  // namespace
}  // namespace gdcore
