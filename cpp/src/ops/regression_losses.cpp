// l1_loss, smooth_l1_loss, huber_loss and kl_div's pointwise term as compositions of
// differentiable ops (abs, mul, log, ...) with constant 0/1 masks from comparisons, so
// their gradients of every order come from those ops. torch's gradient conventions hold:
// |d|'s gradient is sign(d) (0 at 0), and target * log(target) is 0 where target is 0.
#include "gdcore/ops_math.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {

namespace {
Tensor reduce_loss(const Tensor& l, Reduction reduction) {
  if (reduction == Reduction::None) return l;
  return reduction == Reduction::Sum ? sum(l) : mean(l);
}
Tensor constant(double v, const Tensor& like) { return scalar_tensor(v, like.dtype()); }
}  // namespace

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return reduce_loss(abs(sub(input, target)), reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  Tensor d = sub(input, target), ad = abs(d);
  if (beta == 0.0) return reduce_loss(ad, reduction);
  Tensor inside = compare(ad.detach(), constant(beta, ad), CompareOp::Lt);  // |d| < beta
  Tensor quad = mul(mul(d, d), 0.5 / beta);
  Tensor lin = sub(ad, constant(0.5 * beta, ad));
  return reduce_loss(add(mul(inside, quad), mul(sub(constant(1.0, inside), inside), lin)), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  Tensor d = sub(input, target), ad = abs(d);
  Tensor inside = compare(ad.detach(), constant(delta, ad), CompareOp::Le);  // |d| <= delta
  Tensor quad = mul(mul(d, d), 0.5);
  Tensor lin = mul(sub(ad, constant(0.5 * delta, ad)), delta);
  return reduce_loss(add(mul(inside, quad), mul(sub(constant(1.0, inside), inside), lin)), reduction);
}

Tensor kl_div_pointwise(const Tensor& input, const Tensor& target, bool log_target) {
  if (log_target) return mul(exp(target), sub(target, input));
  Tensor zero = compare(target.detach(), constant(0.0, target), CompareOp::Eq);  // log(1) = 0 where target is 0
  return mul(target, sub(log(add(target, zero)), input));
}

}  // namespace gdcore
