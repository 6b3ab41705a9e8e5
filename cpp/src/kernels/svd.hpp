// Singular value decomposition kernel: LAPACK's divide-and-conquer driver gesdd (sgesdd/dgesdd)
// from the OpenBLAS that gdcore already links (scipy-openblas32 ships LAPACK with its symbols
// prefixed scipy_). One row-major matrix per call; pointers and sizes in, nothing else.
#pragma once
#include <cstdint>

namespace gdcore::kernels {

// What gesdd should compute besides the singular values.
enum class SvdVectors { None, Reduced, Full };

// A (m x n, row-major, overwritten) = U diag(s) Vt with s descending, k = min(m, n) values.
// Reduced: u is m x k and vt is k x n; Full: u is m x m and vt is n x n; None: u and vt are
// not touched (may be null). Returns LAPACK's info: 0 on success, > 0 when the iteration did not
// converge, < 0 for an illegal argument (a bug on our side).
template <typename T>
int64_t svd(int64_t m, int64_t n, T* a, T* s, T* u, T* vt, SvdVectors vectors);

extern template int64_t svd<float>(int64_t, int64_t, float*, float*, float*, float*, SvdVectors);
extern template int64_t svd<double>(int64_t, int64_t, double*, double*, double*, double*, SvdVectors);

}  // namespace gdcore::kernels
