// The gemm kernel on every operand layout it treats differently (contiguous, transposed,
// either with a wider leading dimension, stride 0, step > 1), on every side of the plain-loop /
// small-kernel / BLAS lines, with and without accumulation, against a plain triple loop in long double.
// Under AddressSanitizer this also checks that no layout makes BLAS read past an operand.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/gemm.hpp"

namespace gdcore::kernels {
namespace {

enum class Layout { Contiguous, Transposed, WideRows, WideTransposed, Broadcast, Step2 };
const Layout kLayouts[] = {Layout::Contiguous, Layout::Transposed,  Layout::WideRows,
                           Layout::WideTransposed, Layout::Broadcast, Layout::Step2};

std::string layout_name(Layout l) {
  switch (l) {
    case Layout::Contiguous: return "contiguous";
    case Layout::Transposed: return "transposed";
    case Layout::WideRows: return "wide rows";
    case Layout::WideTransposed: return "wide transposed";
    case Layout::Broadcast: return "broadcast";
    case Layout::Step2: return "step 2";
  }
  return "?";
}

// A (rows x cols) matrix stored in one layout, in a buffer sized exactly for it.
template <typename T>
struct Stored {
  std::vector<T> buffer;
  MatrixRef<T> ref;
  T at(int64_t i, int64_t j) const { return ref.data[i * ref.row_stride + j * ref.col_stride]; }
};

template <typename T>
Stored<T> make_matrix(int64_t rows, int64_t cols, Layout layout, std::mt19937& rng) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Stored<T> s;
  int64_t rs = 0, cs = 0, size = 0;
  switch (layout) {
    case Layout::Contiguous: rs = cols, cs = 1, size = rows * cols; break;
    case Layout::Transposed: rs = 1, cs = rows, size = rows * cols; break;
    case Layout::WideRows: rs = cols + 3, cs = 1, size = rows == 0 ? 0 : (rows - 1) * (cols + 3) + cols; break;
    case Layout::WideTransposed: rs = 1, cs = rows + 2, size = cols == 0 ? 0 : (cols - 1) * (rows + 2) + rows; break;
    case Layout::Broadcast: rs = 0, cs = 1, size = cols; break;  // every row the same
    case Layout::Step2: rs = 4 * cols, cs = 2, size = rows == 0 || cols == 0 ? 0 : (rows - 1) * 4 * cols + 2 * cols - 1; break;
  }
  s.buffer.resize(static_cast<size_t>(size));
  for (T& v : s.buffer) v = static_cast<T>(uniform(rng));
  s.ref = {s.buffer.data(), rs, cs};
  return s;
}

template <typename T>
void check_product(int64_t m, int64_t n, int64_t k, Layout la, Layout lb, bool accumulate, std::mt19937& rng,
                   bool small_kernel = false) {
  const Stored<T> a = make_matrix<T>(m, k, la, rng), b = make_matrix<T>(k, n, lb, rng);
  const int64_t ldc = n + 2;  // C rows with a gap: the gap must stay untouched
  std::vector<T> c(static_cast<size_t>(m * ldc), T(0.5));
  if (small_kernel)
    gemm_small<T>(m, n, k, a.ref, b.ref, c.data(), ldc, accumulate);
  else
    gemm<T>(m, n, k, a.ref, b.ref, c.data(), ldc, accumulate);
  const double eps = std::is_same_v<T, float> ? 1.2e-7 : 2.3e-16;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      long double expected = j < n && !accumulate ? 0.0L : 0.5L;
      if (j < n)
        for (int64_t p = 0; p < k; ++p) expected += static_cast<long double>(a.at(i, p)) * b.at(p, j);
      ASSERT_NEAR(static_cast<double>(c[i * ldc + j]), static_cast<double>(expected), 8 * (k + 1) * eps)
          << m << "x" << n << "x" << k << " A " << layout_name(la) << ", B " << layout_name(lb)
          << (accumulate ? ", accumulate" : "") << " at (" << i << ", " << j << ")";
    }
  }
}

struct Size3 {
  int64_t m, n, k;
};
// Both sides of the plain/BLAS line: tiny, one row, one column, dot product, odd BLAS sizes.
// (32x32x20, 32x5x32, 20x32x32, 5x32x32: the classification MLP's products, on the small kernel.)
const Size3 kSizes[] = {{3, 4, 5},   {1, 33, 17}, {29, 1, 40},  {1, 1, 300}, {8, 8, 8},  {37, 65, 29},
                        {70, 3, 2}, {32, 32, 20}, {32, 5, 32}, {20, 32, 32}, {5, 32, 32}, {17, 23, 64}};

TEST(Gemm, EveryLayoutAndSizeMatchesPlainLoops) {
  std::mt19937 rng(7);
  for (const Size3& s : kSizes)
    for (Layout la : kLayouts)
      for (Layout lb : kLayouts)
        for (bool accumulate : {false, true}) {
          check_product<float>(s.m, s.n, s.k, la, lb, accumulate, rng);
          check_product<double>(s.m, s.n, s.k, la, lb, accumulate, rng);
        }
}

TEST(Gemm, SmallKernelOnAnySizeAndLayout) {
  // gemm_small whatever gemm would choose: deep products (k = 300: a B without contiguous rows goes
  // one lane at a time past the kernel's panel buffer), wide ones, and the tiles' edges.
  std::mt19937 rng(10);
  const Size3 sizes[] = {{9, 40, 300}, {3, 70, 260}, {33, 35, 7}, {1, 2, 1}, {6, 16, 3}, {8, 33, 0}};
  for (const Size3& s : sizes)
    for (Layout la : kLayouts)
      for (Layout lb : kLayouts)
        for (bool accumulate : {false, true}) {
          check_product<float>(s.m, s.n, s.k, la, lb, accumulate, rng, true);
          check_product<double>(s.m, s.n, s.k, la, lb, accumulate, rng, true);
        }
}

TEST(Gemm, LargeProductsSplitOverBlasThreads) {
  // Big enough (7.9M multiply-adds) for OpenBLAS to use its thread pool.
  std::mt19937 rng(9);
  for (Layout la : {Layout::Contiguous, Layout::Transposed})
    for (Layout lb : {Layout::Contiguous, Layout::Transposed}) {
      check_product<float>(256, 192, 160, la, lb, false, rng);
      check_product<double>(256, 192, 160, la, lb, true, rng);
    }
}

TEST(Gemm, EmptyDimensions) {
  std::mt19937 rng(8);
  for (bool accumulate : {false, true}) {
    check_product<float>(40, 50, 0, Layout::Contiguous, Layout::Contiguous, accumulate, rng);  // C = 0 or unchanged
    check_product<double>(0, 50, 40, Layout::Contiguous, Layout::Transposed, accumulate, rng);
    check_product<double>(40, 0, 40, Layout::Transposed, Layout::Contiguous, accumulate, rng);
  }
}

TEST(Gemm, ZeroTimesInfinityIsNaN) {
  // BLAS must not skip zero entries of A: 0 * inf = NaN, as in numpy and torch.
  const int64_t n = 32;
  std::vector<float> a(n * n, 0.0f), b(n * n, INFINITY), c(n * n, 0.0f);
  gemm<float>(n, n, n, {a.data(), n, 1}, {b.data(), n, 1}, c.data(), n);
  for (float v : c) ASSERT_TRUE(std::isnan(v));
}

}  // namespace
}  // namespace gdcore::kernels
