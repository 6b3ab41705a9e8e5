// The SIMD loops of a Linear-ReLU layer (kernels/simd/activation_loops.hpp) behind the ops that
// use them: add (x @ w.t() + bias), relu, and relu's backward. Each returns the result tensor,
// or an undefined tensor when its loop does not apply (then the op takes its general loops,
// which give the same bits). Nothing here records a node: the calling op does.
#pragma once
#include "gdcore/tensor.hpp"

namespace gdcore::detail {

// a + b for a contiguous float tensor a of shape (..., C) and a contiguous row b of shape (C,)
// (C > 1) of a's dtype.
Tensor add_row_loop(const Tensor& a, const Tensor& b);
// relu of a contiguous float tensor of at least kLinearReluMin elements (smaller ones stay
// elementwise loops that a compiled step fuses with their neighbours).
Tensor relu_loop(const Tensor& a);
// g * (y > 0 ? 1 : 0) for contiguous float g and y of one shape and dtype, at least kLinearReluMin elements.
Tensor relu_grad_loop(const Tensor& g, const Tensor& y);

inline constexpr int64_t kLinearReluMin = 64;

}  // namespace gdcore::detail
