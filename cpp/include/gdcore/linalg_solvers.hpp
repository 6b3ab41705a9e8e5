// The LAPACK-backed forwards of linalg.solve / inv, det / slogdet, cholesky and eigh, batched
// over the leading dims, float32/float64. They record no graph: gdcore/linalg_solvers.py makes
// each an autograd.Function whose backward (torch's formulas) is written with differentiable
// ops, these among them, so second derivatives follow.
#pragma once
#include <vector>

#include "gdcore/ops.hpp"

namespace gdcore {

// X with A X = B: A (..., n, n), B (..., n, k) of the same leading dims. RuntimeError when a
// matrix is singular (an exact zero pivot).
Tensor linalg_solve_forward(const Tensor& A, const Tensor& B);
// {sign, log|det|, det} of A (..., n, n), each of shape (...); sign 0 and log|det| -inf when singular.
std::vector<Tensor> linalg_slogdet_forward(const Tensor& A);
// L lower triangular with A = L L^T (A's lower triangle is read). RuntimeError when A is not
// positive definite.
Tensor linalg_cholesky_forward(const Tensor& A);
// {eigenvalues (..., n) ascending, eigenvectors (..., n, n) as columns} of the symmetric A (its
// lower triangle is read, or the upper one with `upper`).
std::vector<Tensor> linalg_eigh_forward(const Tensor& A, bool upper);

}  // namespace gdcore
