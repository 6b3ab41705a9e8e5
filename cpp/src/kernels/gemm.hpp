// Matrix product kernel: C (m x n, row-major, contiguous) = A (m x k) @ B (k x n).
// A may have any strides; B must have unit column stride (rows contiguous) so that
// the inner loop over n vectorises. Pointers and sizes in, nothing else.
#pragma once
#include <cstdint>

namespace gdcore::kernels {

template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t a_row, int64_t a_col, const T* b, int64_t b_row,
          T* c);

extern template void gemm<float>(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t,
                                 float*);
extern template void gemm<double>(int64_t, int64_t, int64_t, const double*, int64_t, int64_t, const double*, int64_t,
                                  double*);

}  // namespace gdcore::kernels
