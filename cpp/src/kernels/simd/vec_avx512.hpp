// 512-bit AVX-512F vectors for the generic loops of update_loops.hpp. Only included by
// table_avx512.cpp, which CMake compiles with -mavx512f -mavx2 -mfma. Tails use masked
// loads and stores (k-masks), so the last elements get the same arithmetic as the others.
#pragma once
// GCC 12's avx512fintrin.h builds _mm512_cvtps_pd and _mm512_extractf64x4_pd on an
// "undefined" register it initialises from itself, which -Wuninitialized reports at every
// use: a known false positive of the header (the value is never read).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

namespace gdcore::kernels::simd {
namespace {

template <typename T>
struct Avx512Vec;

template <>
struct Avx512Vec<float> {
  using Elem = float;
  using Reg = __m512;
  static constexpr int64_t width = 16;

  static __mmask16 mask(int64_t k) { return static_cast<__mmask16>((1u << k) - 1u); }  // k < 16
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static Reg load(const float* p, int64_t k) { return _mm512_maskz_loadu_ps(mask(k), p); }
  static void store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, Reg v, int64_t k) { _mm512_mask_storeu_ps(p, mask(k), v); }
  static Reg set1(float x) { return _mm512_set1_ps(x); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm512_div_ps(a, b); }
  static Reg sqrt(Reg a) { return _mm512_sqrt_ps(a); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg fnmadd(Reg a, Reg b, Reg c) { return _mm512_fnmadd_ps(a, b, c); }
  static Reg max(Reg a, Reg b) { return _mm512_max_ps(a, b); }
  static Reg min(Reg a, Reg b) { return _mm512_min_ps(a, b); }
  // The first k lanes from p, the others `fill`.
  static Reg load_or(const float* p, int64_t k, float fill) { return _mm512_mask_loadu_ps(set1(fill), mask(k), p); }
  // 2^n from y = 1.5 * 2^23 + n (n an integer, |n| <= 126): n sits in y's low mantissa bits.
  static Reg pow2_from_magic(Reg y) {
    const __m512i n = _mm512_sub_epi32(_mm512_castps_si512(y), _mm512_set1_epi32(0x4B400000));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23));
  }
  static Reg round(Reg a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // a * 2^n for integral n (vscalefps: exact, with overflow to inf and gradual underflow).
  static Reg scale2(Reg a, Reg n) { return _mm512_scalef_ps(a, n); }

  struct Acc {
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
  };
  static __m256 upper(Reg x) { return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)); }
  static void acc_sq_diff(Acc& acc, Reg x, Reg y) {
    const __m512d dlo = _mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(x)),
                                      _mm512_cvtps_pd(_mm512_castps512_ps256(y)));
    const __m512d dhi = _mm512_sub_pd(_mm512_cvtps_pd(upper(x)), _mm512_cvtps_pd(upper(y)));
    acc.lo = _mm512_fmadd_pd(dlo, dlo, acc.lo);
    acc.hi = _mm512_fmadd_pd(dhi, dhi, acc.hi);
  }
  static double total(const Acc& acc) { return _mm512_reduce_add_pd(_mm512_add_pd(acc.lo, acc.hi)); }
};

template <>
struct Avx512Vec<double> {
  using Elem = double;
  using Reg = __m512d;
  static constexpr int64_t width = 8;

  static __mmask8 mask(int64_t k) { return static_cast<__mmask8>((1u << k) - 1u); }  // k < 8
  static Reg load(const double* p) { return _mm512_loadu_pd(p); }
  static Reg load(const double* p, int64_t k) { return _mm512_maskz_loadu_pd(mask(k), p); }
  static void store(double* p, Reg v) { _mm512_storeu_pd(p, v); }
  static void store(double* p, Reg v, int64_t k) { _mm512_mask_storeu_pd(p, mask(k), v); }
  static Reg set1(double x) { return _mm512_set1_pd(x); }
  static Reg add(Reg a, Reg b) { return _mm512_add_pd(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_pd(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_pd(a, b); }
  static Reg div(Reg a, Reg b) { return _mm512_div_pd(a, b); }
  static Reg sqrt(Reg a) { return _mm512_sqrt_pd(a); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_pd(a, b, c); }
  static Reg fnmadd(Reg a, Reg b, Reg c) { return _mm512_fnmadd_pd(a, b, c); }
  static Reg max(Reg a, Reg b) { return _mm512_max_pd(a, b); }
  static Reg min(Reg a, Reg b) { return _mm512_min_pd(a, b); }
  static Reg load_or(const double* p, int64_t k, double fill) { return _mm512_mask_loadu_pd(set1(fill), mask(k), p); }
  // Eight floats as doubles (the first k; the other lanes 0), and back rounded to nearest as
  // static_cast<float> does (sum_rows_loops.hpp: float32 sums taken in double).
  static Reg load_float(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
  static Reg load_float(const float* p, int64_t k) {
    return _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_maskz_loadu_ps(static_cast<__mmask16>(mask(k)), p)));
  }
  static void store_float(float* p, Reg v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }
  static void store_float(float* p, Reg v, int64_t k) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>(mask(k)), _mm512_castps256_ps512(_mm512_cvtpd_ps(v)));
  }

  struct Acc {
    __m512d s = _mm512_setzero_pd();
  };
  static void acc_sq_diff(Acc& acc, Reg x, Reg y) {
    const __m512d d = _mm512_sub_pd(x, y);
    acc.s = _mm512_fmadd_pd(d, d, acc.s);
  }
  static double total(const Acc& acc) { return _mm512_reduce_add_pd(acc.s); }
};

}  // namespace
}  // namespace gdcore::kernels::simd
