// The loops of the mean squared error loss (ops/loss.cpp) over contiguous arrays of n
// elements: pointers, sizes and scalars in, nothing else. Each one reads its inputs once
// and writes its output once; they go through the SIMD dispatch of kernels/simd/ and are
// split over two threads for large arrays. Sums are taken in double over fixed chunks,
// so they are the same bits run to run and whatever the thread count.
#pragma once
#include <cstdint>

namespace gdcore::kernels {

// sum_k (x[k] - y[k])^2, the differences and the sum taken in double.
template <typename T>
double sq_diff_sum(const T* x, const T* y, int64_t n);

// The same sum, and grad[k] = scale * (x[k] - y[k]) written in the same pass: the loss
// and its gradient from one read of x and y.
template <typename T>
double sq_diff_sum_and_grad(const T* x, const T* y, T* grad, T scale, int64_t n);

// out[k] = (x[k] - y[k])^2.
template <typename T>
void sq_diff(const T* x, const T* y, T* out, int64_t n);

// out[k] = scale * (x[k] - y[k]).
template <typename T>
void scaled_diff(const T* x, const T* y, T* out, T scale, int64_t n);

// out[k] = scale * (x[k] - y[k]) * g[k].
template <typename T>
void diff_times(const T* x, const T* y, const T* g, T* out, T scale, int64_t n);

}  // namespace gdcore::kernels
