// The two tiny products of a batch-1 linear model, written once and specialised by size: the
// dot product of contiguous vectors (a row times a column, the forward) and a contiguous
// column times one number (the weight gradient). gemm_plain runs the same bodies with a
// run-time size, and a lowered step (gdcore.compile) runs them with the size fixed at compile
// time, fully unrolled, so both give the same bits: the arithmetic and its order are one
// function whichever way the size arrives.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "kernels/gemm.hpp"

namespace gdcore::kernels {

// sum over p of x[p] * y[p], as four running sums (of elements p = 0, 4, 8, ...; 1, 5, 9, ...;
// and so on) added as (s0 + s1) + (s2 + s3), then the tail in order. The four sums shorten the
// chain of dependent additions four times. `K` is int64_t or a std::integral_constant.
template <typename T, typename K>
inline T dot_four_sums(const T* __restrict x, const T* __restrict y, K k) {
  const int64_t n = static_cast<int64_t>(k), body = n - n % 4;
  T s0 = T(0), s1 = T(0), s2 = T(0), s3 = T(0);
  for (int64_t p = 0; p < body; p += 4) {
    s0 += x[p] * y[p];
    s1 += x[p + 1] * y[p + 1];
    s2 += x[p + 2] * y[p + 2];
    s3 += x[p + 3] * y[p + 3];
  }
  T sum = (s0 + s1) + (s2 + s3);
  for (int64_t p = body; p < n; ++p) sum += x[p] * y[p];
  return sum;
}

// c[i] = 0 + (0 + a[i] * b) for i < m: a column times a number, as a k = 1 product adds it
// into a zeroed C (so -0.0 becomes +0.0 exactly as there). A loop the compiler vectorises.
template <typename T, typename M>
inline void column_times(T* __restrict c, const T* __restrict a, T b, M m) {
  for (int64_t i = 0; i < static_cast<int64_t>(m); ++i) c[i] = T(0) + (T(0) + a[i] * b);
}

// C = A @ B for a product that one of the bodies above computes, with the size fixed:
// c[0] = 0 + dot(a, b) (m = n = 1, A's row and B's column contiguous), or
// c = column_times(a, b[0]) (k = n = 1, A's column contiguous, C one contiguous column).
template <typename T>
using TinyProduct = void (*)(const T* a, const T* b, T* c);

inline constexpr int64_t kTinyProductMax = 32;  // sizes up to this get a specialised body

namespace tiny_detail {
template <typename T, int64_t K>
void dot(const T* a, const T* b, T* c) {
  c[0] = T(0) + dot_four_sums(a, b, std::integral_constant<int64_t, K>{});
}
template <typename T, int64_t M>
void column(const T* a, const T* b, T* c) {
  column_times(c, a, b[0], std::integral_constant<int64_t, M>{});
}
template <typename T, int64_t... I>
constexpr auto dot_table(std::integer_sequence<int64_t, I...>) {
  return std::array<TinyProduct<T>, sizeof...(I)>{&dot<T, I + 1>...};
}
template <typename T, int64_t... I>
constexpr auto column_table(std::integer_sequence<int64_t, I...>) {
  return std::array<TinyProduct<T>, sizeof...(I)>{&column<T, I + 1>...};
}
}  // namespace tiny_detail

// The specialised body for C (m x n, row stride ldc) = A @ B when gemm_plain would run the
// dot or the column loop on it and the size is at most kTinyProductMax; nullptr otherwise
// (the caller keeps gemm_plain). Strides along a dimension of size 1 are never followed.
template <typename T>
TinyProduct<T> tiny_product(int64_t m, int64_t n, int64_t k, MatrixRef<T> a, MatrixRef<T> b, int64_t ldc) {
  static constexpr auto dots = tiny_detail::dot_table<T>(std::make_integer_sequence<int64_t, kTinyProductMax>{});
  static constexpr auto columns =
      tiny_detail::column_table<T>(std::make_integer_sequence<int64_t, kTinyProductMax>{});
  if (n != 1) return nullptr;
  // (gemm_plain takes its k == 1 branch before the dot product's: so does this.)
  if (k == 1) {
    if (m < 1 || m > kTinyProductMax || ldc != 1 || (m > 1 && a.row_stride != 1)) return nullptr;
    return columns[static_cast<size_t>(m - 1)];
  }
  if (m != 1 || k < 2 || k > kTinyProductMax || a.col_stride != 1 || b.row_stride != 1) return nullptr;
  return dots[static_cast<size_t>(k - 1)];
}

}  // namespace gdcore::kernels
