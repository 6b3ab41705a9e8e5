// sigmoid_f32 of sigmoid.hpp: the active path's range kernel over pieces of the array.
// Each element's result depends on its value only, so the split never changes a bit.
#include "kernels/sigmoid.hpp"

#include "kernels/simd/dispatch.hpp"
#include "kernels/simd/parallel.hpp"

namespace gdcore::kernels {

void sigmoid_f32(const float* x, float* out, int64_t n) {
  const auto loop = simd::active_table().sigmoid_f32;
  simd::parallel_ranges(n, [&](int64_t b, int64_t e) { loop(x + b, out + b, e - b); });
}

// (This file is built for the base ISA, without -mfma, so y * (1 - y) and the product with g stay
// separately rounded, as the three tensor ops they replace.)
template <typename T>
void sigmoid_backward(const T* g, const T* y, T* out, int64_t n) {
  simd::parallel_ranges(n, [&](int64_t b, int64_t e) {
    const T* __restrict gp = g;
    const T* __restrict yp = y;
    T* __restrict op = out;
    for (int64_t k = b; k < e; ++k) op[k] = gp[k] * (yp[k] * (T(1) - yp[k]));
  });
}

template void sigmoid_backward<float>(const float*, const float*, float*, int64_t);
template void sigmoid_backward<double>(const double*, const double*, double*, int64_t);

}  // namespace gdcore::kernels
