// Matrix decompositions of torch.linalg (ops/svd.cpp). Batched over the leading dims,
// float32/float64, differentiable: the singular value decomposition is one node with three
// outputs (U, S, Vh) whose backward is torch's formula written with differentiable ops.
#pragma once
#include "gdcore/ops.hpp"

namespace gdcore {

struct SvdResult {
  Tensor U, S, Vh;
};

// A (..., m, n) = U (..., m, k) diag(S (..., k)) Vh (..., k, n), k = min(m, n), S descending.
// full_matrices: U is (..., m, m) and Vh (..., n, n) (gradients through their extra columns /
// rows are ignored, as torch). Gradients through U and Vh assume distinct singular values
// (and, when m != n, a full-rank A), as torch's do.
SvdResult linalg_svd(const Tensor& A, bool full_matrices = true);
// The singular values alone (..., k), descending; the gradient is U diag(grad) Vh.
Tensor svdvals(const Tensor& A);

}  // namespace gdcore
