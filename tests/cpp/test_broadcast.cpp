// numpy broadcasting in the core: result shapes, errors that name both shapes,
// dimension wrapping, elementwise values against plain loops, and sum_to.
#include <gtest/gtest.h>

#include "check_grad.hpp"

namespace gdcore {
namespace {

using testing::make;
using testing::values;

TEST(Broadcast, ResultShapes) {
  struct Case {
    Shape a, b, out;
  };
  for (const Case& c : std::vector<Case>{{{2, 3}, {2, 3}, {2, 3}},
                                         {{2, 3}, {3}, {2, 3}},
                                         {{2, 1}, {1, 3}, {2, 3}},
                                         {{4, 1, 3}, {2, 1}, {4, 2, 3}},
                                         {{}, {2, 3}, {2, 3}},
                                         {{}, {}, {}},
                                         {{1}, {0}, {0}},
                                         {{5, 1, 1}, {1, 1}, {5, 1, 1}}}) {
    EXPECT_EQ(broadcast_shapes(c.a, c.b, "op"), c.out) << shape_str(c.a) << " with " << shape_str(c.b);
    EXPECT_EQ(broadcast_shapes(c.b, c.a, "op"), c.out);
  }
}

TEST(Broadcast, ErrorNamesBothShapes) {
  try {
    add(zeros({2, 3}), zeros({4}));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("add"), std::string::npos) << m;
    EXPECT_NE(m.find("(2, 3)"), std::string::npos) << m;
    EXPECT_NE(m.find("(4,)"), std::string::npos) << m;
  }
  EXPECT_THROW(broadcast_shapes({3}, {2, 2}, "op"), std::invalid_argument);
  EXPECT_THROW(mul(zeros({2, 2}), zeros({3, 1})), std::invalid_argument);
}

TEST(Broadcast, WrapDim) {
  EXPECT_EQ(wrap_dim(-1, 3, "op"), 2);
  EXPECT_EQ(wrap_dim(0, 3, "op"), 0);
  EXPECT_EQ(wrap_dim(-1, 0, "op"), 0);  // a 0-d tensor accepts dim 0 and -1, as in torch
  EXPECT_THROW(wrap_dim(3, 3, "op"), std::out_of_range);
  EXPECT_THROW(wrap_dim(-4, 3, "op"), std::out_of_range);
}

TEST(Broadcast, ValuesMatchPlainLoops) {
  Tensor a = make({2, 1, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = make({4, 1}, {10, 20, 30, 40});
  std::vector<double> got = values(sub(a, b));
  ASSERT_EQ(sub(a, b).shape(), (Shape{2, 4, 3}));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 3; ++k) EXPECT_EQ(got[(i * 4 + j) * 3 + k], (i * 3 + k + 1) - (j + 1) * 10.0);
  // A strided (transposed) operand takes the general loop.
  Tensor t = transpose(make({3, 2}, {1, 2, 3, 4, 5, 6}), 0, 1);  // [[1, 3, 5], [2, 4, 6]]
  EXPECT_EQ(values(mul(t, make({3}, {1, 10, 100}))), (std::vector<double>{1, 30, 500, 2, 40, 600}));
  EXPECT_EQ(values(maximum(t, make({}, {3.5}))), (std::vector<double>{3.5, 3.5, 5, 3.5, 4, 6}));
}

TEST(Matmul, PropagatesNanAndInf) {
  Tensor a = make({1, 2}, {0, 1});
  Tensor b = make({2, 1}, {INFINITY, 1});
  EXPECT_TRUE(std::isnan(mm(a, b).item()));  // 0 * inf is NaN (no skipping of zeros)
}

TEST(Broadcast, SumToReducesBroadcastDims) {
  Tensor g = ones({4, 2, 3}, DType::Float64);
  EXPECT_EQ(values(sum_to(g, {2, 1})), (std::vector<double>{12, 12}));
  EXPECT_EQ(values(sum_to(g, {3})), (std::vector<double>(3, 8)));
  EXPECT_EQ(values(sum_to(g, {})), (std::vector<double>{24}));
  EXPECT_EQ(sum_to(g, {4, 2, 3}).get(), g.get());  // no work when the shape already matches
}

TEST(Broadcast, GradientsAreReducedToInputShapes) {
  Tensor a = make({2, 1}, {1, 2}, true);
  Tensor b = make({3}, {1, 2, 3}, true);
  Tensor y = sum(mul(a, b));  // y = sum_ij a_i b_j
  run_backward({y}, {Tensor()}, false, false, {}, false);
  EXPECT_EQ(a.grad().shape(), (Shape{2, 1}));
  EXPECT_EQ(values(a.grad()), (std::vector<double>{6, 6}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{3, 3, 3}));
}

TEST(Broadcast, InPlaceTargetCannotGrow) {
  EXPECT_THROW(add_(zeros({3}), zeros({2, 3})), std::invalid_argument);
  Tensor t = zeros({2, 3});
  add_(t, ones({3}));
  EXPECT_EQ(values(t), std::vector<double>(6, 1.0));
}

}  // namespace
}  // namespace gdcore
