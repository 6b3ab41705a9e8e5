// gesdd through LAPACKE's row-major interface (it transposes into LAPACK's column-major
// layout and back, and allocates the workspace itself). The dimensions fit LAPACK's 32-bit
// integers or the call is refused before LAPACK sees them.
#include "kernels/svd.hpp"

#include <lapacke.h>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

namespace gdcore::kernels {

namespace {
lapack_int checked(int64_t v) {
  if (v < 0 || v > INT_MAX)
    throw std::invalid_argument("linalg.svd: a matrix dimension of " + std::to_string(v) +
                                " is too large for LAPACK's 32-bit sizes");
  return static_cast<lapack_int>(v);
}

char job(SvdVectors v) { return v == SvdVectors::None ? 'N' : v == SvdVectors::Reduced ? 'S' : 'A'; }

lapack_int call(int layout, char jobz, lapack_int m, lapack_int n, float* a, lapack_int lda, float* s, float* u,
                lapack_int ldu, float* vt, lapack_int ldvt) {
  return scipy_LAPACKE_sgesdd(layout, jobz, m, n, a, lda, s, u, ldu, vt, ldvt);
}
lapack_int call(int layout, char jobz, lapack_int m, lapack_int n, double* a, lapack_int lda, double* s, double* u,
                lapack_int ldu, double* vt, lapack_int ldvt) {
  return scipy_LAPACKE_dgesdd(layout, jobz, m, n, a, lda, s, u, ldu, vt, ldvt);
}
}  // namespace

template <typename T>
int64_t svd(int64_t m, int64_t n, T* a, T* s, T* u, T* vt, SvdVectors vectors) {
  const lapack_int mi = checked(m), ni = checked(n);
  const lapack_int k = std::min(mi, ni);
  // Row-major leading dimensions: the number of columns of each matrix (at least 1, as LAPACK wants).
  const lapack_int ucols = vectors == SvdVectors::Full ? mi : k;

  const lapack_int lda = std::max<lapack_int>(ni, 1), ldu = std::max<lapack_int>(ucols, 1),
                   ldvt = std::max<lapack_int>(ni, 1);
  T dummy = 0;
  if (vectors == SvdVectors::None) u = vt = &dummy;
  return call(LAPACK_ROW_MAJOR, job(vectors), mi, ni, a, lda, s, u, ldu, vt, ldvt);
}

template int64_t svd<float>(int64_t, int64_t, float*, float*, float*, float*, SvdVectors);
template int64_t svd<double>(int64_t, int64_t, double*, double*, double*, double*, SvdVectors);

}  // namespace gdcore::kernels
