// Tensor basics in C++: creation values, dtypes, strides and contiguity, views sharing
// storage, strided copies, the version counter, the RNG, and autograd engine behaviour
// (retain_graph, in-place checks, grad mode per thread, very deep chains).
#include <gtest/gtest.h>

#include <limits>
#include <thread>

#include "check_grad.hpp"

namespace gdcore {
namespace {

using testing::make;
using testing::values;

TEST(Creation, FillFunctions) {
  Tensor z = zeros({2, 3});
  EXPECT_EQ(z.dtype(), DType::Float32);
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(z), std::vector<double>(6, 0.0));
  EXPECT_EQ(values(ones({4}, DType::Int64)), std::vector<double>(4, 1.0));
  EXPECT_EQ(values(full({2}, -2.5, DType::Float64)), (std::vector<double>{-2.5, -2.5}));
  Tensor s = scalar_tensor(7.0, DType::Float64);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item(), 7.0);
  EXPECT_EQ(Tensor::empty({0, 5}, DType::Float32).numel(), 0);
}

TEST(Creation, ArangeLinspaceEye) {
  EXPECT_EQ(values(arange(0, 5, 1, DType::Int64)), (std::vector<double>{0, 1, 2, 3, 4}));
  EXPECT_EQ(values(arange(5, 0, -1.5, DType::Float64)), (std::vector<double>{5, 3.5, 2, 0.5}));
  EXPECT_EQ(values(linspace(0, 1, 5, DType::Float64)), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(values(linspace(2, 3, 1, DType::Float64)), (std::vector<double>{2}));
  EXPECT_EQ(linspace(0, 1, 0).numel(), 0);
  EXPECT_EQ(values(eye(2, 3)), (std::vector<double>{1, 0, 0, 0, 1, 0}));
  EXPECT_THROW(arange(0, 5, 0, DType::Float32), std::invalid_argument);
  EXPECT_THROW(arange(0, 5, -1, DType::Float32), std::invalid_argument);
  EXPECT_THROW(eye(-1, 2), std::invalid_argument);
  EXPECT_THROW(linspace(0, 1, -1), std::invalid_argument);
}

TEST(Creation, NegativeAndOverflowingSizes) {
  EXPECT_THROW(zeros({2, -1}), std::invalid_argument);
  EXPECT_THROW(zeros({int64_t{1} << 40, int64_t{1} << 40}), std::length_error);
}

TEST(Layout, StridesAndContiguity) {
  Tensor t = zeros({2, 3, 4});
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_TRUE(t.is_contiguous());
  Tensor tt = transpose(t, 0, 2);
  EXPECT_EQ(tt.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(tt.strides(), (Shape{1, 4, 12}));
  EXPECT_FALSE(tt.is_contiguous());
  Tensor c = tt.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.strides(), (Shape{6, 2, 1}));
  EXPECT_TRUE(unsqueeze(t, 1).is_contiguous());  // size-1 dims do not break contiguity
  EXPECT_EQ(expand(zeros({3, 1}), {3, 5}).strides(), (Shape{1, 0}));
  EXPECT_EQ(contiguous_strides({}), Shape{});
  EXPECT_EQ(contiguous_strides({3, 0, 2}), (Shape{2, 2, 1}));
}

TEST(Layout, ViewsShareStorageAndVersion) {
  Tensor t = make({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor v = transpose(t, 0, 1);
  EXPECT_EQ(values(v), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  v.data<double>()[1 * v.strides()[0] + 0 * v.strides()[1]] = 10;  // v[1, 0] is t[0, 1]
  EXPECT_EQ(values(t)[1], 10);
  const uint64_t before = t.version();
  add_(v, scalar_tensor(1.0, DType::Float64));
  EXPECT_EQ(t.version(), before + 1);  // views share one version counter
  EXPECT_EQ(values(t), (std::vector<double>{1, 11, 3, 4, 5, 6}));
  EXPECT_NE(t.data_alias().impl()->version, t.impl()->version);  // .data has its own
  EXPECT_EQ(t.detach().impl()->version, t.impl()->version);      // detach shares it (torch semantics)
}

TEST(Layout, StridedCopyAndDtypeConversion) {
  Tensor src = make({2, 3}, {1.5, -2.5, 3, 4, 5, 6});
  Tensor dst = Tensor::empty({3, 2}, DType::Int64);
  copy_into(dst, transpose(src, 0, 1));
  EXPECT_EQ(values(dst), (std::vector<double>{1, 4, -2, 5, 3, 6}));  // truncation toward zero
  EXPECT_THROW(copy_into(dst, src), std::invalid_argument);
}

TEST(Dtypes, PromotionAndFloatOps) {
  Tensor i = ones({2}, DType::Int64), f = ones({2}, DType::Float32), d = ones({2}, DType::Float64);
  EXPECT_EQ(add(i, i).dtype(), DType::Int64);
  EXPECT_EQ(add(i, f).dtype(), DType::Float32);
  EXPECT_EQ(add(f, d).dtype(), DType::Float64);
  EXPECT_EQ(div(i, i).dtype(), DType::Float32);
  EXPECT_EQ(exp(i).dtype(), DType::Float32);
  EXPECT_EQ(sum(i).dtype(), DType::Int64);
  EXPECT_EQ(mul(f, scalar_tensor(0.5, DType::Float64)).dtype(), DType::Float32);  // 0-d does not widen
  EXPECT_EQ(mul(i, scalar_tensor(0.5, DType::Float64)).dtype(), DType::Float64);  // but makes ints float
  EXPECT_THROW(mean(i), std::invalid_argument);
  EXPECT_THROW(i.set_requires_grad(true), std::runtime_error);
}

TEST(Random, SameSeedSameNumbersAndIndependentGenerators) {
  Generator a(42), b(42), c(43);
  std::vector<double> ra = values(rand({5}, DType::Float64, &a));
  EXPECT_EQ(ra, values(rand({5}, DType::Float64, &b)));
  EXPECT_NE(ra, values(rand({5}, DType::Float64, &c)));
  for (double v : ra) {
    EXPECT_GE(v, 0.0);
    EXPECT_LT(v, 1.0);
  }
  Generator::State s = a.get_state();
  std::vector<double> n1 = values(randn({7}, DType::Float64, &a));
  a.set_state(s);
  EXPECT_EQ(values(randn({7}, DType::Float64, &a)), n1);
  std::vector<double> perm = values(randperm(20, DType::Int64, &a));
  std::sort(perm.begin(), perm.end());
  for (int k = 0; k < 20; ++k) EXPECT_EQ(perm[k], k);
  for (double v : values(randint(-2, 3, {200}, DType::Int64, &a))) {
    EXPECT_GE(v, -2);
    EXPECT_LE(v, 2);
  }
}

TEST(Random, FillsRefuseNonFiniteOrReversedBounds) {
  Tensor t = Tensor::empty({3}, DType::Float64);
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  EXPECT_THROW(normal_(t, nan, 1.0, nullptr), std::invalid_argument);
  EXPECT_THROW(normal_(t, inf, 1.0, nullptr), std::invalid_argument);
  EXPECT_THROW(normal_(t, 0.0, -1.0, nullptr), std::invalid_argument);
  EXPECT_THROW(normal_(t, 0.0, nan, nullptr), std::invalid_argument);
  EXPECT_THROW(uniform_(t, 0.0, inf, nullptr), std::invalid_argument);
  EXPECT_THROW(uniform_(t, 2.0, 1.0, nullptr), std::invalid_argument);
  EXPECT_THROW(uniform_(t, -1e308, 1e308, nullptr), std::invalid_argument);
  uniform_(t, 1.0, 1.0, nullptr);  // an empty range is allowed, as in torch
  EXPECT_EQ(values(t), std::vector<double>({1.0, 1.0, 1.0}));
}

// ---- autograd engine -------------------------------------------------------------------

TEST(Engine, AccumulatesIntoLeavesAndRetainsGraph) {
  Tensor x = make({2}, {1, 2}, true);
  Tensor y = sum(mul(x, x));
  run_backward({y}, {Tensor()}, /*retain_graph=*/true, false, {}, false);
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2, 4}));
  run_backward({y}, {Tensor()}, false, false, {}, false);
  EXPECT_EQ(values(x.grad()), (std::vector<double>{4, 8}));
  try {
    run_backward({y}, {Tensor()}, false, false, {}, false);
    FAIL() << "a third backward through a freed graph must throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("retain_graph=True"), std::string::npos);
  }
}

TEST(Engine, InPlaceChangeOfSavedTensorIsCaught) {
  Tensor x = make({2}, {1, 2}, true);
  Tensor h = mul(x, 2.0);
  Tensor y = sum(mul(h, h));
  {
    NoGradGuard guard;
    add_(h, scalar_tensor(1.0, DType::Float64));
  }
  EXPECT_THROW(run_backward({y}, {Tensor()}, false, false, {}, false), std::runtime_error);
  EXPECT_THROW(add_(x, scalar_tensor(1.0, DType::Float64)), std::runtime_error);  // leaf requiring grad
}

TEST(Engine, InPlaceOpWithHistoryKeepsTheOldValues) {
  Tensor a = make({2}, {1, 2});
  Tensor x = make({2}, {3, 4}, true);
  mul_(a, x);  // a = a * x, recorded; backward needs the old a
  EXPECT_EQ(values(a), (std::vector<double>{3, 8}));
  run_backward({sum(a)}, {Tensor()}, false, false, {}, false);
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 2}));
}

TEST(Engine, CreateGraphGradIsNotAView) {
  Tensor x = make({3}, {1, 2, 3}, true);
  run_backward({sum(x)}, {Tensor()}, true, /*create_graph=*/true, {}, false);
  run_backward({sum(mul(x, x))}, {Tensor()}, false, false, {}, false);
  EXPECT_EQ(values(x.grad()), (std::vector<double>{3, 5, 7}));
}

TEST(Engine, ArgumentChecks) {
  Tensor x = make({2}, {1, 2}, true);
  EXPECT_THROW(run_backward({mul(x, 2.0)}, {Tensor()}, false, false, {}, false), std::runtime_error);
  EXPECT_THROW(run_backward({zeros({1})}, {Tensor()}, false, false, {}, false), std::runtime_error);
  EXPECT_THROW(run_backward({mul(x, 2.0)}, {zeros({3}, DType::Float64)}, false, false, {}, false),
               std::invalid_argument);
}

TEST(Engine, GradModeIsPerThread) {
  NoGradGuard guard;
  bool other_thread_enabled = false;
  std::thread([&] { other_thread_enabled = GradMode::is_enabled(); }).join();
  EXPECT_TRUE(other_thread_enabled);
  EXPECT_FALSE(GradMode::is_enabled());
  Tensor x = make({1}, {1}, true);
  EXPECT_FALSE(mul(x, 2.0).requires_grad());
}

TEST(Engine, DeepChainsBackpropagateAndFreeWithoutRecursion) {
  Tensor x = make({1}, {0.5}, true);
  Tensor y = x;
  for (int k = 0; k < 200000; ++k) y = mul(y, x);  // each node saves both inputs
  y = Tensor();  // dropped without backward: must be freed iteratively
  y = x;
  for (int k = 0; k < 200000; ++k) y = sin(y);
  run_backward({sum(y)}, {Tensor()}, false, false, {}, false);
  EXPECT_TRUE(x.grad().defined());
  y = Tensor();
}

}  // namespace
}  // namespace gdcore
