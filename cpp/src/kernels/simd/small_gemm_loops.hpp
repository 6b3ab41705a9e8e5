// The small matrix product of the SIMD paths: C (m x n) = A (m x k) @ B (k x n), or C += A @ B,
// for the products too small for OpenBLAS to pay for its call and its packing (kernels/gemm.cpp
// decides which: a classification MLP's 32 x 32 x 20 and the like). Written once over a vector
// type V like update_loops.hpp and compiled once per SIMD path: scalar, AVX2+FMA, AVX-512.
//
// The method: C is cut into tiles of `rows` rows by up to `vectors` vectors of columns, each
// tile's sums held in registers for the whole of k; at each p one row of B's panel is loaded as
// vectors and every row's A[i, p] is broadcast and multiplied into it (broadcast-FMA). A is read
// through its strides (A or A^T alike, one number at a time); B is read as vectors along its
// rows when they are contiguous (B, or any view with column stride 1), otherwise (B^T: a
// Linear layer's weight.t()) each panel of at most `panel` columns is first copied into a small
// buffer on the stack, row by row and padded with zeros to whole vectors. No other copy, no
// allocation, no threads: the result does not depend on the thread count.
//
// The summation order, fixed for every layout and size: C[i, j] = s or C[i, j] + s (accumulate),
// with s = fma(A[i, k-1], B[k-1, j], ... fma(A[i, 1], B[1, j], fma(A[i, 0], B[0, j], 0))): one
// chain over p = 0, 1, ..., k-1 in order, a multiply-add rounded once on the AVX2 and AVX-512
// paths, a multiply then an add (rounded twice, the plain loop's bits) on the scalar path. So a
// product gives the same bits whichever layout its operands have, whichever tile or lane an entry
// falls in, and whatever the vector width (between avx2 and avx512; the scalar path differs only
// by its separate rounding). k = 0 gives C = 0 (or C unchanged). No zero entry of A is skipped:
// 0 * inf and 0 * NaN give NaN, as in numpy and torch.
//
// Everything here has internal linkage and no library header (see kernel_table.hpp).
#pragma once
#include <cstdint>

#include "kernels/simd/kernel_table.hpp"

namespace gdcore::kernels::simd {
namespace {

// Tile sizes per path: `rows` x `vectors` sums in registers, plus one B vector per column
// vector and a broadcast: AVX-512 has 32 registers (8 x 2 + 2 + 1), AVX2 16 (6 x 2 + 2 + 1),
// the scalar path's 4 x 4 sums fit SSE2's 16 registers.
template <class V>
struct SmallGemmShape {
  static constexpr bool wide = sizeof(typename V::Reg) == 64;
  static constexpr int rows = V::width == 1 ? 4 : (wide ? 8 : 6);
  static constexpr int vectors = V::width == 1 ? 4 : 2;
  static constexpr int64_t panel = vectors * V::width;  // columns of B per panel
};

// One tile: R rows of C by NV vectors of columns, the last vector `tail` lanes wide (1..width).
// b is the panel's row 0 (row stride brs, unit column stride); with TailLoad its last vector is
// read with a masked load (B's own memory ends there), otherwise in full (a padded panel).
template <class V, int R, int NV, bool TailLoad, class T = typename V::Elem>
inline void small_gemm_tile(int64_t k, const T* __restrict a, int64_t ars, int64_t acs, const T* __restrict b,
                            int64_t brs, int64_t tail, T* __restrict c, int64_t ldc, bool accumulate) {
  using Reg = typename V::Reg;
  constexpr int64_t W = V::width;
  Reg acc[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = V::set1(T(0));
  for (int64_t p = 0; p < k; ++p) {
    const T* bp = b + p * brs;
    Reg bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = TailLoad && v == NV - 1 ? V::load(bp + v * W, tail) : V::load(bp + v * W);
    const T* ap = a + p * acs;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const Reg ar = V::set1(ap[r * ars]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(ar, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      T* cp = c + r * ldc + v * W;
      if (v == NV - 1 && tail < W) {
        const Reg out = accumulate ? V::add(V::load(cp, tail), acc[r][v]) : acc[r][v];
        V::store(cp, out, tail);
      } else {
        V::store(cp, accumulate ? V::add(V::load(cp), acc[r][v]) : acc[r][v]);
      }
    }
}

// The last tile of a panel, of `rows` < R rows.
template <class V, bool TailLoad, int NV, int R, class T = typename V::Elem>
inline void small_gemm_last_rows(int64_t rows, int64_t k, const T* a, int64_t ars, int64_t acs, const T* b,
                                 int64_t brs, int64_t tail, T* c, int64_t ldc, bool accumulate) {
  if constexpr (R > 1)
    if (rows < R)
      return small_gemm_last_rows<V, TailLoad, NV, R - 1>(rows, k, a, ars, acs, b, brs, tail, c, ldc, accumulate);
  small_gemm_tile<V, R, NV, TailLoad>(k, a, ars, acs, b, brs, tail, c, ldc, accumulate);
}

// Every row of C against one panel of NV vectors of columns.
template <class V, bool TailLoad, int NV, class T = typename V::Elem>
void small_gemm_panel(int64_t m, int64_t k, const T* a, int64_t ars, int64_t acs, const T* b, int64_t brs,
                      int64_t tail, T* c, int64_t ldc, bool accumulate) {
  constexpr int R = SmallGemmShape<V>::rows;
  int64_t i = 0;
  for (; i + R <= m; i += R)
    small_gemm_tile<V, R, NV, TailLoad>(k, a + i * ars, ars, acs, b, brs, tail, c + i * ldc, ldc, accumulate);
  if (i < m)
    small_gemm_last_rows<V, TailLoad, NV, R - 1>(m - i, k, a + i * ars, ars, acs, b, brs, tail, c + i * ldc, ldc,
                                                 accumulate);
}

// small_gemm_panel for a run-time count of vectors nv (1..NV).
template <class V, bool TailLoad, int NV, class T = typename V::Elem>
void small_gemm_panel_of(int64_t nv, int64_t m, int64_t k, const T* a, int64_t ars, int64_t acs, const T* b,
                         int64_t brs, int64_t tail, T* c, int64_t ldc, bool accumulate) {
  if constexpr (NV > 1)
    if (nv < NV)
      return small_gemm_panel_of<V, TailLoad, NV - 1>(nv, m, k, a, ars, acs, b, brs, tail, c, ldc, accumulate);
  small_gemm_panel<V, TailLoad, NV>(m, k, a, ars, acs, b, brs, tail, c, ldc, accumulate);
}

// The panels of C, j = 0, P, 2P, ...: B's own rows when they are contiguous (Pack false), else
// each panel copied into a buffer first (Pack true; k <= kSmallGemmMaxPackedK).
template <class V, bool Pack, class T = typename V::Elem>
void small_gemm_panels(int64_t m, int64_t n, int64_t k, const T* a, int64_t ars, int64_t acs, const T* b,
                       int64_t brs, int64_t bcs, T* c, int64_t ldc, bool accumulate) {
  using S = SmallGemmShape<V>;
  constexpr int64_t W = V::width, P = S::panel;
  alignas(64) T buffer[Pack ? kSmallGemmMaxPackedK * P : 1];
  for (int64_t j = 0; j < n; j += P) {
    const int64_t cols = n - j < P ? n - j : P, nv = (cols + W - 1) / W, tail = cols - (nv - 1) * W;
    if constexpr (Pack) {  // B[:, j : j + cols] row by row into the buffer, each row padded to nv whole vectors
      const int64_t stride = nv * W;
      if (cols < stride)  // the last vector of each row zeroed whole first (its columns are written below)
        for (int64_t p = 0; p < k; ++p) V::store(buffer + p * stride + (nv - 1) * W, V::set1(T(0)));
      int64_t q = 0;
      for (; q + 4 <= cols; q += 4) {  // four columns of B at a time (for B^T: four contiguous rows)
        const T *s0 = b + (j + q) * bcs, *s1 = s0 + bcs, *s2 = s1 + bcs, *s3 = s2 + bcs;
        T* d = buffer + q;
        for (int64_t p = 0; p < k; ++p, d += stride) {
          d[0] = s0[p * brs];
          d[1] = s1[p * brs];
          d[2] = s2[p * brs];
          d[3] = s3[p * brs];
        }
      }
      for (; q < cols; ++q)
        for (int64_t p = 0; p < k; ++p) buffer[p * stride + q] = b[p * brs + (j + q) * bcs];
      small_gemm_panel_of<V, false, S::vectors>(nv, m, k, a, ars, acs, buffer, stride, tail, c + j, ldc, accumulate);
    } else if (tail < W) {
      small_gemm_panel_of<V, true, S::vectors>(nv, m, k, a, ars, acs, b + j, brs, tail, c + j, ldc, accumulate);
    } else {
      small_gemm_panel_of<V, false, S::vectors>(nv, m, k, a, ars, acs, b + j, brs, tail, c + j, ldc, accumulate);
    }
  }
}

// The kernel of the tables (see Kernels::small_gemm for the contract).
template <class V, class T = typename V::Elem>
void small_gemm_loop(int64_t m, int64_t n, int64_t k, const T* a, int64_t ars, int64_t acs, const T* b, int64_t brs,
                     int64_t bcs, T* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = T(0);
    return;
  }
  if (n == 1 || bcs == 1) return small_gemm_panels<V, false>(m, n, k, a, ars, acs, b, brs, 1, c, ldc, accumulate);
  if (k <= kSmallGemmMaxPackedK) return small_gemm_panels<V, true>(m, n, k, a, ars, acs, b, brs, bcs, c, ldc, accumulate);
  // Too deep for the buffer (gemm.cpp sends none of these here): column by column, one lane of V
  // at a time, which gives each entry the same bits.
  using L = LaneOf<V>;
  for (int64_t j = 0; j < n; ++j)
    small_gemm_panel<L, false, 1>(m, k, a, ars, acs, b + j * bcs, brs, 1, c + j, ldc, accumulate);
}
}  // namespace
}  // namespace gdcore::kernels::simd
