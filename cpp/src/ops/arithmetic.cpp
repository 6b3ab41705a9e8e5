// + - * / ** neg maximum minimum: forward (with broadcasting and torch's dtype
// promotion) and, beside each, its backward rule written with differentiable ops.
#include <cmath>

#include "ops/binary_map.hpp"
#include "ops/linear_relu_loops.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

// x * y, with bool * bool as `and` (torch's result) without int arithmetic on bools.
template <typename T> T bool_safe_mul(T x, T y) {
  if constexpr (std::is_same_v<T, bool>) return x && y;
  else return x * y;
}

// base ** e for integers, as torch computes it: modular (wraps like the dtype; the products run in
// uint64, where overflow is defined, and keep the same low bits), and for a negative exponent
// 1 ** e = 1, (-1) ** e = +-1 and 0 otherwise.
template <typename T> T int_pow(T base, T e) {
  if constexpr (std::is_same_v<T, bool>) {
    return base || !e;
  } else {
    if constexpr (std::is_signed_v<T>) {
      if (e < 0) return base == 1 ? T(1) : base == -1 ? T((e & 1) ? -1 : 1) : T(0);
    }
    uint64_t r = 1, b = static_cast<uint64_t>(static_cast<int64_t>(base));
    for (uint64_t k = static_cast<uint64_t>(e); k; k >>= 1, b *= b)
      if (k & 1) r *= b;
    return static_cast<T>(r);
  }
}


// ---- add / sub ----
std::vector<Tensor> add_backward(Node& n, const Tensor& g) {
  return {GD_GRAD_IF(n, 0, sum_to(g, n.input_shapes[0])), GD_GRAD_IF(n, 1, sum_to(g, n.input_shapes[1]))};
}
const OpDef kAdd{"AddBackward", add_backward};

std::vector<Tensor> sub_backward(Node& n, const Tensor& g) {
  return {GD_GRAD_IF(n, 0, sum_to(g, n.input_shapes[0])), GD_GRAD_IF(n, 1, sum_to(neg(g), n.input_shapes[1]))};
}
const OpDef kSub{"SubBackward", sub_backward};

// ---- mul / div ----
std::vector<Tensor> mul_backward(Node& n, const Tensor& g) {
  return {GD_GRAD_IF(n, 0, sum_to(mul(g, n.saved_tensor(1)), n.input_shapes[0])),
          GD_GRAD_IF(n, 1, sum_to(mul(g, n.saved_tensor(0)), n.input_shapes[1]))};
}
const OpDef kMul{"MulBackward", mul_backward};

std::vector<Tensor> div_backward(Node& n, const Tensor& g) {
  // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
  Tensor b = n.saved_tensor(1);
  return {GD_GRAD_IF(n, 0, sum_to(div(g, b), n.input_shapes[0])),
          GD_GRAD_IF(n, 1, sum_to(neg(div(mul(g, n.saved_tensor(0)), mul(b, b))), n.input_shapes[1]))};
}
const OpDef kDiv{"DivBackward", div_backward};

// ---- pow ----
std::vector<Tensor> pow_backward(Node& n, const Tensor& g) {
  // d(a^b)/da = b a^(b-1), d(a^b)/db = a^b log(a). As in torch, the first is 0 where b == 0 and
  // the second is 0 where a == 0 and b >= 0 (the limits), instead of 0 * inf = NaN: the masks
  // shift b - 1 to 0 and a to 1 at those points (they carry no gradient themselves).
  Tensor a = n.saved_tensor(0), b = n.saved_tensor(1);
  auto grad_a = [&] {
    Tensor zero = scalar_tensor(0.0, b.dtype());
    Tensor exponent = add(sub(b, scalar_tensor(1.0, b.dtype())), compare(b, zero, CompareOp::Eq));
    return sum_to(mul(g, mul(b, pow(a, exponent))), n.input_shapes[0]);
  };
  auto grad_b = [&] {
    Tensor zero = scalar_tensor(0.0, a.dtype());
    Tensor at_zero = mul(compare(a, zero, CompareOp::Eq), compare(b, zero, CompareOp::Ge));
    return sum_to(mul(g, mul(n.saved_tensor(2), log(add(a, at_zero)))), n.input_shapes[1]);
  };
  return {GD_GRAD_IF(n, 0, grad_a()), GD_GRAD_IF(n, 1, grad_b())};
}
// torch's names tell the two pows apart: PowBackward1 is tensor ** tensor, PowBackward0 tensor ** number
// (scalar ** tensor goes through tensor ** tensor here, where torch says PowBackward2).
const OpDef kPow{"PowBackward1", pow_backward};

std::vector<Tensor> pow_scalar_backward(Node& n, const Tensor& g) {
  const double p = n.attrs.reals[0];
  if (p == 0.0) return {zeros(n.input_shapes[0], n.input_dtypes[0])};
  if (p == 1.0) return {g};
  // (For the square: x + x is 2 * x exactly, x^1 is x exactly: the same values with one loop
  // instead of three and no scalar tensor.)
  if (p == 2.0) {
    Tensor x = n.saved_tensor(0);
    return {mul(g, add(x, x))};
  }
  return {mul(g, mul(pow(n.saved_tensor(0), p - 1.0), p))};
}
const OpDef kPowScalar{"PowBackward0", pow_scalar_backward};

// ---- neg ----
std::vector<Tensor> neg_backward(Node&, const Tensor& g) { return {neg(g)}; }
const OpDef kNeg{"NegBackward", neg_backward};

// ---- maximum / minimum: the gradient goes to the larger (smaller) input, split evenly on ties ----
std::vector<Tensor> minmax_backward(Node& n, const Tensor& g, CompareOp winner) {
  Tensor a = n.saved_tensor(0), b = n.saved_tensor(1);
  Tensor share_a = add(compare(a, b, winner), mul(compare(a, b, CompareOp::Eq), 0.5));
  Tensor share_b = sub(scalar_tensor(1.0, share_a.dtype()), share_a);
  return {GD_GRAD_IF(n, 0, sum_to(mul(g, share_a), n.input_shapes[0])),
          GD_GRAD_IF(n, 1, sum_to(mul(g, share_b), n.input_shapes[1]))};
}
std::vector<Tensor> maximum_backward(Node& n, const Tensor& g) { return minmax_backward(n, g, CompareOp::Gt); }
std::vector<Tensor> minimum_backward(Node& n, const Tensor& g) { return minmax_backward(n, g, CompareOp::Lt); }
const OpDef kMaximum{"MaximumBackward", maximum_backward};
const OpDef kMinimum{"MinimumBackward", minimum_backward};

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = add_row_loop(a, b);  // (x @ w.t() + bias: a SIMD loop with the same bits)
  if (!out.defined()) out = binary_map(a, b, "add", false, GD_BINARY_MAP_FN(x + y));
  record(kAdd, {a, b}, out);
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  if (a.defined() && b.defined() && a.dtype() == DType::Bool && b.dtype() == DType::Bool)
    throw std::runtime_error("Subtraction, the `-` operator, with two bool tensors is not supported; use the `^` or "
                             "logical_xor() operator instead");
  Tensor out = binary_map(a, b, "sub", false, GD_BINARY_MAP_FN(x - y));
  record(kSub, {a, b}, out);
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_map(a, b, "mul", false, GD_BINARY_MAP_FN(bool_safe_mul(x, y)));
  if (auto node = record(kMul, {a, b}, out)) {
    save(*node, a);
    save(*node, b);
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_map(a, b, "div", true, GD_BINARY_MAP_FN(x / y));
  if (auto node = record(kDiv, {a, b}, out)) {
    save(*node, a);
    save(*node, b);
  }
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  if (a.defined() && b.defined() && !is_floating(result_dtype(a, b))) {  // integers stay integers, as in torch
    const DType dt = result_dtype(a, b);
    Shape shape = broadcast_shapes(a.shape(), b.shape(), "pow");
    Tensor x = cast_data(a, dt), y = cast_data(b, dt);
    Tensor out = GD_DISPATCH_INTEGRAL_AND_BOOL(dt, "pow", [&] { return map_binary<scalar_t>(x, y, shape, dt, &int_pow<scalar_t>); });
    record(kPow, {a, b}, out);  // (never a graph node: integers need no gradient; gdcore.compile replays it)
    return out;
  }
  Tensor out = binary_map(a, b, "pow", true, GD_BINARY_MAP_FN(static_cast<T>(std::pow(x, y))));
  if (auto node = record(kPow, {a, b}, out)) {
    save(*node, a);
    save(*node, b);
    save(*node, out, /*is_output=*/true);
  }
  return out;
}

Tensor pow(const Tensor& a, double p) {
  if (!is_floating(a.dtype()) && p == std::floor(p) && std::abs(p) < 9.2e18) {  // int ** int stays int (bool gives int64)
    if (p < 0) throw std::runtime_error("Integers to negative integer powers are not allowed; use x.float() ** " + std::to_string(static_cast<int64_t>(p)));
    const DType dt = a.dtype() == DType::Bool ? DType::Int64 : a.dtype();
    Tensor x = cast_data(a, dt);
    Tensor out = GD_DISPATCH_INTEGRAL_AND_BOOL(dt, "pow", [&] {
      const scalar_t e = cast_value<scalar_t>(static_cast<int64_t>(p));
      const bool big = p > 127.0;  // (an exponent beyond int8's range: computed in int64 below)
      if (big) {
        const int64_t e64 = static_cast<int64_t>(p);
        return map_unary<scalar_t>(x, dt, [e64](scalar_t v) { return static_cast<scalar_t>(int_pow<int64_t>(v, e64)); });
      }
      return map_unary<scalar_t>(x, dt, [e](scalar_t v) { return int_pow<scalar_t>(v, e); });
    });
    if (auto node = record(kPowScalar, {a}, out)) node->attrs.reals = {p};
    return out;
  }
  const DType dt = float_dtype(a.dtype());
  Tensor x = cast_data(a, dt);
  Tensor out = GD_DISPATCH_FLOAT(dt, "pow", [&] {
    const scalar_t e = static_cast<scalar_t>(p);
    if (p == 2.0) return map_unary<scalar_t>(x, dt, [](scalar_t v) { return v * v; });
    if (p == 1.0) return map_unary<scalar_t>(x, dt, [](scalar_t v) { return v; });
    if (p == 0.5) return map_unary<scalar_t>(x, dt, [](scalar_t v) { return std::sqrt(v); });
    return map_unary<scalar_t>(x, dt, [e](scalar_t v) { return static_cast<scalar_t>(std::pow(v, e)); });
  });
  if (auto node = record(kPowScalar, {a}, out)) {
    node->attrs.reals = {p};
    save(*node, a);
  }
  return out;
}

Tensor neg(const Tensor& a) {
  if (a.dtype() == DType::Bool)
    throw std::runtime_error("Negation, the `-` operator, on a bool tensor is not supported; to invert a mask, use the "
                             "`~` or logical_not() operator instead");
  Tensor out = GD_DISPATCH_ALL(a.dtype(), "neg", [&] { return map_unary<scalar_t>(a, a.dtype(), [](scalar_t v) { return -v; }); });
  record(kNeg, {a}, out);
  return out;
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_map(a, b, "maximum", false, GD_BINARY_MAP_FN((x > y || std::isnan(static_cast<double>(x))) ? x : y));
  if (auto node = record(kMaximum, {a, b}, out)) {
    save(*node, a);
    save(*node, b);
  }
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_map(a, b, "minimum", false, GD_BINARY_MAP_FN((x < y || std::isnan(static_cast<double>(x))) ? x : y));
  if (auto node = record(kMinimum, {a, b}, out)) {
    save(*node, a);
    save(*node, b);
  }
  return out;
}

// A Python number takes the tensor's dtype, except that a fractional number makes a bool or integer
// tensor float32, and an integer makes a bool tensor int64 (torch's rules for Python scalars).
static DType scalar_dtype(const Tensor& a, double b) {
  if (is_floating(a.dtype())) return a.dtype();
  if (b != std::floor(b)) return DType::Float32;
  if (a.dtype() == DType::Bool) return DType::Int64;
  try {  // (beyond the tensor's range it goes in as int64 and wraps like torch's in-kernel cast)
    check_fits(b, a.dtype(), "scalar");
    return a.dtype();
  } catch (const std::runtime_error&) {
    return DType::Int64;
  }
}
Tensor add(const Tensor& a, double b) { return add(a, scalar_tensor(b, scalar_dtype(a, b))); }
Tensor mul(const Tensor& a, double b) { return mul(a, scalar_tensor(b, scalar_dtype(a, b))); }

}  // namespace gdcore
