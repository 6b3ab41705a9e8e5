// LAPACK solvers for linalg (solve, slogdet, cholesky, eigh) on one row-major matrix at a
// time: pointers and sizes in, LAPACK's info out (0: success; > 0: singular / not positive
// definite / not converged at that index). Dimensions must fit LAPACK's 32-bit integers.
#pragma once
#include <cstdint>

namespace gdcore::kernels {

// A (n, n) is overwritten by its LU factors, B (n, k) by the solution of A X = B.
template <typename T> int64_t gesv(int64_t n, int64_t k, T* a, T* b);
// A (n, n) overwritten by its LU factors; ipiv (n) the row swaps (1-based, as LAPACK).
template <typename T> int64_t getrf(int64_t n, T* a, int32_t* ipiv);
// A (n, n) overwritten: its lower triangle by L with A = L L^T (the upper part is left as it was).
template <typename T> int64_t potrf(int64_t n, T* a);
// A (n, n) symmetric (the lower or upper triangle is read) overwritten by its eigenvectors (columns);
// w (n) the eigenvalues, ascending.
template <typename T> int64_t syevd(int64_t n, T* a, T* w, bool upper);

}  // namespace gdcore::kernels
