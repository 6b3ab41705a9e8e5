// The float32 logistic sigmoid over a contiguous array, on the active SIMD path
// (kernels/simd/sigmoid_loop.hpp), split over the kernel threads when large. float64 keeps
// the plain loop over std::exp in ops/unary.cpp (gradcheck wants the libm-exact value).
#pragma once
#include <cstdint>

namespace gdcore::kernels {

// out[k] = 1 / (1 + exp(-x[k])) for k in [0, n).
void sigmoid_f32(const float* x, float* out, int64_t n);

// The sigmoid's backward in one pass: out[k] = g[k] * (y[k] * (1 - y[k])) for the saved output y,
// the same three roundings, in the same order, as mul(g, mul(y, one_minus(y))); split over the kernel
// threads when large (each element's result depends on its own inputs only).
template <typename T>
void sigmoid_backward(const T* g, const T* y, T* out, int64_t n);

}  // namespace gdcore::kernels
