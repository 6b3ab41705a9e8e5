// The MSE loops of mse_loss.hpp: each picks the active SIMD path's range kernel and
// splits the work with kernels/simd/parallel.hpp (fixed chunks for the sums).
#include "kernels/mse_loss.hpp"

#include "kernels/simd/dispatch.hpp"
#include "kernels/simd/parallel.hpp"

namespace gdcore::kernels {

template <typename T>
double sq_diff_sum(const T* x, const T* y, int64_t n) {
  struct Ctx {
    const T *x, *y;
    double (*loop)(const T*, const T*, int64_t);
  } ctx{x, y, simd::kernels_for<T>().sq_diff_sum};
  return simd::chunked_sum(n, [](void* p, int64_t b, int64_t e) {
    const Ctx& c = *static_cast<Ctx*>(p);
    return c.loop(c.x + b, c.y + b, e - b);
  }, &ctx);
}

template <typename T>
double sq_diff_sum_and_grad(const T* x, const T* y, T* grad, T scale, int64_t n) {
  struct Ctx {
    const T *x, *y;
    T* grad;
    T scale;
    double (*loop)(const T*, const T*, T*, T, int64_t);
  } ctx{x, y, grad, scale, simd::kernels_for<T>().sq_diff_sum_and_grad};
  return simd::chunked_sum(n, [](void* p, int64_t b, int64_t e) {
    const Ctx& c = *static_cast<Ctx*>(p);
    return c.loop(c.x + b, c.y + b, c.grad + b, c.scale, e - b);
  }, &ctx);
}

template <typename T>
void sq_diff(const T* x, const T* y, T* out, int64_t n) {
  const auto loop = simd::kernels_for<T>().sq_diff;
  simd::parallel_ranges(n, [&](int64_t b, int64_t e) { loop(x + b, y + b, out + b, e - b); });
}

template <typename T>
void scaled_diff(const T* x, const T* y, T* out, T scale, int64_t n) {
  const auto loop = simd::kernels_for<T>().scaled_diff;
  simd::parallel_ranges(n, [&](int64_t b, int64_t e) { loop(x + b, y + b, out + b, scale, e - b); });
}

template <typename T>
void diff_times(const T* x, const T* y, const T* g, T* out, T scale, int64_t n) {
  const auto loop = simd::kernels_for<T>().diff_times;
  simd::parallel_ranges(n, [&](int64_t b, int64_t e) { loop(x + b, y + b, g + b, out + b, scale, e - b); });
}

#define GD_INSTANTIATE_MSE(T)                                                   \
  template double sq_diff_sum<T>(const T*, const T*, int64_t);                  \
  template double sq_diff_sum_and_grad<T>(const T*, const T*, T*, T, int64_t);  \
  template void sq_diff<T>(const T*, const T*, T*, int64_t);                    \
  template void scaled_diff<T>(const T*, const T*, T*, T, int64_t);             \
  template void diff_times<T>(const T*, const T*, const T*, T*, T, int64_t);
GD_INSTANTIATE_MSE(float)
GD_INSTANTIATE_MSE(double)
#undef GD_INSTANTIATE_MSE

}  // namespace gdcore::kernels
