// asin, acos, atan, asinh, acosh, atanh, exp2, atan2 and hypot, each forward beside its
// backward rule (written with differentiable ops, so higher derivatives work).
#include <cmath>
#include <numbers>

#include "gdcore/ops_pointwise.hpp"
#include "ops/binary_map.hpp"
#include "ops/unary_map.hpp"

namespace gdcore {
using namespace detail;

namespace {

Tensor one_minus_square(const Tensor& x) { return sub(scalar_tensor(1.0, x.dtype()), mul(x, x)); }

std::vector<Tensor> asin_backward(Node& n, const Tensor& g) {  // 1 / sqrt(1 - x^2)
  return {div(g, sqrt(one_minus_square(n.saved_tensor(0))))};
}
const OpDef kAsin{"AsinBackward", asin_backward};

std::vector<Tensor> acos_backward(Node& n, const Tensor& g) {  // -1 / sqrt(1 - x^2)
  return {neg(div(g, sqrt(one_minus_square(n.saved_tensor(0)))))};
}
const OpDef kAcos{"AcosBackward", acos_backward};

std::vector<Tensor> atan_backward(Node& n, const Tensor& g) {  // 1 / (1 + x^2)
  Tensor x = n.saved_tensor(0);
  return {div(g, add(mul(x, x), 1.0))};
}
const OpDef kAtan{"AtanBackward", atan_backward};

std::vector<Tensor> asinh_backward(Node& n, const Tensor& g) {  // 1 / sqrt(x^2 + 1)
  Tensor x = n.saved_tensor(0);
  return {div(g, sqrt(add(mul(x, x), 1.0)))};
}
const OpDef kAsinh{"AsinhBackward", asinh_backward};

std::vector<Tensor> acosh_backward(Node& n, const Tensor& g) {  // 1 / sqrt(x^2 - 1)
  Tensor x = n.saved_tensor(0);
  return {div(g, sqrt(add(mul(x, x), -1.0)))};
}
const OpDef kAcosh{"AcoshBackward", acosh_backward};

std::vector<Tensor> atanh_backward(Node& n, const Tensor& g) {  // 1 / (1 - x^2)
  return {div(g, one_minus_square(n.saved_tensor(0)))};
}
const OpDef kAtanh{"AtanhBackward", atanh_backward};

std::vector<Tensor> exp2_backward(Node& n, const Tensor& g) {  // 2^x ln 2
  return {mul(g, mul(n.saved_tensor(0), std::numbers::ln2))};
}
const OpDef kExp2{"Exp2Backward", exp2_backward};

std::vector<Tensor> atan2_backward(Node& n, const Tensor& g) {  // (b, -a) / (a^2 + b^2)
  Tensor a = n.saved_tensor(0), b = n.saved_tensor(1);
  Tensor scaled = div(g, add(mul(a, a), mul(b, b)));
  return {GD_GRAD_IF(n, 0, sum_to(mul(scaled, b), n.input_shapes[0])),
          GD_GRAD_IF(n, 1, sum_to(neg(mul(scaled, a)), n.input_shapes[1]))};
}
const OpDef kAtan2{"Atan2Backward", atan2_backward};

std::vector<Tensor> hypot_backward(Node& n, const Tensor& g) {  // (a, b) / hypot(a, b)
  Tensor scaled = div(g, n.saved_tensor(2));
  return {GD_GRAD_IF(n, 0, sum_to(mul(scaled, n.saved_tensor(0)), n.input_shapes[0])),
          GD_GRAD_IF(n, 1, sum_to(mul(scaled, n.saved_tensor(1)), n.input_shapes[1]))};
}
const OpDef kHypot{"HypotBackward", hypot_backward};

Tensor finish_binary(const OpDef& op, const Tensor& a, const Tensor& b, Tensor out, bool save_output) {
  if (auto node = record(op, {a, b}, out)) {
    save(*node, a);
    save(*node, b);
    if (save_output) save(*node, out, /*is_output=*/true);
  }
  return out;
}

}  // namespace

Tensor asin(const Tensor& a) { return record_unary(kAsin, a, float_map(a, "asin", GD_MAP_FN(std::asin(x))), Keep::Input); }
Tensor acos(const Tensor& a) { return record_unary(kAcos, a, float_map(a, "acos", GD_MAP_FN(std::acos(x))), Keep::Input); }
Tensor atan(const Tensor& a) { return record_unary(kAtan, a, float_map(a, "atan", GD_MAP_FN(std::atan(x))), Keep::Input); }
Tensor asinh(const Tensor& a) { return record_unary(kAsinh, a, float_map(a, "asinh", GD_MAP_FN(std::asinh(x))), Keep::Input); }
Tensor acosh(const Tensor& a) { return record_unary(kAcosh, a, float_map(a, "acosh", GD_MAP_FN(std::acosh(x))), Keep::Input); }
Tensor atanh(const Tensor& a) { return record_unary(kAtanh, a, float_map(a, "atanh", GD_MAP_FN(std::atanh(x))), Keep::Input); }
Tensor exp2(const Tensor& a) { return record_unary(kExp2, a, float_map(a, "exp2", GD_MAP_FN(std::exp2(x))), Keep::Output); }

Tensor atan2(const Tensor& a, const Tensor& b) {
  return finish_binary(kAtan2, a, b, binary_map(a, b, "atan2", true, GD_BINARY_MAP_FN(static_cast<T>(std::atan2(x, y)))), false);
}

Tensor hypot(const Tensor& a, const Tensor& b) {
  return finish_binary(kHypot, a, b, binary_map(a, b, "hypot", true, GD_BINARY_MAP_FN(static_cast<T>(std::hypot(x, y)))), true);
}

}  // namespace gdcore
