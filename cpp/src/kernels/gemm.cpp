// gemm: BLAS (sgemm/dgemm) for every product big enough to pay for the call, the SIMD paths'
// small-product kernel below that (kernels/simd/small_gemm_loops.hpp), plain loops for dot
// products and a few other shapes (gemm_path says which). The BLAS operands are described by a transpose flag and a leading
// dimension; any strided view with one unit stride maps onto that without a copy.
#include "kernels/gemm.hpp"
#include "kernels/simd/dispatch.hpp"
#include "kernels/tiny_products.hpp"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <mutex>
#include <optional>
#include <vector>

namespace gdcore::kernels {

namespace {
// The guards alive (BlasOnCallingThread) and the thread count to restore when the last one goes.
std::mutex g_blas_guard;
int g_blas_guards = 0, g_blas_restore = 1;
}  // namespace

int blas_threads() {
  std::lock_guard<std::mutex> lock(g_blas_guard);
  return g_blas_guards > 0 ? g_blas_restore : scipy_openblas_get_num_threads();
}

void set_blas_threads(int n) {
  std::lock_guard<std::mutex> lock(g_blas_guard);
  if (g_blas_guards > 0)
    g_blas_restore = n;  // (takes effect when the last guard goes)
  else
    scipy_openblas_set_num_threads(n);
}

BlasOnCallingThread::BlasOnCallingThread() {
  std::lock_guard<std::mutex> lock(g_blas_guard);
  if (g_blas_guards++ > 0) return;
  g_blas_restore = scipy_openblas_get_num_threads();
  if (g_blas_restore > 1) scipy_openblas_set_num_threads(1);  // (about 1 us)
}

BlasOnCallingThread::~BlasOnCallingThread() {
  std::lock_guard<std::mutex> lock(g_blas_guard);
  if (--g_blas_guards > 0) return;
  if (g_blas_restore != scipy_openblas_get_num_threads()) scipy_openblas_set_num_threads(g_blas_restore);
}

namespace {

// When the plain loops beat the BLAS call (measured on a 2-core AMD EPYC where OpenBLAS runs
// its Haswell kernels, float32, best of 7, the other core busy; time of BLAS / plain loop):
//  - tiny products: OpenBLAS costs 90-200 ns per call whatever the size. Squares: 6^3 0.9,
//    7^3 0.7, 8^3 0.6, 16^3 0.3, 32^3 0.1-0.3; one column: 3x1x100 1.9, 8x1x64 0.9,
//    16x1x64 0.5. So products under 512 multiply-adds take the plain loop;
//  - one row times a matrix with contiguous rows (the backward of a batch-1 Linear layer)
//    or times one column (a dot product): 1.4-2.5x from 1x64x64 up to 1x4096x4096, and
//    about 2x for dot products of 1000 to 100000 elements. (With B transposed, or with
//    two rows or more, BLAS wins.)
constexpr double kPlainBelowMultiplyAdds = 512;

bool plain_is_faster(int64_t m, int64_t n, int64_t k, int64_t b_col_stride) {
  // (The product in double: m * n * k of sizes that each fit an int may overflow int64.)
  return static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) < kPlainBelowMultiplyAdds ||
         (m == 1 && (n == 1 || b_col_stride == 1));
}

// Which products the small-product kernel (kernels/simd/small_gemm_loops.hpp) takes from BLAS and
// the plain loops. Measured on the 2-core AMD EPYC (matmul calls, float32, one BLAS thread, best of
// 7; time of BLAS / small kernel on AVX-512 and with OpenBLAS's Haswell kernels on AVX2):
//  - the classification MLP's products (32x32x20, 32x5x32, 20x32x32, 32x32x5, every layout):
//    1.0-2.1 (each call also leaves OpenBLAS's buffer set-up: 11,000 instructions a step);
//  - squares with contiguous rows of B: 1.1-1.6 at 16^3, 0.9-1.4 at 24^3-80^3 (a tie from 32^3 on);
//  - B without contiguous rows (x @ w.t()) is copied into a panel first, which costs as much as the
//    product unless A has many rows: 0.1-0.5 with fewer than 16 rows (1x400x120, 4x256x64,
//    16x16x256), 0.6-1.1 at 32^3-64^3;
//  - fewer columns than an AVX-512 vector holds waste lanes: 0.4 at 256x4x64, 0.8-0.95 at 64x10x84.
// So: at least two columns, at most 32,768 multiply-adds (32^3), at most 8,192 with fewer than 8
// columns, and a B without contiguous rows only with 16 rows or more and k <= 64. (One column, a dot
// or a matrix-vector product, stays with the plain loops or BLAS as before.)
constexpr double kSmallUpToMultiplyAdds = 32768, kSmallNarrowUpTo = 8192;
constexpr int64_t kSmallNarrowColumns = 8, kSmallPackedMinRows = 16, kSmallPackedMaxK = 64;
static_assert(kSmallPackedMaxK <= simd::kSmallGemmMaxPackedK, "the packed panel must fit the kernel's buffer");

bool small_is_faster(int64_t m, int64_t n, int64_t k, int64_t b_col_stride) {
  const double multiply_adds = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (n < 2 || multiply_adds > kSmallUpToMultiplyAdds) return false;
  if (n < kSmallNarrowColumns && multiply_adds > kSmallNarrowUpTo) return false;
  return b_col_stride == 1 || (m >= kSmallPackedMinRows && k <= kSmallPackedMaxK);
}

// Products of fewer multiply-adds than this run on the calling thread whatever OpenBLAS's thread count
// (OpenBLAS itself keeps those under 2^18 there). Measured on the d2l LeNet step (2-core EPYC, Linear
// layers of 256 x 400 x 120 and 256 x 120 x 84): each product takes 0.05-0.3 ms on one core, so a
// second thread could save at most ~0.15 ms, but OpenBLAS's worker then spins on the other core
// (its thread timeout, ~0.1 s) while gdcore's own kernel threads want it; with two OpenBLAS threads the
// step spent 60% of its CPU time in OpenBLAS's spin and wait loops (perf), 17 ms of CPU per step
// against 60. 2^24 is 256^3: square products from 256 on keep both of OpenBLAS's threads.
constexpr double kBlasThreadsFromMultiplyAdds = double(int64_t{1} << 24);

bool fits_blasint(int64_t v) { return v >= 0 && v <= INT_MAX; }

// How a (rows x cols) strided matrix is passed to row-major BLAS without a copy.
struct BlasOperand {
  CBLAS_TRANSPOSE trans;
  blasint ld;
};

std::optional<BlasOperand> as_blas_operand(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  // A stride along a dimension of size 1 is never followed, so any value will do there.
  const int64_t dense_row = std::max<int64_t>(cols, 1), dense_col = std::max<int64_t>(rows, 1);
  if ((cols <= 1 || col_stride == 1) && (rows <= 1 || row_stride >= dense_row)) {
    const int64_t ld = rows <= 1 ? dense_row : row_stride;
    if (fits_blasint(ld)) return BlasOperand{CblasNoTrans, static_cast<blasint>(ld)};
  }
  if ((rows <= 1 || row_stride == 1) && (cols <= 1 || col_stride >= dense_col)) {
    const int64_t ld = cols <= 1 ? dense_col : col_stride;
    if (fits_blasint(ld)) return BlasOperand{CblasTrans, static_cast<blasint>(ld)};
  }
  return std::nullopt;
}

// Copies a strided matrix into `buffer`, contiguous row-major, and returns the dense view.
template <typename T>
MatrixRef<T> pack(int64_t rows, int64_t cols, MatrixRef<T> x, std::vector<T>& buffer) {
  buffer.resize(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) buffer[i * cols + j] = x.data[i * x.row_stride + j * x.col_stride];
  return {buffer.data(), cols, 1};
}

void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k, const float* a, blasint lda,
               const float* b, blasint ldb, float beta, float* c, blasint ldc) {
  scipy_cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k, const double* a, blasint lda,
               const double* b, blasint ldb, double beta, double* c, blasint ldc) {
  scipy_cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

GemmPath gemm_path(int64_t m, int64_t n, int64_t k, int64_t b_col_stride) {
  if (small_is_faster(m, n, k, b_col_stride)) return GemmPath::Small;
  return plain_is_faster(m, n, k, b_col_stride) ? GemmPath::Plain : GemmPath::Blas;
}

bool gemm_takes_plain_loop(int64_t m, int64_t n, int64_t k, int64_t b_col_stride) {
  return gemm_path(m, n, k, b_col_stride) == GemmPath::Plain;
}

template <typename T>
void gemm_small(int64_t m, int64_t n, int64_t k, MatrixRef<T> a, MatrixRef<T> b, T* c, int64_t ldc, bool accumulate) {
  simd::kernels_for<T>().small_gemm(m, n, k, a.data, a.row_stride, a.col_stride, b.data, b.row_stride, b.col_stride,
                                    c, ldc, accumulate);
}

template <typename T>
void gemm_plain(int64_t m, int64_t n, int64_t k, MatrixRef<T> a, MatrixRef<T> b, T* c, int64_t ldc, bool accumulate) {
  if (b.col_stride == 1 && n > 1) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, T(0));
    // i-k-j: the innermost loop is a contiguous axpy over a row of B. Blocking over k and n
    // keeps a panel of B in cache while the rows of A stream past it.
    constexpr int64_t kBlockK = 128, kBlockN = 512;
    for (int64_t n0 = 0; n0 < n; n0 += kBlockN) {
      const int64_t n1 = std::min(n, n0 + kBlockN);
      for (int64_t k0 = 0; k0 < k; k0 += kBlockK) {
        const int64_t k1 = std::min(k, k0 + kBlockK);
        for (int64_t i = 0; i < m; ++i) {
          T* __restrict crow = c + i * ldc;
          for (int64_t p = k0; p < k1; ++p) {
            // No skip of zero entries of A: 0 * inf and 0 * NaN must give NaN, as in numpy and torch.
            const T aip = a.data[i * a.row_stride + p * a.col_stride];
            const T* __restrict brow = b.data + p * b.row_stride;
            for (int64_t j = n0; j < n1; ++j) crow[j] += aip * brow[j];
          }
        }
      }
    }
    return;
  }
  if (k == 1) {  // an outer product (the weight gradient of a batch-1 Linear layer): as below, unrolled
    const T* __restrict ap = a.data;
    const T* __restrict bp = b.data;
    T* __restrict cp = c;
    if (n == 1 && !accumulate) {
      const T b0 = bp[0];
      if (ldc == 1 && a.row_stride == 1)  // contiguous column times a number (tiny_products.hpp)
        column_times(cp, ap, b0, m);
      else
        for (int64_t i = 0; i < m; ++i) cp[i * ldc] = T(0) + (T(0) + ap[i * a.row_stride] * b0);
      return;
    }
    for (int64_t i = 0; i < m; ++i) {
      const T ai = ap[i * a.row_stride];
      T* crow = cp + i * ldc;
      for (int64_t j = 0; j < n; ++j) {
        const T sum = T(0) + ai * bp[j * b.col_stride];
        crow[j] = (accumulate ? crow[j] : T(0)) + sum;
      }
    }
    return;
  }
  // B read by columns (e.g. a transposed weight) or a single column: one dot product per entry of C.
  // (The sums run in order, p = 0, 1, ...: the same result whichever loop below runs.)
  const bool unit = a.col_stride == 1 && b.row_stride == 1;
  if (m == 1 && n == 1 && unit) {  // a dot product of contiguous vectors
    // Four running sums (tiny_products.hpp: a lowered step runs the same body, unrolled).
    const T sum = dot_four_sums(a.data, b.data, k);
    c[0] = (accumulate ? c[0] : T(0)) + sum;
    return;
  }
  for (int64_t i = 0; i < m; ++i) {
    const T* arow = a.data + i * a.row_stride;
    for (int64_t j = 0; j < n; ++j) {
      const T* bcol = b.data + j * b.col_stride;
      T sum = T(0);
      if (unit)
        for (int64_t p = 0; p < k; ++p) sum += arow[p] * bcol[p];
      else
        for (int64_t p = 0; p < k; ++p) sum += arow[p * a.col_stride] * bcol[p * b.row_stride];
      // (0 + sum, not sum: the same result as adding into a zeroed C, -0.0 included; no fill pass,
      // which for a column of C would be one memset call per entry.)
      T& cij = c[i * ldc + j];
      cij = (accumulate ? cij : T(0)) + sum;
    }
  }
}

template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, MatrixRef<T> a, MatrixRef<T> b, T* c, int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, T(0));
    return;
  }
  switch (gemm_path(m, n, k, b.col_stride)) {
    case GemmPath::Plain: return gemm_plain(m, n, k, a, b, c, ldc, accumulate);
    case GemmPath::Small: return gemm_small(m, n, k, a, b, c, ldc, accumulate);
    case GemmPath::Blas: break;
  }
  // With one row, C's row stride is never followed (BLAS still wants ldc >= n).
  const int64_t ldc_blas = m == 1 ? n : ldc;
  const bool blas_sizes = fits_blasint(m) && fits_blasint(n) && fits_blasint(k) && fits_blasint(ldc_blas);
  if (!blas_sizes) return gemm_plain(m, n, k, a, b, c, ldc, accumulate);
  std::vector<T> a_buffer, b_buffer;
  auto op_a = as_blas_operand(m, k, a.row_stride, a.col_stride);
  if (!op_a) {
    a = pack(m, k, a, a_buffer);
    op_a = as_blas_operand(m, k, a.row_stride, a.col_stride);
  }
  auto op_b = as_blas_operand(k, n, b.row_stride, b.col_stride);
  if (!op_b) {
    b = pack(k, n, b, b_buffer);
    op_b = as_blas_operand(k, n, b.row_stride, b.col_stride);
  }
  const double multiply_adds = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  std::optional<BlasOnCallingThread> one_thread;
  if (multiply_adds > double(int64_t{1} << 18) && multiply_adds < kBlasThreadsFromMultiplyAdds) one_thread.emplace();
  blas_gemm(op_a->trans, op_b->trans, static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k),
            a.data, op_a->ld, b.data, op_b->ld, accumulate ? T(1) : T(0), c, static_cast<blasint>(ldc_blas));
}

#define GD_GEMM_KERNELS(T)                                                                                      \
  template void gemm<T>(int64_t, int64_t, int64_t, MatrixRef<T>, MatrixRef<T>, T*, int64_t, bool);           \
  template void gemm_plain<T>(int64_t, int64_t, int64_t, MatrixRef<T>, MatrixRef<T>, T*, int64_t, bool);       \
  template void gemm_small<T>(int64_t, int64_t, int64_t, MatrixRef<T>, MatrixRef<T>, T*, int64_t, bool);
GD_GEMM_KERNELS(float)
GD_GEMM_KERNELS(double)
#undef GD_GEMM_KERNELS

}  // namespace gdcore::kernels
