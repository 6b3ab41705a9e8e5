// The kernel table of the AVX-512F path; CMakeLists.txt compiles this file (only) with -mavx512f -mavx2 -mfma.
// Only dispatch.cpp calls avx512_table(), after checking that the CPU supports the path.
#include "kernels/simd/vec_avx512.hpp"
#include "kernels/simd/update_loops.hpp"
#include "kernels/simd/sigmoid_loop.hpp"

namespace gdcore::kernels::simd {

const KernelTable& avx512_table() {
  static const KernelTable table{SimdPath::Avx512, make_kernels<Avx512Vec, float>(), make_kernels<Avx512Vec, double>(),
                                 &sigmoid_loop<Avx512Vec<float>>};
  return table;
}

}  // namespace gdcore::kernels::simd
