// The everyday math ops beyond ops.hpp (issue 11 item 4) and the classification losses
// (issue 12 item 1). Same rules as ops.hpp: each records a Node when a gradient is needed,
// its backward rule sits beside its forward in ops/<family>.cpp and is written with
// differentiable ops, so second derivatives work. Dims may be negative, as in torch.
#pragma once
#include <optional>
#include <vector>

#include "gdcore/ops.hpp"

namespace gdcore {

// ---- softmax family (ops/softmax.cpp); numerically stable (the row maximum is subtracted) ----
Tensor softmax(const Tensor& a, int64_t dim);
Tensor log_softmax(const Tensor& a, int64_t dim);
// log(sum(exp(a))) over `dims` (empty = all dims); rows of -inf give -inf, a +inf gives +inf.
Tensor logsumexp(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim = false);

// ---- norms and moments (ops/norms.cpp) ----
// (sum |a|^ord)^(1/ord) over `dims` (empty = all); ord may be +-inf (max/min of |a|) or 0
// (the number of non-zeros). The gradient at a zero norm is 0, as in torch.
Tensor vector_norm(const Tensor& a, double ord, const std::vector<int64_t>& dims, bool keepdim = false);
// sum((a - mean)^2) / max(0, N - correction) over `dims` (empty = all).
Tensor var(const Tensor& a, const std::vector<int64_t>& dims, double correction = 1.0, bool keepdim = false);
Tensor std(const Tensor& a, const std::vector<int64_t>& dims, double correction = 1.0, bool keepdim = false);

// ---- scans and products along a dim (ops/scan.cpp) ----
// Running sums along `dim`; `reverse` sums from the end (the adjoint of the forward scan).
Tensor cumsum(const Tensor& a, int64_t dim, bool reverse = false);
// Product along `dim`, or of all elements (dim empty, 0-d result). The gradient is exact
// where the input has zeros (the product of the other elements).
Tensor prod(const Tensor& a, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);

// ---- vector products (ops/products.cpp) ----
Tensor dot(const Tensor& a, const Tensor& b);    // 1-d . 1-d -> 0-d
Tensor mv(const Tensor& a, const Tensor& v);     // (n, m) @ (m,) -> (n,)
Tensor outer(const Tensor& a, const Tensor& b);  // (n,) x (m,) -> (n, m)

// ---- rounding, zero gradient (ops/rounding.cpp); integer inputs are returned as copies ----
Tensor floor(const Tensor& a);
Tensor ceil(const Tensor& a);
Tensor round(const Tensor& a);  // half to even, as torch
Tensor trunc(const Tensor& a);

// ---- more elementwise functions (ops/special.cpp) ----
Tensor erf(const Tensor& a);
Tensor erfinv(const Tensor& a);
Tensor log1p(const Tensor& a);
Tensor expm1(const Tensor& a);
Tensor log2(const Tensor& a);
Tensor log10(const Tensor& a);
Tensor rsqrt(const Tensor& a);
Tensor reciprocal(const Tensor& a);
Tensor square(const Tensor& a);  // int64 stays int64

// ---- classification losses (ops/cross_entropy.cpp) ----
// input (N, C), (N, C, d1, ...) or (C,) logits; target int64 class indices of shape (N, d1, ...)
// or () ; weight (C,) or undefined. One fused op: log-softmax, the loss and the gradient
// (softmax - smoothed one-hot) in one pass per row. IndexError for a class index outside
// [0, C) other than ignore_index; ValueError for mismatched sizes.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index = -100,
                     double label_smoothing = 0.0, Reduction reduction = Reduction::Mean);
// nll_loss: input holds log-probabilities, shapes as for cross_entropy.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index = -100,
                Reduction reduction = Reduction::Mean);

// binary_cross_entropy on probabilities in [0, 1] (checked); each log clamped at -100 as torch.
// input and target of one shape; weight broadcasts to it or is undefined.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                            Reduction reduction = Reduction::Mean);

// ---- regression losses and kl_div (ops/regression_losses.cpp): compositions of differentiable ops ----
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta);
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta);
// target * (log(target) - input) (0 where target is 0), or exp(target) * (target - input) with log_target.
Tensor kl_div_pointwise(const Tensor& input, const Tensor& target, bool log_target);

}  // namespace gdcore
