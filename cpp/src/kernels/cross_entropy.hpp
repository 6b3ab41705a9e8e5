// The loops of the fused cross-entropy loss (ops/cross_entropy.cpp) over M rows of C logits
// (contiguous, the class axis fastest) and M int64 class indices: pointers, sizes and scalars
// in, nothing else. Rows whose target is `ignore_index` contribute nothing.
#pragma once
#include <cstdint>

namespace gdcore::kernels {

// Checks every target (before any row is read): std::out_of_range naming the first index that
// is neither in [0, c) nor ignore_index, and the number of classes; `op` names the caller.
void check_class_targets(const int64_t* target, int64_t m, int64_t c, int64_t ignore_index, const char* op);
// The sum of w[t] (1 without weights) over the rows that are not ignored: mean's divisor.
template <typename T>
double target_weight_sum(const int64_t* target, const T* weight, int64_t m, int64_t ignore_index);

// Per row i with target t = target[i] (not ignored), p = softmax(x_i), W = sum_c w[c]:
//   loss[i] = (1 - eps) * w[t] * (-log p[t]) + (eps / C) * sum_c w[c] * (-log p[c])
//   grad[i, j] = scale * ((1 - eps) * w[t] + (eps / C) * W) * p[j] - scale * ((1 - eps) * w[t] [j == t] + (eps / C) * w[j])
// (softmax minus the smoothed, weighted one-hot). loss is written in double; grad may be null.
// Rows are split over two threads when there are many; each row's arithmetic is the same either way.
template <typename T>
void cross_entropy_rows(const T* x, const int64_t* target, const T* weight, int64_t m, int64_t c,
                        int64_t ignore_index, double eps, double* loss, T* grad, T scale);

// The same, every row through the one-row kernels (rows of any length take them otherwise only
// above the short-row length of the SIMD path): the loops the short rows' kernel must match, for tests.
template <typename T>
void cross_entropy_rows_one_by_one(const T* x, const int64_t* target, const T* weight, int64_t m, int64_t c,
                                   int64_t ignore_index, double eps, double* loss, T* grad, T scale);

}  // namespace gdcore::kernels
