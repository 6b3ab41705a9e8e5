// The batched LAPACK forwards of gdcore/linalg_solvers.hpp: each copies its input into
// contiguous memory of its float dtype (LAPACK overwrites it), runs the kernel per matrix, and
// turns LAPACK's info into the error a torch user would see.
#include "gdcore/linalg_solvers.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/lapack.hpp"

namespace gdcore {

namespace {

// A's square matrices as a contiguous copy: the number of matrices and their size n.
struct Batch {
  Tensor data;
  int64_t count = 1, n = 0;
};

Batch square_batch(const Tensor& A, const char* op) {
  if (!A.defined()) throw std::invalid_argument(std::string(op) + ": got an undefined tensor");
  if (A.dim() < 2)
    throw std::invalid_argument(std::string(op) + ": A must have at least 2 dimensions, got shape " + shape_str(A.shape()));
  const int64_t n = A.shape()[A.dim() - 1];
  if (A.shape()[A.dim() - 2] != n)
    throw std::invalid_argument(std::string(op) + ": A must be batches of square matrices, but they are " +
                                std::to_string(A.shape()[A.dim() - 2]) + " by " + std::to_string(n) + " matrices");
  if (!is_floating(A.dtype()))
    throw std::invalid_argument(std::string(op) + ": expected a floating point tensor (float32 or float64), got " +
                                dtype_name(A.dtype()) + "; convert it with .double() or .float()");
  Batch b;
  b.data = A.detach().clone_data();  // contiguous, ours to overwrite
  b.n = n;
  b.count = n == 0 ? 0 : A.numel() / (n * n);
  GD_DISPATCH_FLOAT(A.dtype(), op, [&] {
    const scalar_t* p = b.data.data<scalar_t>();
    for (int64_t k = 0, m = b.data.numel(); k < m; ++k)
      if (!std::isfinite(p[k]))
        throw std::runtime_error(std::string(op) + ": the input contains non-finite values (NaN or inf); "
                                 "LAPACK's result would be meaningless");
    return 0;
  });
  return b;
}

std::string batch_text(const Tensor& A, int64_t k) {
  return A.dim() > 2 ? "(Batch element " + std::to_string(k) + "): " : "";
}

}  // namespace

Tensor linalg_solve_forward(const Tensor& A, const Tensor& B) {
  Batch a = square_batch(A, "linalg.solve");
  if (!B.defined() || B.dim() != A.dim() || B.shape()[B.dim() - 2] != a.n ||
      !std::equal(A.shape().begin(), A.shape().end() - 2, B.shape().begin()))
    throw std::invalid_argument("linalg.solve: B must have shape (..., " + std::to_string(a.n) +
                                ", k) with A's leading dims, got A " + shape_str(A.shape()) + " and B " +
                                shape_str(B.defined() ? B.shape() : Shape{}));
  if (B.dtype() != A.dtype())
    throw std::invalid_argument(std::string("linalg.solve: A and B must have the same dtype, got ") +
                                dtype_name(A.dtype()) + " and " + dtype_name(B.dtype()));
  const int64_t k = B.shape()[B.dim() - 1];
  Tensor x = B.detach().clone_data();
  GD_DISPATCH_FLOAT(A.dtype(), "linalg.solve", [&] {
    scalar_t* ap = a.data.data<scalar_t>();
    scalar_t* xp = x.data<scalar_t>();
    for (int64_t m = 0; m < a.count; ++m) {
      const int64_t info = kernels::gesv<scalar_t>(a.n, k, ap + m * a.n * a.n, xp + m * a.n * k);
      if (info > 0)
        throw std::runtime_error("linalg.solve: " + batch_text(A, m) +
                                 "The solver failed because the input matrix is singular (U[" + std::to_string(info) +
                                 ", " + std::to_string(info) + "] is exactly zero)");
      if (info < 0) throw std::logic_error("linalg.solve: internal error, LAPACK argument " + std::to_string(-info));
    }
    return 0;
  });
  return x;
}

std::vector<Tensor> linalg_slogdet_forward(const Tensor& A) {
  Batch a = square_batch(A, "linalg.slogdet");
  const Shape batch(A.shape().begin(), A.shape().end() - 2);
  Tensor sign = Tensor::empty(batch, A.dtype()), logabs = Tensor::empty(batch, A.dtype()),
         det = Tensor::empty(batch, A.dtype());
  GD_DISPATCH_FLOAT(A.dtype(), "linalg.slogdet", [&] {
    scalar_t* ap = a.data.data<scalar_t>();
    std::vector<int32_t> ipiv(static_cast<size_t>(std::max<int64_t>(a.n, 1)));
    const int64_t count = std::max<int64_t>(a.count, sign.numel());  // (n = 0: det 1 for each matrix)
    for (int64_t m = 0; m < count; ++m) {
      double s = 1.0, l = 0.0, d = 1.0;  // sign, log|det|, det (the product of U's diagonal, pivots' signs)
      if (a.n > 0) {
        scalar_t* mat = ap + m * a.n * a.n;
        const int64_t info = kernels::getrf<scalar_t>(a.n, mat, ipiv.data());
        if (info < 0) throw std::logic_error("linalg.slogdet: internal error, LAPACK argument " + std::to_string(-info));
        for (int64_t i = 0; i < a.n; ++i) {
          const double u = mat[i * a.n + i];
          if (ipiv[i] != i + 1) s = -s;
          if (u < 0) s = -s;
          l += std::log(std::abs(u));
          d *= std::abs(u);
        }
        if (info > 0) {  // an exact zero pivot: singular
          s = 0.0;
          l = -std::numeric_limits<double>::infinity();
        }
        d *= s;
      }
      sign.data<scalar_t>()[m] = static_cast<scalar_t>(s);
      logabs.data<scalar_t>()[m] = static_cast<scalar_t>(l);
      det.data<scalar_t>()[m] = static_cast<scalar_t>(d);
    }
    return 0;
  });
  return {sign, logabs, det};
}

Tensor linalg_cholesky_forward(const Tensor& A) {
  Batch a = square_batch(A, "linalg.cholesky");
  GD_DISPATCH_FLOAT(A.dtype(), "linalg.cholesky", [&] {
    scalar_t* ap = a.data.data<scalar_t>();
    for (int64_t m = 0; m < a.count; ++m) {
      scalar_t* mat = ap + m * a.n * a.n;
      const int64_t info = kernels::potrf<scalar_t>(a.n, mat);
      if (info > 0)
        throw std::runtime_error("linalg.cholesky: " + batch_text(A, m) +
                                 "The factorization could not be completed because the input is not positive-definite "
                                 "(the leading minor of order " + std::to_string(info) + " is not positive-definite)");
      if (info < 0) throw std::logic_error("linalg.cholesky: internal error, LAPACK argument " + std::to_string(-info));
      for (int64_t i = 0; i < a.n; ++i)  // potrf leaves the strict upper triangle as it was
        for (int64_t j = i + 1; j < a.n; ++j) mat[i * a.n + j] = 0;
    }
    return 0;
  });
  return a.data;
}

std::vector<Tensor> linalg_eigh_forward(const Tensor& A, bool upper) {
  Batch a = square_batch(A, "linalg.eigh");
  Shape wshape(A.shape().begin(), A.shape().end() - 1);
  Tensor w = Tensor::empty(wshape, A.dtype());
  GD_DISPATCH_FLOAT(A.dtype(), "linalg.eigh", [&] {
    scalar_t* ap = a.data.data<scalar_t>();
    scalar_t* wp = w.data<scalar_t>();
    for (int64_t m = 0; m < a.count; ++m) {
      const int64_t info = kernels::syevd<scalar_t>(a.n, ap + m * a.n * a.n, wp + m * a.n, upper);
      if (info > 0)
        throw std::runtime_error("linalg.eigh: " + batch_text(A, m) + "The algorithm failed to converge because the "
                                 "input matrix is ill-conditioned or has too many repeated eigenvalues (error code: " +
                                 std::to_string(info) + ")");
      if (info < 0) throw std::logic_error("linalg.eigh: internal error, LAPACK argument " + std::to_string(-info));
    }
    return 0;
  });
  return {w, a.data};
}

}  // namespace gdcore
