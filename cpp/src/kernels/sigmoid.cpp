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

}  // namespace gdcore::kernels
