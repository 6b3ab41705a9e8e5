// Which SIMD path gdcore's bandwidth-bound kernels (optimizer updates, mse_loss) run on,
// and how many threads a large kernel call is split over. The path is chosen once at the
// first kernel call: the best one the CPU supports, or the one the environment variable
// GDCORE_SIMD names (avx512, avx2, scalar, auto); a bad value throws std::invalid_argument.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gdcore {

// "avx512", "avx2" or "scalar".
std::string simd_path();
// The paths this CPU can run, slowest first ("scalar" is always there).
std::vector<std::string> simd_paths();
// Switches every later kernel call to `name`; throws std::invalid_argument for an unknown
// name or a path this CPU cannot run. For tests and benchmarks.
void set_simd_path(const std::string& name);
// Threads a large kernel call is split over (min(2, hardware threads) by default).
int kernel_threads();
// 1..64; throws std::invalid_argument otherwise. For tests and benchmarks.
void set_kernel_threads(int n);
// Arrays from this many elements on are split over the kernel threads.
int64_t kernel_parallel_min();
// Threads OpenBLAS splits a matrix product over; set_blas_threads throws std::invalid_argument
// for n < 1. (DataLoader workers set both counts to 1, as torch's do.)
int blas_threads();
void set_blas_threads(int n);
// out[k] = exp(x[k]) with the float exp of the active path's softmax kernels
// (kernels/simd/softmax_loops.hpp), for the tests that measure its error.
void simd_exp(const float* x, float* out, int64_t n);

}  // namespace gdcore
