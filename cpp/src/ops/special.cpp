// erf, erfinv, log1p, expm1, log2, log10, rsqrt, reciprocal and square, each forward beside
// its backward rule (written with differentiable ops, so higher derivatives work).
#include <cmath>
#include <limits>
#include <numbers>

#include "gdcore/ops_math.hpp"
#include "ops/unary_map.hpp"

namespace gdcore {
using namespace detail;

namespace {

// erfinv: Giles' single-precision approximation ("Approximating the erfinv function", GPU
// Computing Gems, 2011), then two Newton steps on erf(x) = y in double: full double accuracy.
double erfinv_scalar(double y) {
  if (std::isnan(y) || y < -1.0 || y > 1.0) return std::numeric_limits<double>::quiet_NaN();
  if (y == 1.0) return std::numeric_limits<double>::infinity();
  if (y == -1.0) return -std::numeric_limits<double>::infinity();
  double w = -std::log((1.0 - y) * (1.0 + y)), p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                     -0.00417768164, 0.246640727, 1.50140941})
      p = c + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                     0.00943887047, 1.00167406, 2.83297682})
      p = c + p * w;
  }
  double x = p * y;
  const double two_over_sqrt_pi = 2.0 / std::sqrt(std::numbers::pi);
  for (int k = 0; k < 2; ++k) x -= (std::erf(x) - y) / (two_over_sqrt_pi * std::exp(-x * x));
  return x;
}

std::vector<Tensor> erf_backward(Node& n, const Tensor& g) {  // 2/sqrt(pi) exp(-x^2)
  Tensor x = n.saved_tensor(0);
  return {mul(g, mul(exp(neg(mul(x, x))), 2.0 / std::sqrt(std::numbers::pi)))};
}
const OpDef kErf{"ErfBackward", erf_backward};

std::vector<Tensor> erfinv_backward(Node& n, const Tensor& g) {  // sqrt(pi)/2 exp(y^2)
  Tensor y = n.saved_tensor(0);
  return {mul(g, mul(exp(mul(y, y)), std::sqrt(std::numbers::pi) / 2.0))};
}
const OpDef kErfinv{"ErfinvBackward", erfinv_backward};

std::vector<Tensor> log1p_backward(Node& n, const Tensor& g) { return {div(g, add(n.saved_tensor(0), 1.0))}; }
const OpDef kLog1p{"Log1pBackward", log1p_backward};

std::vector<Tensor> expm1_backward(Node& n, const Tensor& g) { return {mul(g, add(n.saved_tensor(0), 1.0))}; }
const OpDef kExpm1{"Expm1Backward", expm1_backward};

std::vector<Tensor> log2_backward(Node& n, const Tensor& g) {
  return {div(g, mul(n.saved_tensor(0), std::numbers::ln2))};
}
const OpDef kLog2{"Log2Backward", log2_backward};

std::vector<Tensor> log10_backward(Node& n, const Tensor& g) {
  return {div(g, mul(n.saved_tensor(0), std::numbers::ln10))};
}
const OpDef kLog10{"Log10Backward", log10_backward};

std::vector<Tensor> rsqrt_backward(Node& n, const Tensor& g) {  // d x^(-1/2) = -1/2 y^3
  Tensor y = n.saved_tensor(0);
  return {mul(g, mul(mul(y, mul(y, y)), -0.5))};
}
const OpDef kRsqrt{"RsqrtBackward", rsqrt_backward};

std::vector<Tensor> reciprocal_backward(Node& n, const Tensor& g) {  // d 1/x = -y^2
  Tensor y = n.saved_tensor(0);
  return {neg(mul(g, mul(y, y)))};
}
const OpDef kReciprocal{"ReciprocalBackward", reciprocal_backward};

}  // namespace

Tensor erf(const Tensor& a) { return record_unary(kErf, a, float_map(a, "erf", GD_MAP_FN(std::erf(x))), Keep::Input); }
Tensor erfinv(const Tensor& a) {
  return record_unary(kErfinv, a, float_map(a, "erfinv", GD_MAP_FN(static_cast<T>(erfinv_scalar(x)))), Keep::Output);
}
Tensor log1p(const Tensor& a) { return record_unary(kLog1p, a, float_map(a, "log1p", GD_MAP_FN(std::log1p(x))), Keep::Input); }
Tensor expm1(const Tensor& a) { return record_unary(kExpm1, a, float_map(a, "expm1", GD_MAP_FN(std::expm1(x))), Keep::Output); }
Tensor log2(const Tensor& a) { return record_unary(kLog2, a, float_map(a, "log2", GD_MAP_FN(std::log2(x))), Keep::Input); }
Tensor log10(const Tensor& a) { return record_unary(kLog10, a, float_map(a, "log10", GD_MAP_FN(std::log10(x))), Keep::Input); }
Tensor rsqrt(const Tensor& a) {
  return record_unary(kRsqrt, a, float_map(a, "rsqrt", GD_MAP_FN(T(1) / std::sqrt(x))), Keep::Output);
}
Tensor reciprocal(const Tensor& a) {
  return record_unary(kReciprocal, a, float_map(a, "reciprocal", GD_MAP_FN(T(1) / x)), Keep::Output);
}
// x * x (int64 stays int64, as torch.square); floats use pow's square path and rule.
Tensor square(const Tensor& a) {
  if (!a.defined()) throw std::invalid_argument("square: got an undefined tensor");
  return a.dtype() == DType::Int64 ? mul(a, a) : pow(a, 2.0);
}

}  // namespace gdcore
