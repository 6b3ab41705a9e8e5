// Plain SGD (param[i] = param[i] - lr * grad[i], one rounding: a fused multiply-add) on 16-byte
// vectors, for the tiny parameters of a lowered per-sample step on the AVX2 and AVX-512 paths.
// Those paths' loops give exactly these bits (each element one FMA, whatever the vector width),
// but they store a parameter in 32- or 64-byte pieces, and the next row's dot product (its
// SSE2 body, kernels/tiny_products.hpp) loads it in 16-byte pieces: a load that reads part of
// a wider store, or the gradient loaded wide from the column product's 16-byte stores, is not
// forwarded from the store buffer and waits for the store to reach the cache, on the chain from
// one row to the next. Pieces of the same width as the products' keep that chain short.
#include <immintrin.h>

#include <cstdint>

#include "kernels/optim_update.hpp"

namespace gdcore::kernels {

namespace {

[[gnu::target("avx2,fma")]] void sgd_narrow_f64(double* param, const double* grad, int64_t n, double lr) {
  const __m128d r = _mm_set1_pd(lr);
  int64_t i = 0;
  for (; i + 2 <= n; i += 2)
    _mm_storeu_pd(param + i, _mm_fnmadd_pd(r, _mm_loadu_pd(grad + i), _mm_loadu_pd(param + i)));
  if (i < n)
    _mm_store_sd(param + i, _mm_fnmadd_sd(_mm_set_sd(lr), _mm_load_sd(grad + i), _mm_load_sd(param + i)));
}

[[gnu::target("avx2,fma")]] void sgd_narrow_f32(float* param, const float* grad, int64_t n, float lr) {
  const __m128 r = _mm_set1_ps(lr);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm_storeu_ps(param + i, _mm_fnmadd_ps(r, _mm_loadu_ps(grad + i), _mm_loadu_ps(param + i)));
  for (; i < n; ++i)
    _mm_store_ss(param + i, _mm_fnmadd_ss(_mm_set_ss(lr), _mm_load_ss(grad + i), _mm_load_ss(param + i)));
}

}  // namespace

template <>
SgdPlainLoop<double> sgd_plain_narrow_loop<double>() {
  return &sgd_narrow_f64;
}
template <>
SgdPlainLoop<float> sgd_plain_narrow_loop<float>() {
  return &sgd_narrow_f32;
}

}  // namespace gdcore::kernels
