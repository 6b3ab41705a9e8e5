// The LAPACK calls of kernels/lapack.hpp through LAPACKE's row-major interface (OpenBLAS of the
// scipy-openblas32 package, symbols prefixed scipy_), as kernels/svd.cpp calls gesdd.
#include "kernels/lapack.hpp"

#include <lapacke.h>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>
#include <vector>

namespace gdcore::kernels {

namespace {
lapack_int checked(int64_t v) {
  if (v < 0 || v > INT_MAX)
    throw std::invalid_argument("linalg: a matrix dimension of " + std::to_string(v) +
                                " is too large for LAPACK's 32-bit sizes");
  return static_cast<lapack_int>(v);
}
lapack_int ld(lapack_int cols) { return std::max<lapack_int>(cols, 1); }
}  // namespace

template <typename T> int64_t gesv(int64_t n, int64_t k, T* a, T* b) {
  const lapack_int ni = checked(n), ki = checked(k);
  std::vector<lapack_int> ipiv(static_cast<size_t>(std::max<int64_t>(n, 1)));
  if constexpr (std::is_same_v<T, float>)
    return scipy_LAPACKE_sgesv(LAPACK_ROW_MAJOR, ni, ki, a, ld(ni), ipiv.data(), b, ld(ki));
  else
    return scipy_LAPACKE_dgesv(LAPACK_ROW_MAJOR, ni, ki, a, ld(ni), ipiv.data(), b, ld(ki));
}

template <typename T> int64_t getrf(int64_t n, T* a, int32_t* ipiv) {
  const lapack_int ni = checked(n);
  if constexpr (std::is_same_v<T, float>)
    return scipy_LAPACKE_sgetrf(LAPACK_ROW_MAJOR, ni, ni, a, ld(ni), ipiv);
  else
    return scipy_LAPACKE_dgetrf(LAPACK_ROW_MAJOR, ni, ni, a, ld(ni), ipiv);
}

template <typename T> int64_t potrf(int64_t n, T* a) {
  const lapack_int ni = checked(n);
  if constexpr (std::is_same_v<T, float>)
    return scipy_LAPACKE_spotrf(LAPACK_ROW_MAJOR, 'L', ni, a, ld(ni));
  else
    return scipy_LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', ni, a, ld(ni));
}

template <typename T> int64_t syevd(int64_t n, T* a, T* w, bool upper) {
  const lapack_int ni = checked(n);
  if constexpr (std::is_same_v<T, float>)
    return scipy_LAPACKE_ssyevd(LAPACK_ROW_MAJOR, 'V', upper ? 'U' : 'L', ni, a, ld(ni), w);
  else
    return scipy_LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', upper ? 'U' : 'L', ni, a, ld(ni), w);
}

template int64_t gesv<float>(int64_t, int64_t, float*, float*);
template int64_t gesv<double>(int64_t, int64_t, double*, double*);
template int64_t getrf<float>(int64_t, float*, int32_t*);
template int64_t getrf<double>(int64_t, double*, int32_t*);
template int64_t potrf<float>(int64_t, float*);
template int64_t potrf<double>(int64_t, double*);
template int64_t syevd<float>(int64_t, float*, float*, bool);
template int64_t syevd<double>(int64_t, double*, double*, bool);

}  // namespace gdcore::kernels
