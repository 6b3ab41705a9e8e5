// Vector norms, variance and standard deviation. ord 1, +-inf and 0 are compositions of
// differentiable ops (abs/sum, abs/amax, a count); the p-norms (ord 2 and any other p) are
// one op whose backward is 0 where the norm is 0 (torch's subgradient) instead of 0/0.
// var and std are compositions (mean, sub, mul, sum), so every derivative order comes free.
#include <cmath>
#include <string>

#include "gdcore/capture.hpp"
#include "gdcore/grad_mode.hpp"
#include "gdcore/ops_math.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

// The keepdim shape of reducing `a` over `dims` (empty = all).
Shape keep_shape_of(const Tensor& a, const std::vector<int64_t>& dims, const char* name) {
  Shape keep = a.shape();
  if (dims.empty()) {
    for (auto& s : keep) s = 1;
    return keep;
  }
  for (int64_t d : dims)
    if (a.dim() > 0) keep[wrap_dim(d, a.dim(), name)] = 1;
  return keep;
}

// d ||a||_p = g * sign(a) |a|^(p-1) / ||a||^(p-1) (for p = 2: g * a / ||a||), 0 where ||a|| = 0.
std::vector<Tensor> pnorm_backward(Node& n, const Tensor& g) {
  Tensor a = n.saved_tensor(0), norm = n.saved_tensor(1);
  const double p = n.attrs.reals[0];
  const Shape& keep = n.attrs.shape;
  Tensor nk = expand(reshape(norm, keep), a.shape());
  Tensor gk = expand(reshape(g, keep), a.shape());
  Tensor zero = compare(nk, scalar_tensor(0.0, nk.dtype()), CompareOp::Eq);
  Tensor safe = add(nk, zero);  // 1 where the norm is 0 (a is 0 there: the quotient is 0)
  if (p == 2.0) return {mul(gk, div(a, safe))};
  Tensor num = mul(sign(a), pow(abs(a), p - 1.0));
  return {mul(gk, div(num, pow(safe, p - 1.0)))};
}
const OpDef kPNorm{"NormBackward", pnorm_backward};

Tensor pnorm(const Tensor& a, double p, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor out;
  {
    NoGradGuard no_grad;
    capture::PauseGuard no_capture;
    Tensor x = a.detach();
    out = p == 2.0 ? sqrt(sum(mul(x, x), dims, keepdim)) : pow(sum(pow(abs(x), p), dims, keepdim), 1.0 / p);
  }
  if (auto node = record(kPNorm, {a}, out)) {
    node->attrs.ints = dims;
    node->attrs.reals = {p};
    node->attrs.shape = keep_shape_of(a, dims, "norm");
    save(*node, a);
    save(*node, out, /*is_output=*/true);
  }
  return out;
}

}  // namespace

Tensor vector_norm(const Tensor& a, double ord, const std::vector<int64_t>& dims, bool keepdim) {
  if (!a.defined()) throw std::invalid_argument("vector_norm: got an undefined tensor");
  if (!is_floating(a.dtype()))
    throw std::invalid_argument(std::string("vector_norm: expected a float32 or float64 tensor, got ") +
                                dtype_name(a.dtype()) + "; convert with .float() first");
  if (std::isnan(ord)) throw std::invalid_argument("vector_norm: ord must be a number, got nan");
  if (std::isinf(ord)) {
    if (a.numel() == 0 && shape_numel(keep_shape_of(a, dims, "vector_norm")) > 0)
      throw std::invalid_argument("vector_norm: ord=inf/-inf of an empty tensor has no value (no identity for max/min)");
    return ord > 0 ? amax(abs(a), dims, keepdim) : amin(abs(a), dims, keepdim);
  }
  if (ord == 0.0) {
    Tensor nonzero = compare(a.detach(), scalar_tensor(0.0, a.dtype()), CompareOp::Ne);
    return sum(nonzero, dims, keepdim);
  }
  if (ord == 1.0) return sum(abs(a), dims, keepdim);
  return pnorm(a, ord, dims, keepdim);
}

Tensor var(const Tensor& a, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  if (!a.defined()) throw std::invalid_argument("var: got an undefined tensor");
  if (!is_floating(a.dtype()))
    throw std::invalid_argument(std::string("var: expected a float32 or float64 tensor, got ") +
                                dtype_name(a.dtype()) + "; convert with .float() first");
  const Shape keep = keep_shape_of(a, dims, "var");
  const int64_t n = a.numel() / std::max<int64_t>(shape_numel(keep), 1);
  Tensor d = sub(a, mean(a, dims, true));
  // As torch: the divisor is max(0, N - correction), so too few elements give inf or nan.
  const double divisor = std::max(0.0, static_cast<double>(n) - correction);
  return div(sum(mul(d, d), dims, keepdim), scalar_tensor(divisor, a.dtype()));
}

Tensor std(const Tensor& a, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  return sqrt(var(a, dims, correction, keepdim));
}

}  // namespace gdcore
