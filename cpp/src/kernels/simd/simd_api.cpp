// gdcore/simd.hpp: the public face of kernels/simd/ (names instead of enums) for the
// bindings and other callers outside the kernels.
#include "gdcore/simd.hpp"

#include <stdexcept>
#include <string>

#include "kernels/gemm.hpp"
#include "kernels/simd/dispatch.hpp"
#include "kernels/simd/parallel.hpp"

namespace gdcore {

std::string simd_path() { return kernels::simd::path_name(kernels::simd::active_path()); }

std::vector<std::string> simd_paths() {
  std::vector<std::string> out;
  for (kernels::simd::SimdPath p : kernels::simd::supported_paths()) out.emplace_back(kernels::simd::path_name(p));
  return out;
}

void set_simd_path(const std::string& name) { kernels::simd::set_active_path(name); }

int kernel_threads() { return kernels::simd::kernel_threads(); }

void set_kernel_threads(int n) { kernels::simd::set_kernel_threads(n); }

int64_t kernel_parallel_min() { return kernels::simd::kParallelMin; }

int blas_threads() { return kernels::blas_threads(); }

void set_blas_threads(int n) {
  if (n < 1) throw std::invalid_argument("BLAS threads must be at least 1, got " + std::to_string(n));
  kernels::set_blas_threads(n);
}

void simd_exp(const float* x, float* out, int64_t n) { kernels::simd::kernels_for<float>().exp(x, out, n); }

}  // namespace gdcore
