// Column sums of a contiguous (rows, n) array over its rows: the reductions over leading dims
// (a Linear layer's bias gradient g.sum(0), and mean over the same dims) in ops/reduction.cpp.
// One thread, the active SIMD path's kernel (kernels/simd/sum_rows_loops.hpp): each column is
// one chain of additions in double over the rows in order, so every path gives the same bits.
#pragma once
#include <cstdint>

namespace gdcore::kernels {

// out[j] = T(scale * sum_r double(x[r * n + j])) (no multiply when scale is 1); acc is n
// doubles of scratch.
template <typename T>
void sum_rows(const T* x, int64_t rows, int64_t n, double* acc, T* out, double scale);

}  // namespace gdcore::kernels
