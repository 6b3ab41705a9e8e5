// The table of range kernels that each SIMD path provides (see dispatch.hpp for how one
// is chosen). This header is included by the files compiled with AVX2 / AVX-512 flags,
// so it holds plain data only: including anything with inline library code here could
// let an AVX-compiled copy of that code be linked into the baseline build.
#pragma once
#include <cstdint>

#include "kernels/optim_update.hpp"

namespace gdcore::kernels::simd {

// The deepest product (k) for which small_gemm copies a panel of a B without contiguous rows
// into its stack buffer (at most 32 KB); deeper ones still give the same bits, one lane at a time.
inline constexpr int64_t kSmallGemmMaxPackedK = 256;

enum class SimdPath { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// The range kernels of one path for element type T.
template <typename T>
struct Kernels {
  void (*sgd)(T* param, const T* grad, T* momentum_buffer, int64_t n, const SgdScalars& s);
  void (*adam)(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, int64_t n,
               const AdamScalars& s);
  // sum over k of (x[k] - y[k])^2, the difference and the sum taken in double.
  double (*sq_diff_sum)(const T* x, const T* y, int64_t n);
  // The same sum, and grad[k] = scale * (x[k] - y[k]) (in T) written in the same pass.
  double (*sq_diff_sum_and_grad)(const T* x, const T* y, T* grad, T scale, int64_t n);
  // out[k] = (x[k] - y[k])^2 (in T).
  void (*sq_diff)(const T* x, const T* y, T* out, int64_t n);
  // out[k] = scale * (x[k] - y[k]) (in T).
  void (*scaled_diff)(const T* x, const T* y, T* out, T scale, int64_t n);
  // out[k] = scale * (x[k] - y[k]) * g[k] (in T).
  void (*diff_times)(const T* x, const T* y, const T* g, T* out, T scale, int64_t n);
  // The softmax-row loops of softmax_loops.hpp (cross_entropy). max_k x[k]:
  T (*row_max)(const T* x, int64_t n);
  // out[k] = exp(x[k] - shift) (out may be null); returns the sum of those exponentials.
  double (*exp_shift_sum)(const T* x, T shift, T* out, int64_t n);
  // x[k] *= a.
  void (*scale)(T* x, T a, int64_t n);
  // out[k] = exp(x[k]) (the float exp of softmax_loops.hpp; for its tests).
  void (*exp)(const T* x, T* out, int64_t n);
  // SGD without momentum, weight decay or maximize: param[k] -= lr * grad[k] (sgd's bits for those options).
  void (*sgd_plain)(T* param, const T* grad, int64_t n, T lr);
  // C (m x n, row stride ldc, unit column stride) = A (m x k) @ B (k x n), or C += A @ B with
  // accumulate, element (i, j) of A at a[i * ars + j * acs] and of B at b[i * brs + j * bcs] (any
  // strides; C must not overlap A or B). Single-threaded, in the fixed order of small_gemm_loops.hpp.
  void (*small_gemm)(int64_t m, int64_t n, int64_t k, const T* a, int64_t ars, int64_t acs, const T* b,
                     int64_t brs, int64_t bcs, T* c, int64_t ldc, bool accumulate);
  // out[j] = T(s_j * scale) (T(s_j) when scale is 1) for the column sums s_j of the contiguous
  // (rows, n) array x, each taken in double from +0.0 over the rows in order (sum_rows_loops.hpp);
  // acc is n doubles of scratch.
  void (*sum_rows)(const T* x, int64_t rows, int64_t n, double* acc, T* out, double scale);
  // For m contiguous rows of c <= short_row_max elements: shift[i] = row_max of row i (+0 when
  // infinite), out = exp(x - shift[row]) and sum[i] = exp_shift_sum of row i, with those kernels'
  // bits, many rows per vector (softmax_loops.hpp; cross_entropy's short rows).
  void (*short_rows_exp)(const T* x, int64_t m, int64_t c, T* shift, T* out, double* sum);
  int64_t short_row_max;
  // The loops around a Linear-ReLU layer (activation_loops.hpp), each with the bits of the plain
  // expression: out[r, j] = x[r, j] + row[j] over contiguous (rows, cols); out = x > 0 ? x : 0;
  // out = g * (y > 0 ? 1 : 0).
  void (*add_row)(const T* x, const T* row, T* out, int64_t rows, int64_t cols);
  void (*relu)(const T* x, T* out, int64_t n);
  void (*relu_grad)(const T* g, const T* y, T* out, int64_t n);
};

struct KernelTable {
  SimdPath path;
  Kernels<float> f32;
  Kernels<double> f64;
  // out[k] = 1 / (1 + exp(-x[k])) in float32 (sigmoid_loop.hpp).
  void (*sigmoid_f32)(const float* x, float* out, int64_t n);
};

// The tables, one per file compiled with that path's flags. Calling one the CPU does not
// support is undefined (illegal instruction): go through active_table() in dispatch.hpp.
const KernelTable& scalar_table();
const KernelTable& avx2_table();
const KernelTable& avx512_table();

}  // namespace gdcore::kernels::simd
