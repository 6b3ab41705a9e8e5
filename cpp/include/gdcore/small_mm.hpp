// A test hook on the small-product kernel of the SIMD paths (kernels/simd/small_gemm_loops.hpp),
// kept out of ops.hpp: it is no op, only a way for the tests to reach the kernel on any sizes.
#pragma once
#include "gdcore/tensor.hpp"

namespace gdcore {

// a @ b (2-d float tensors of one dtype, read through their strides) with the active path's small-
// product kernel whatever the sizes, without a graph. Given `out` (contiguous, shape (a rows, b
// columns), same dtype), adds a @ b into it instead and returns it. Bad shapes or dtypes throw
// std::invalid_argument.
Tensor small_mm_for_tests(const Tensor& a, const Tensor& b, const Tensor* out);

}  // namespace gdcore
