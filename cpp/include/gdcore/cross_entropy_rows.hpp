// A test hook on cross_entropy's row kernels (kernels/cross_entropy.hpp), kept out of ops.hpp: it
// is no op, only a way for the tests to run the rows of short rows (many rows to a vector) and the
// one-row kernels on the same logits and compare their bits.
#pragma once
#include <optional>
#include <utility>

#include "gdcore/tensor.hpp"

namespace gdcore {

// The per-row losses (float64, shape (M,)) and, with `with_grad`, the gradient (M, C) in x's dtype
// that the fused kernel writes for logits x (contiguous (M, C), float32 or float64), int64 targets
// (M,), an optional weight (C,) of x's dtype, ignore_index, label smoothing eps and the gradient's
// scale. `one_by_one` sends every row through the one-row kernels, else rows take the path the op
// takes. No graph; bad shapes, dtypes or targets throw std::invalid_argument / std::out_of_range.
std::pair<Tensor, Tensor> cross_entropy_rows_for_tests(const Tensor& x, const Tensor& target,
                                                       const std::optional<Tensor>& weight, int64_t ignore_index,
                                                       double eps, double scale, bool with_grad, bool one_by_one);

}  // namespace gdcore
