// A contiguous (rows, n) array summed over its rows, vectorised across the columns: a Linear
// layer's bias gradient g.sum(0) (ops/reduction.cpp). Each column's sum is one chain of
// additions in double, from +0.0, over the rows in order: the chain of the plain loop
// `for r: for k: acc[k] += double(x[r][k])` that it replaces, so the bits are that loop's on
// every path and whatever the vector width (a lane only ever holds one column).
//
// Two orders of work, the same chains: when the array fits comfortably in L2, up to four
// vectors of columns keep their sums in registers over all the rows (two instructions an
// element vector); a larger one is walked row by row (each row read once, in order), the sums
// in the caller's buffer. Included by update_loops.hpp, compiled once per SIMD path; D is the
// path's vector of doubles.
#pragma once
#include <cstdint>
#include <type_traits>

namespace gdcore::kernels::simd {
namespace {

// Arrays up to this size (bytes) are summed a column block at a time over all their rows.
inline constexpr int64_t kSumRowsInRegistersBytes = 128 * 1024;

// The k (< width: a tail) or all D::width elements at p, as doubles.
template <class D, class T>
inline typename D::Reg load_wide(const T* p, int64_t k) {
  if constexpr (std::is_same_v<T, float>) return k == D::width ? D::load_float(p) : D::load_float(p, k);
  else return k == D::width ? D::load(p) : D::load(p, k);
}

// out[0, k) = T(s * scale) (just T(s) when scale is 1, as the plain loop's store).
template <class D, class T>
inline void store_scaled(T* out, typename D::Reg s, double scale, int64_t k) {
  if (scale != 1.0) s = D::mul(s, D::set1(scale));
  if constexpr (std::is_same_v<T, float>) {
    if (k == D::width) D::store_float(out, s);
    else D::store_float(out, s, k);
  } else {
    if (k == D::width) D::store(out, s);
    else D::store(out, s, k);
  }
}

template <class D, class T>
void sum_rows_loop(const T* __restrict x, int64_t rows, int64_t n, double* __restrict acc, T* __restrict out,
                   double scale) {
  using R = typename D::Reg;
  constexpr int64_t W = D::width;
  if (rows * n * static_cast<int64_t>(sizeof(T)) > kSumRowsInRegistersBytes) {
    for (int64_t j = 0; j < n; ++j) acc[j] = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = x + r * n;
      for_blocks<D>(n, [&](int64_t j, int64_t k) {
        st<D>(acc + j, D::add(ld<D>(acc + j, k), load_wide<D>(row + j, k)), k);
      });
    }
    for_blocks<D>(n, [&](int64_t j, int64_t k) { store_scaled<D>(out + j, ld<D>(acc + j, k), scale, k); });
    return;
  }
  int64_t j = 0;
  for (; j + 4 * W <= n; j += 4 * W) {
    R s0 = D::set1(0.0), s1 = s0, s2 = s0, s3 = s0;
    const T* p = x + j;
    for (int64_t r = 0; r < rows; ++r, p += n) {
      s0 = D::add(s0, load_wide<D>(p, W));
      s1 = D::add(s1, load_wide<D>(p + W, W));
      s2 = D::add(s2, load_wide<D>(p + 2 * W, W));
      s3 = D::add(s3, load_wide<D>(p + 3 * W, W));
    }
    store_scaled<D>(out + j, s0, scale, W);
    store_scaled<D>(out + j + W, s1, scale, W);
    store_scaled<D>(out + j + 2 * W, s2, scale, W);
    store_scaled<D>(out + j + 3 * W, s3, scale, W);
  }
  for_blocks<D>(n - j, [&](int64_t jj, int64_t k) {
    R s = D::set1(0.0);
    const T* p = x + j + jj;
    if (k == W)
      for (int64_t r = 0; r < rows; ++r, p += n) s = D::add(s, load_wide<D>(p, W));
    else
      for (int64_t r = 0; r < rows; ++r, p += n) s = D::add(s, load_wide<D>(p, k));
    store_scaled<D>(out + j + jj, s, scale, k);
  });
}

}  // namespace
}  // namespace gdcore::kernels::simd
