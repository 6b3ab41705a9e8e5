// The column sums of sum_rows.hpp: the active SIMD path's range kernel, looked up at each call
// (a compiled step replays this after GDCORE_SIMD may have changed, and keeps the bits).
#include "kernels/sum_rows.hpp"

#include "kernels/simd/dispatch.hpp"

namespace gdcore::kernels {

template <typename T>
void sum_rows(const T* x, int64_t rows, int64_t n, double* acc, T* out, double scale) {
  simd::kernels_for<T>().sum_rows(x, rows, n, acc, out, scale);
}

template void sum_rows<float>(const float*, int64_t, int64_t, double*, float*, double);
template void sum_rows<double>(const double*, int64_t, int64_t, double*, double*, double);

}  // namespace gdcore::kernels
