// Matrix product kernel: C (m x n) = A (m x k) @ B (k x n), or C += A @ B. The one place
// in gdcore that calls BLAS (OpenBLAS from the scipy-openblas32 package, sgemm/dgemm).
// A and B are read through their strides: a transposed operand (unit row stride) is handed
// to BLAS as a transpose, without a copy; only layouts BLAS cannot express (stride 0 from
// expand, negative or step > 1 slices) are packed into a contiguous buffer first.
// C is row-major with unit column stride and row stride ldc. Pointers and sizes in.
#pragma once
#include <cstdint>

namespace gdcore::kernels {

// A read-only matrix operand: element (i, j) is data[i * row_stride + j * col_stride].
// Threads OpenBLAS splits one product over (its own pool; OPENBLAS_NUM_THREADS at load time).
int blas_threads();
void set_blas_threads(int n);  // n >= 1

// While one of these lives (on any thread), OpenBLAS runs every product on the thread that calls
// it: its thread count is set to 1 by the first guard and restored by the last (set_blas_threads
// meanwhile changes the value to restore). For callers that split their work over gdcore's kernel
// threads themselves (the convolutions' chunk loops): there two threads' products neither queue on
// OpenBLAS's level-3 lock nor share the cores with its workers, which spin for a while after each
// call, and a product's result does not depend on how many threads OpenBLAS was allowed.
class BlasOnCallingThread {
 public:
  BlasOnCallingThread();
  ~BlasOnCallingThread();
  BlasOnCallingThread(const BlasOnCallingThread&) = delete;
  BlasOnCallingThread& operator=(const BlasOnCallingThread&) = delete;
};

template <typename T>
struct MatrixRef {
  const T* data;
  int64_t row_stride, col_stride;
};

// C = A @ B (accumulate = false) or C += A @ B (accumulate = true). With k == 0 the
// product is the zero matrix. C must not overlap A or B.
template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, MatrixRef<T> a, MatrixRef<T> b, T* c, int64_t ldc,
          bool accumulate = false);

extern template void gemm<float>(int64_t, int64_t, int64_t, MatrixRef<float>, MatrixRef<float>, float*, int64_t,
                                 bool);
extern template void gemm<double>(int64_t, int64_t, int64_t, MatrixRef<double>, MatrixRef<double>, double*,
                                  int64_t, bool);

// Which loops gemm(m, n, k, ...) runs, decided from the sizes and B's column stride alone (so a
// lowered step can decide once): the plain loops below, the small-product kernel of the SIMD path
// (gemm_small), or BLAS.
enum class GemmPath { Plain, Small, Blas };
GemmPath gemm_path(int64_t m, int64_t n, int64_t k, int64_t b_col_stride);

// The small-product kernel of the active SIMD path (kernels/simd/small_gemm_loops.hpp: register
// tiles, no packing, one thread, a fixed summation order), whatever the sizes. Same contract as gemm.
template <typename T>
void gemm_small(int64_t m, int64_t n, int64_t k, MatrixRef<T> a, MatrixRef<T> b, T* c, int64_t ldc,
                bool accumulate = false);

extern template void gemm_small<float>(int64_t, int64_t, int64_t, MatrixRef<float>, MatrixRef<float>, float*,
                                       int64_t, bool);
extern template void gemm_small<double>(int64_t, int64_t, int64_t, MatrixRef<double>, MatrixRef<double>, double*,
                                        int64_t, bool);

// True when gemm(m, n, k, ...) would take the plain loops (products too small for a BLAS call
// to pay off); callers that repeat one product (a lowered step) can then call gemm_plain.
bool gemm_takes_plain_loop(int64_t m, int64_t n, int64_t k, int64_t b_col_stride);

// The plain loops behind gemm (the path for products too small to be worth a BLAS call),
// exposed so that tests can check the two paths against each other.
template <typename T>
void gemm_plain(int64_t m, int64_t n, int64_t k, MatrixRef<T> a, MatrixRef<T> b, T* c, int64_t ldc,
                bool accumulate = false);

extern template void gemm_plain<float>(int64_t, int64_t, int64_t, MatrixRef<float>, MatrixRef<float>, float*,
                                       int64_t, bool);
extern template void gemm_plain<double>(int64_t, int64_t, int64_t, MatrixRef<double>, MatrixRef<double>, double*,
                                        int64_t, bool);

}  // namespace gdcore::kernels
