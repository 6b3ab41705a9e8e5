// 256-bit AVX2 + FMA vectors for the generic loops of update_loops.hpp. Only included by
// table_avx2.cpp, which CMake compiles with -mavx2 -mfma. Tails use masked loads and
// stores, so the last elements get exactly the same arithmetic as the others.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace gdcore::kernels::simd {
namespace {

template <typename T>
struct Avx2Vec;

template <>
struct Avx2Vec<float> {
  using Elem = float;
  using Reg = __m256;
  static constexpr int64_t width = 8;

  static __m256i mask(int64_t k) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(k)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static Reg load(const float* p, int64_t k) { return _mm256_maskload_ps(p, mask(k)); }
  static void store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static void store(float* p, Reg v, int64_t k) { _mm256_maskstore_ps(p, mask(k), v); }
  static Reg set1(float x) { return _mm256_set1_ps(x); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm256_sub_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm256_div_ps(a, b); }
  static Reg sqrt(Reg a) { return _mm256_sqrt_ps(a); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg fnmadd(Reg a, Reg b, Reg c) { return _mm256_fnmadd_ps(a, b, c); }
  static Reg max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
  static Reg min(Reg a, Reg b) { return _mm256_min_ps(a, b); }
  // The first k lanes from p, the others `fill`.
  static Reg load_or(const float* p, int64_t k, float fill) {
    const __m256i m = mask(k);
    return _mm256_blendv_ps(set1(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  // 2^n from y = 1.5 * 2^23 + n (n an integer, |n| <= 126): n sits in y's low mantissa bits.
  static Reg pow2_from_magic(Reg y) {
    const __m256i n = _mm256_sub_epi32(_mm256_castps_si256(y), _mm256_set1_epi32(0x4B400000));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
  }
  static Reg round(Reg a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // a * 2^n for integral n in [-250, 250]: two factors 2^(n/2) and 2^(n - n/2) built from their
  // exponent bits, each a normal float, so the result overflows and underflows as the exact one.
  static Reg scale2(Reg a, Reg n) {
    const __m256i k = _mm256_cvtps_epi32(n), half = _mm256_srai_epi32(k, 1), rest = _mm256_sub_epi32(k, half);
    const __m256i bias = _mm256_set1_epi32(127);
    const Reg f1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    const Reg f2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(a, f1), f2);
  }

  // Two double accumulators: the low and the high four lanes.
  struct Acc {
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  };
  static void acc_sq_diff(Acc& acc, Reg x, Reg y) {
    const __m256d dlo = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x)),
                                      _mm256_cvtps_pd(_mm256_castps256_ps128(y)));
    const __m256d dhi = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)),
                                      _mm256_cvtps_pd(_mm256_extractf128_ps(y, 1)));
    acc.lo = _mm256_fmadd_pd(dlo, dlo, acc.lo);
    acc.hi = _mm256_fmadd_pd(dhi, dhi, acc.hi);
  }
  static double total(const Acc& acc) {
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, _mm256_add_pd(acc.lo, acc.hi));
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  }
};

template <>
struct Avx2Vec<double> {
  using Elem = double;
  using Reg = __m256d;
  static constexpr int64_t width = 4;

  static __m256i mask(int64_t k) { return _mm256_cmpgt_epi64(_mm256_set1_epi64x(k), _mm256_setr_epi64x(0, 1, 2, 3)); }
  static Reg load(const double* p) { return _mm256_loadu_pd(p); }
  static Reg load(const double* p, int64_t k) { return _mm256_maskload_pd(p, mask(k)); }
  static void store(double* p, Reg v) { _mm256_storeu_pd(p, v); }
  static void store(double* p, Reg v, int64_t k) { _mm256_maskstore_pd(p, mask(k), v); }
  static Reg set1(double x) { return _mm256_set1_pd(x); }
  static Reg add(Reg a, Reg b) { return _mm256_add_pd(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm256_sub_pd(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_pd(a, b); }
  static Reg div(Reg a, Reg b) { return _mm256_div_pd(a, b); }
  static Reg sqrt(Reg a) { return _mm256_sqrt_pd(a); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_pd(a, b, c); }
  static Reg fnmadd(Reg a, Reg b, Reg c) { return _mm256_fnmadd_pd(a, b, c); }
  static Reg max(Reg a, Reg b) { return _mm256_max_pd(a, b); }
  static Reg min(Reg a, Reg b) { return _mm256_min_pd(a, b); }
  static Reg load_or(const double* p, int64_t k, double fill) {
    const __m256i m = mask(k);
    return _mm256_blendv_pd(set1(fill), _mm256_maskload_pd(p, m), _mm256_castsi256_pd(m));
  }
  // Four floats as doubles (the first k; the other lanes 0), and back rounded to nearest as
  // static_cast<float> does (sum_rows_loops.hpp: float32 sums taken in double).
  static __m128i mask_float(int64_t k) {
    return _mm_cmpgt_epi32(_mm_set1_epi32(static_cast<int>(k)), _mm_setr_epi32(0, 1, 2, 3));
  }
  static Reg load_float(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
  static Reg load_float(const float* p, int64_t k) { return _mm256_cvtps_pd(_mm_maskload_ps(p, mask_float(k))); }
  static void store_float(float* p, Reg v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
  static void store_float(float* p, Reg v, int64_t k) { _mm_maskstore_ps(p, mask_float(k), _mm256_cvtpd_ps(v)); }

  struct Acc {
    __m256d s = _mm256_setzero_pd();
  };
  static void acc_sq_diff(Acc& acc, Reg x, Reg y) {
    const __m256d d = _mm256_sub_pd(x, y);
    acc.s = _mm256_fmadd_pd(d, d, acc.s);
  }
  static double total(const Acc& acc) {
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, acc.s);
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  }
};

}  // namespace
}  // namespace gdcore::kernels::simd
