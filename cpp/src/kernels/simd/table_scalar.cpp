// The kernel table of the baseline path: plain x86-64, no flags beyond the project's own; runs on any CPU.
// Only dispatch.cpp calls scalar_table(), after checking that the CPU supports the path.
#include "kernels/simd/vec_scalar.hpp"
#include "kernels/simd/update_loops.hpp"
#include "kernels/simd/sigmoid_loop.hpp"

namespace gdcore::kernels::simd {

const KernelTable& scalar_table() {
  static const KernelTable table{SimdPath::Scalar, make_kernels<ScalarVec, float>(), make_kernels<ScalarVec, double>(),
                                 &sigmoid_loop<ScalarVec<float>>};
  return table;
}

}  // namespace gdcore::kernels::simd
