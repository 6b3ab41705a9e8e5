// Test helpers: float64 tensors from initializer lists, element access, and a
// central finite-difference check of an op's backward rule.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "gdcore/autograd.hpp"
#include "gdcore/grad_mode.hpp"
#include "gdcore/ops.hpp"
#include "gdcore/rng.hpp"

namespace gdcore::testing {

// A contiguous float64 tensor of `shape` holding `values` (row-major).
inline Tensor make(const Shape& shape, const std::vector<double>& values, bool requires_grad = false) {
  Tensor t = Tensor::empty(shape, DType::Float64);
  EXPECT_EQ(static_cast<size_t>(t.numel()), values.size());
  for (size_t k = 0; k < values.size(); ++k) t.data<double>()[k] = values[k];
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

// Uniform values in [low, high) from a seeded generator (deterministic).
inline Tensor uniform(const Shape& shape, double low, double high, uint64_t seed, bool requires_grad = true) {
  Generator gen(seed);
  Tensor t = rand(shape, DType::Float64, &gen);
  for (int64_t k = 0; k < t.numel(); ++k) t.data<double>()[k] = low + (high - low) * t.data<double>()[k];
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

// The values of any tensor as doubles, in row-major order (views included).
inline std::vector<double> values(const Tensor& t) {
  Tensor c = Tensor::empty(t.shape(), DType::Float64);
  copy_into(c, t);
  return std::vector<double>(c.data<double>(), c.data<double>() + c.numel());
}

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Compares autograd's gradient of L = sum(w * f(inputs)) (w a fixed random weighting of the
// output) with central differences of L, for every element of every input that requires grad.
// Inputs must be contiguous float64 leaves.
inline void expect_backward_matches_finite_differences(const Fn& f, const std::vector<Tensor>& inputs,
                                                       double eps = 1e-6, double tol = 1e-6) {
  Tensor out = f(inputs);
  ASSERT_EQ(out.dtype(), DType::Float64);
  Tensor w = uniform(out.shape(), -1.0, 1.0, 1234, /*requires_grad=*/false);
  std::vector<Tensor> wrt;
  for (const Tensor& t : inputs)
    if (t.requires_grad()) wrt.push_back(t);
  ASSERT_FALSE(wrt.empty());
  std::vector<Tensor> grads = run_backward({sum(mul(out, w))}, {Tensor()}, false, false, wrt, true);

  NoGradGuard no_grad;
  auto loss = [&] { return sum(mul(f(inputs), w)).item(); };
  for (size_t i = 0; i < wrt.size(); ++i) {
    const Tensor& x = wrt[i];
    ASSERT_TRUE(x.is_contiguous());
    std::vector<double> analytic = grads[i].defined() ? values(grads[i]) : std::vector<double>(x.numel(), 0.0);
    ASSERT_EQ(analytic.size(), static_cast<size_t>(x.numel()));
    for (int64_t k = 0; k < x.numel(); ++k) {
      double& v = x.data<double>()[k];
      const double old = v;
      v = old + eps;
      const double up = loss();
      v = old - eps;
      const double down = loss();
      v = old;
      const double numeric = (up - down) / (2 * eps);
      EXPECT_NEAR(analytic[k], numeric, tol * (1.0 + std::abs(numeric)))
          << "input " << i << " (shape " << shape_str(x.shape()) << "), element " << k;
    }
  }
}

}  // namespace gdcore::testing
