// The float32 logistic sigmoid over a contiguous array, on the active SIMD path
// (kernels/simd/sigmoid_loop.hpp), split over the kernel threads when large. float64 keeps
// the plain loop over std::exp in ops/unary.cpp (gradcheck wants the libm-exact value).
#pragma once
#include <cstdint>

namespace gdcore::kernels {

// out[k] = 1 / (1 + exp(-x[k])) for k in [0, n).
void sigmoid_f32(const float* x, float* out, int64_t n);

}  // namespace gdcore::kernels
