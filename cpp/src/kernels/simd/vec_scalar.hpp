// The scalar "vector" of width 1 for the generic loops of update_loops.hpp: the baseline
// path that runs on any x86-64 (the compiler may still use SSE2 on it). fmadd is a
// multiply then an add, rounded twice, as the plain loops always did.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace gdcore::kernels::simd {
namespace {

template <typename T>
struct ScalarVec {
  using Elem = T;
  using Reg = T;
  static constexpr int64_t width = 1;

  static Reg load(const T* p) { return *p; }
  static Reg load(const T* p, int64_t) { return *p; }  // width 1: a tail never happens
  static void store(T* p, Reg v) { *p = v; }
  static void store(T* p, Reg v, int64_t) { *p = v; }
  static Reg set1(T x) { return x; }
  static Reg add(Reg a, Reg b) { return a + b; }
  static Reg sub(Reg a, Reg b) { return a - b; }
  static Reg mul(Reg a, Reg b) { return a * b; }
  static Reg div(Reg a, Reg b) { return a / b; }
  static Reg sqrt(Reg a) { return std::sqrt(a); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return a * b + c; }   // a * b + c
  static Reg fnmadd(Reg a, Reg b, Reg c) { return c - a * b; }  // c - a * b
  static Reg max(Reg a, Reg b) { return a > b ? a : b; }        // b when either is NaN, like vmaxps
  static Reg min(Reg a, Reg b) { return a < b ? a : b; }        // b when either is NaN, like vminps
  static Reg load_or(const T* p, int64_t, T) { return *p; }     // width 1: a tail never happens
  // (double only) a float as a double and back (sum_rows_loops.hpp: float32 sums taken in double).
  static Reg load_float(const float* p) { return static_cast<T>(*p); }
  static Reg load_float(const float* p, int64_t) { return static_cast<T>(*p); }
  static void store_float(float* p, Reg v) { *p = static_cast<float>(v); }
  static void store_float(float* p, Reg v, int64_t) { *p = static_cast<float>(v); }
  // (float only) 2^n from y = 1.5 * 2^23 + n (n an integer, |n| <= 126): n sits in y's low mantissa bits.
  static Reg pow2_from_magic(Reg y) {
    uint32_t bits;
    std::memcpy(&bits, &y, sizeof bits);
    bits = (bits - 0x4B400000u + 127u) << 23;
    float out;
    std::memcpy(&out, &bits, sizeof out);
    return out;
  }
  static Reg round(Reg a) { return std::nearbyint(a); }         // to nearest, ties to even
  static Reg scale2(Reg a, Reg n) { return n == n ? std::ldexp(a, static_cast<int>(n)) : n; }  // a * 2^n

  // Sum of squared differences, taken in double.
  struct Acc {
    double s = 0.0;
  };
  static void acc_sq_diff(Acc& acc, Reg x, Reg y) {
    const double d = static_cast<double>(x) - static_cast<double>(y);
    acc.s += d * d;
  }
  static double total(const Acc& acc) { return acc.s; }
};

}  // namespace
}  // namespace gdcore::kernels::simd
