// A cache-blocked i-k-j GEMM. Blocking over k and n keeps a panel of B in L1/L2
// while rows of A stream past it; the innermost loop is a contiguous axpy.
#include "kernels/gemm.hpp"

#include <algorithm>
#include <cstring>

namespace gdcore::kernels {

template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t a_row, int64_t a_col, const T* b, int64_t b_row,
          T* c) {
  std::memset(c, 0, sizeof(T) * static_cast<size_t>(m * n));
  constexpr int64_t kBlockK = 128, kBlockN = 512;
  for (int64_t n0 = 0; n0 < n; n0 += kBlockN) {
    const int64_t n1 = std::min(n, n0 + kBlockN);
    for (int64_t k0 = 0; k0 < k; k0 += kBlockK) {
      const int64_t k1 = std::min(k, k0 + kBlockK);
      for (int64_t i = 0; i < m; ++i) {
        T* __restrict crow = c + i * n;
        for (int64_t p = k0; p < k1; ++p) {
          // No skip of zero entries of A: 0 * inf and 0 * NaN must give NaN, as in numpy and torch.
          const T aip = a[i * a_row + p * a_col];
          const T* __restrict brow = b + p * b_row;
          for (int64_t j = n0; j < n1; ++j) crow[j] += aip * brow[j];
        }
      }
    }
  }
}

template void gemm<float>(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*);
template void gemm<double>(int64_t, int64_t, int64_t, const double*, int64_t, int64_t, const double*, int64_t,
                           double*);

}  // namespace gdcore::kernels
