// The kernel table of the AVX2+FMA path; CMakeLists.txt compiles this file (only) with -mavx2 -mfma.
// Only dispatch.cpp calls avx2_table(), after checking that the CPU supports the path.
#include "kernels/simd/vec_avx2.hpp"
#include "kernels/simd/update_loops.hpp"
#include "kernels/simd/sigmoid_loop.hpp"

namespace gdcore::kernels::simd {

const KernelTable& avx2_table() {
  static const KernelTable table{SimdPath::Avx2, make_kernels<Avx2Vec, float>(), make_kernels<Avx2Vec, double>(),
                                 &sigmoid_loop<Avx2Vec<float>>};
  return table;
}

}  // namespace gdcore::kernels::simd
