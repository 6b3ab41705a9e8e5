// The SVD kernel (LAPACK's gesdd) on shapes with closed-form answers and on random matrices
// (reconstruction and orthonormality checked with plain loops), and the op's gradient: the
// derivative of the sum of singular values is U Vh, checked against central differences.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "gdcore/autograd.hpp"
#include "gdcore/linalg.hpp"
#include "kernels/svd.hpp"

namespace gdcore {
namespace {

TEST(SvdKernel, DiagonalAndRankOne) {
  // diag(3, -5) (row-major 2x2): singular values 5, 3.
  std::vector<double> a{3, 0, 0, -5}, s(2), u(4), vt(4);
  ASSERT_EQ(kernels::svd<double>(2, 2, a.data(), s.data(), u.data(), vt.data(), kernels::SvdVectors::Full), 0);
  EXPECT_NEAR(s[0], 5.0, 1e-14);
  EXPECT_NEAR(s[1], 3.0, 1e-14);
  // The outer product (1, 2, 2)^T (3, 4): one singular value, |x| |y| = 3 * 5.
  std::vector<float> b{3, 4, 6, 8, 6, 8}, sb(2);
  ASSERT_EQ(kernels::svd<float>(3, 2, b.data(), sb.data(), nullptr, nullptr, kernels::SvdVectors::None), 0);
  EXPECT_NEAR(sb[0], 15.0f, 1e-5f);
  EXPECT_NEAR(sb[1], 0.0f, 1e-5f);
}

TEST(SvdKernel, RandomReducedFactorsRebuildTheMatrix) {
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  for (auto [m, n] : {std::pair<int64_t, int64_t>{5, 3}, {3, 5}, {4, 4}, {1, 6}}) {
    const int64_t k = std::min(m, n);
    std::vector<double> a(m * n), work, s(k), u(m * k), vt(k * n);
    for (double& v : a) v = normal(rng);
    work = a;
    ASSERT_EQ(kernels::svd<double>(m, n, work.data(), s.data(), u.data(), vt.data(), kernels::SvdVectors::Reduced), 0);
    for (int64_t j = 1; j < k; ++j) EXPECT_GE(s[j - 1], s[j]);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double r = 0;
        for (int64_t p = 0; p < k; ++p) r += u[i * k + p] * s[p] * vt[p * n + j];
        EXPECT_NEAR(r, a[i * n + j], 1e-12) << m << "x" << n;
      }
    for (int64_t p = 0; p < k; ++p)
      for (int64_t q = 0; q < k; ++q) {
        double uu = 0, vv = 0;
        for (int64_t i = 0; i < m; ++i) uu += u[i * k + p] * u[i * k + q];
        for (int64_t j = 0; j < n; ++j) vv += vt[p * n + j] * vt[q * n + j];
        EXPECT_NEAR(uu, p == q ? 1.0 : 0.0, 1e-12);
        EXPECT_NEAR(vv, p == q ? 1.0 : 0.0, 1e-12);
      }
  }
}

TEST(SvdOp, NuclearNormGradientAgainstFiniteDifferences) {
  std::mt19937 rng(5);
  std::normal_distribution<double> normal;
  Tensor a = Tensor::empty({3, 4}, DType::Float64);
  for (int64_t j = 0; j < 12; ++j) a.data<double>()[j] = normal(rng);
  a.set_requires_grad(true);
  Tensor total = sum(svdvals(a));
  run_backward({total}, {Tensor()}, false, false, {}, false);
  const Tensor g = a.grad();
  ASSERT_TRUE(g.defined());
  const double eps = 1e-6;
  for (int64_t j = 0; j < 12; ++j) {
    Tensor up = a.detach().clone_data(), down = a.detach().clone_data();
    up.data<double>()[j] += eps;
    down.data<double>()[j] -= eps;
    const double fd = (sum(svdvals(up)).data<double>()[0] - sum(svdvals(down)).data<double>()[0]) / (2 * eps);
    EXPECT_NEAR(g.data<double>()[j], fd, 1e-7) << "element " << j;
  }
}

TEST(SvdOp, RejectsNonFiniteAndIntegerInput) {
  Tensor a = full({2, 2}, std::nan(""), DType::Float64);
  EXPECT_THROW(svdvals(a), std::runtime_error);
  EXPECT_THROW(linalg_svd(zeros({2, 2}, DType::Int64)), std::invalid_argument);
  EXPECT_THROW(svdvals(zeros({3}, DType::Float32)), std::invalid_argument);
}

}  // namespace
}  // namespace gdcore
