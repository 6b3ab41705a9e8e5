// Elementwise functions of one tensor. Each forward is a map over the input in
// its float dtype; each backward rule sits right below it.
#include <cmath>
#include <limits>

#include "gdcore/grad_mode.hpp"
#include "kernels/sigmoid.hpp"
#include "ops/elementwise.hpp"
#include "ops/linear_relu_loops.hpp"

namespace gdcore {
using namespace detail;

namespace {

// Applies a float function to `a` (int64 inputs compute in float32, as torch does).
template <typename F>
Tensor unary_forward(const Tensor& a, const char* name, F f) {
  if (!a.defined()) throw std::invalid_argument(std::string(name) + ": got an undefined tensor");
  const DType dt = float_dtype(a.dtype());
  Tensor x = cast_data(a, dt);
  return GD_DISPATCH_FLOAT(dt, name, [&] { return map_unary<scalar_t>(x, dt, f.template operator()<scalar_t>()); });
}
#define GD_UNARY_FN(expr) []<typename T>() { return [](T x) -> T { return expr; }; }

Tensor one_minus(const Tensor& t) { return sub(scalar_tensor(1.0, t.dtype()), t); }

// Records `op` for a unary function; saves the input or the output as the rule needs.
enum class Keep { Input, Output, Nothing };
Tensor finish(const OpDef& op, const Tensor& a, Tensor out, Keep keep) {
  if (auto node = record(op, {a}, out)) {
    if (keep == Keep::Input) save(*node, a);
    if (keep == Keep::Output) save(*node, out, /*is_output=*/true);
  }
  return out;
}

std::vector<Tensor> abs_backward(Node& n, const Tensor& g) { return {mul(g, sign(n.saved_tensor(0)))}; }
const OpDef kAbs{"AbsBackward", abs_backward};

std::vector<Tensor> exp_backward(Node& n, const Tensor& g) { return {mul(g, n.saved_tensor(0))}; }
const OpDef kExp{"ExpBackward", exp_backward};

std::vector<Tensor> log_backward(Node& n, const Tensor& g) { return {div(g, n.saved_tensor(0))}; }
const OpDef kLog{"LogBackward", log_backward};

std::vector<Tensor> sqrt_backward(Node& n, const Tensor& g) { return {div(g, mul(n.saved_tensor(0), 2.0))}; }
const OpDef kSqrt{"SqrtBackward", sqrt_backward};

std::vector<Tensor> sin_backward(Node& n, const Tensor& g) { return {mul(g, cos(n.saved_tensor(0)))}; }
const OpDef kSin{"SinBackward", sin_backward};

std::vector<Tensor> cos_backward(Node& n, const Tensor& g) { return {neg(mul(g, sin(n.saved_tensor(0))))}; }
const OpDef kCos{"CosBackward", cos_backward};

std::vector<Tensor> tan_backward(Node& n, const Tensor& g) {
  Tensor y = n.saved_tensor(0);
  return {mul(g, add(mul(y, y), 1.0))};  // 1 + tan^2
}
const OpDef kTan{"TanBackward", tan_backward};

std::vector<Tensor> tanh_backward(Node& n, const Tensor& g) {
  Tensor y = n.saved_tensor(0);
  return {mul(g, one_minus(mul(y, y)))};  // 1 - tanh^2
}
const OpDef kTanh{"TanhBackward", tanh_backward};

std::vector<Tensor> sinh_backward(Node& n, const Tensor& g) { return {mul(g, cosh(n.saved_tensor(0)))}; }
const OpDef kSinh{"SinhBackward", sinh_backward};

std::vector<Tensor> cosh_backward(Node& n, const Tensor& g) { return {mul(g, sinh(n.saved_tensor(0)))}; }
const OpDef kCosh{"CoshBackward", cosh_backward};

// Unless the gradient is to be differentiated again (create_graph), one pass over g and y instead of
// three ops with a full-size temporary each (1.5 ms -> 0.4 ms for the d2l LeNet's 256 x 6 x 28 x 28).
std::vector<Tensor> sigmoid_backward(Node& n, const Tensor& g) {
  Tensor y = n.saved_tensor(0);
  const bool differentiable = GradMode::is_enabled() && (g.requires_grad() || y.requires_grad());
  if (differentiable || !is_floating(y.dtype()) || g.dtype() != y.dtype() || g.shape() != y.shape() ||
      !g.is_contiguous() || !y.is_contiguous())
    return {mul(g, mul(y, one_minus(y)))};
  Tensor out = Tensor::empty(y.shape(), y.dtype());
  GD_DISPATCH_FLOAT(y.dtype(), "sigmoid", [&] {
    trace::launch([gd = g.data<scalar_t>(), yd = y.data<scalar_t>(), od = out.data<scalar_t>(), k = y.numel()] {
      kernels::sigmoid_backward(gd, yd, od, k);
    });
  });
  return {out};
}
const OpDef kSigmoid{"SigmoidBackward", sigmoid_backward};

std::vector<Tensor> relu_backward(Node& n, const Tensor& g) {
  Tensor y = n.saved_tensor(0);
  // Unless the backward is recorded (create_graph): the mask and the product as one SIMD loop, the same bits.
  if (!GradMode::is_enabled())
    if (Tensor fast = relu_grad_loop(g, y); fast.defined()) return {fast};
  return {mul(g, compare(y, scalar_tensor(0.0, y.dtype()), CompareOp::Gt))};
}
const OpDef kRelu{"ReluBackward", relu_backward};

std::vector<Tensor> clamp_backward(Node& n, const Tensor& g) {
  // The gradient passes where min <= x <= max (boundaries included, as in torch).
  Tensor x = n.saved_tensor(0);
  Tensor mask = ones(x.shape(), x.dtype());
  if (n.attrs.ints[0]) mask = mul(mask, compare(x, scalar_tensor(n.attrs.reals[0], x.dtype()), CompareOp::Ge));
  if (n.attrs.ints[1]) mask = mul(mask, compare(x, scalar_tensor(n.attrs.reals[1], x.dtype()), CompareOp::Le));
  return {mul(g, mask)};
}
const OpDef kClamp{"ClampBackward", clamp_backward};

}  // namespace

template <typename T> T int_abs(T v) {
  if constexpr (std::is_signed_v<T>) return v < 0 ? T(-v) : v;
  else return v;
}

// Integer tensors keep their dtype (no gradient), recorded for gdcore.compile like any value.
Tensor integral_map(const OpDef& op, const Tensor& a, const char* name, bool nonnegative_part) {
  if (a.dtype() == DType::Bool)  // (torch: abs, floor, ... are "not implemented for 'Bool'"; relu says this)
    throw std::runtime_error(std::string(name) + ": Boolean inputs not supported for " + name +
                             "; convert with .long() or .float() first");
  Tensor out = GD_DISPATCH_INTEGRAL_AND_BOOL(a.dtype(), name, [&] {
    if (nonnegative_part) return map_unary<scalar_t>(a, a.dtype(), [](scalar_t v) { return v > 0 ? v : scalar_t(0); });
    return map_unary<scalar_t>(a, a.dtype(), &int_abs<scalar_t>);
  });
  record_value(op, {a}, out);
  return out;
}

Tensor abs(const Tensor& a) {
  if (!a.defined()) throw std::invalid_argument("abs: got an undefined tensor");
  if (!is_floating(a.dtype())) return integral_map(kAbs, a, "abs", false);
  return finish(kAbs, a, unary_forward(a, "abs", GD_UNARY_FN(std::abs(x))), Keep::Input);
}
Tensor exp(const Tensor& a) { return finish(kExp, a, unary_forward(a, "exp", GD_UNARY_FN(std::exp(x))), Keep::Output); }
Tensor log(const Tensor& a) { return finish(kLog, a, unary_forward(a, "log", GD_UNARY_FN(std::log(x))), Keep::Input); }
Tensor sqrt(const Tensor& a) { return finish(kSqrt, a, unary_forward(a, "sqrt", GD_UNARY_FN(std::sqrt(x))), Keep::Output); }
Tensor sin(const Tensor& a) { return finish(kSin, a, unary_forward(a, "sin", GD_UNARY_FN(std::sin(x))), Keep::Input); }
Tensor cos(const Tensor& a) { return finish(kCos, a, unary_forward(a, "cos", GD_UNARY_FN(std::cos(x))), Keep::Input); }
Tensor tan(const Tensor& a) { return finish(kTan, a, unary_forward(a, "tan", GD_UNARY_FN(std::tan(x))), Keep::Output); }
Tensor tanh(const Tensor& a) { return finish(kTanh, a, unary_forward(a, "tanh", GD_UNARY_FN(std::tanh(x))), Keep::Output); }
Tensor sinh(const Tensor& a) { return finish(kSinh, a, unary_forward(a, "sinh", GD_UNARY_FN(std::sinh(x))), Keep::Input); }
Tensor cosh(const Tensor& a) { return finish(kCosh, a, unary_forward(a, "cosh", GD_UNARY_FN(std::cosh(x))), Keep::Input); }
Tensor sigmoid(const Tensor& a) {
  if (a.defined() && a.dtype() == DType::Float32 && a.is_contiguous()) {  // the SIMD loop (kernels/sigmoid.hpp)
    Tensor out = Tensor::empty(a.shape(), DType::Float32);
    trace::launch([x = a.data<float>(), o = out.data<float>(), n = a.numel()] { kernels::sigmoid_f32(x, o, n); });
    return finish(kSigmoid, a, out, Keep::Output);
  }
  return finish(kSigmoid, a, unary_forward(a, "sigmoid", GD_UNARY_FN(T(1) / (T(1) + std::exp(-x)))), Keep::Output);
}
Tensor relu(const Tensor& a) {
  if (!a.defined()) throw std::invalid_argument("relu: got an undefined tensor");
  if (!is_floating(a.dtype())) return integral_map(kRelu, a, "relu", true);  // int stays int, as torch
  Tensor fast = relu_loop(a);  // (a SIMD loop with the same bits, for tensors of a layer's size)
  return finish(kRelu, a, fast.defined() ? fast : unary_forward(a, "relu", GD_UNARY_FN(x > T(0) ? x : T(0))), Keep::Output);
}

Tensor clamp(const Tensor& a, std::optional<double> lo, std::optional<double> hi) {
  if (!lo && !hi) throw std::invalid_argument("clamp: at least one of min or max must be given");
  if (lo && hi && *lo > *hi)
    throw std::invalid_argument("clamp: min (" + std::to_string(*lo) + ") is greater than max (" + std::to_string(*hi) + ")");
  if (!is_floating(a.dtype())) {  // integers keep their dtype (torch's), through where (no gradient)
    auto bound = [](double v) { return v == std::floor(v) && std::abs(v) < 9.2e18 ? scalar_tensor(v, DType::Int64) : scalar_tensor(v, DType::Float32); };
    Tensor out = a;
    if (lo) out = clamp_min(out, bound(*lo));
    if (hi) out = clamp_max(out, bound(*hi));
    return out;
  }
  const double l = lo.value_or(-INFINITY), h = hi.value_or(INFINITY);
  // A NaN bound makes every element NaN, as torch.clamp does (a NaN input stays NaN too).
  const bool nan_bound = std::isnan(l) || std::isnan(h);
  Tensor out = unary_forward(a, "clamp", [l, h, nan_bound]<typename T>() {
    return [l = T(l), h = T(h), nan_bound](T x) -> T {
      if (nan_bound) return std::numeric_limits<T>::quiet_NaN();
      return x < l ? l : (x > h ? h : x);
    };
  });
  if (auto node = record(kClamp, {a}, out)) {
    node->attrs.ints = {lo.has_value(), hi.has_value()};
    node->attrs.reals = {l, h};
    save(*node, a);
  }
  return out;
}

}  // namespace gdcore
