// Comparisons, sign and the float-class tests (isnan, isinf, isfinite). None has a gradient.
// Two forms of the comparisons: eq/ne/lt/le/gt/ge give bool tensors (the user's `a < b`);
// compare() gives 1.0/0.0 masks in the inputs' float dtype, which backward rules multiply with.
#include <cmath>

#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {
template <typename In, typename Out>
Tensor compare_typed(const Tensor& x, const Tensor& y, const Shape& shape, DType out_dt, CompareOp op) {
  switch (op) {
    case CompareOp::Gt: return map_binary<In, Out>(x, y, shape, out_dt, [](In p, In q) { return Out(p > q); });
    case CompareOp::Ge: return map_binary<In, Out>(x, y, shape, out_dt, [](In p, In q) { return Out(p >= q); });
    case CompareOp::Lt: return map_binary<In, Out>(x, y, shape, out_dt, [](In p, In q) { return Out(p < q); });
    case CompareOp::Le: return map_binary<In, Out>(x, y, shape, out_dt, [](In p, In q) { return Out(p <= q); });
    case CompareOp::Eq: return map_binary<In, Out>(x, y, shape, out_dt, [](In p, In q) { return Out(p == q); });
    case CompareOp::Ne: break;
  }
  return map_binary<In, Out>(x, y, shape, out_dt, [](In p, In q) { return Out(p != q); });
}

const char* compare_name(CompareOp op) {
  constexpr const char* names[] = {"gt", "ge", "lt", "le", "eq", "ne"};
  return names[static_cast<int>(op)];
}

// The operands cast to their common dtype (torch's promotion), and the broadcast shape.
struct Operands {
  Tensor x, y;
  DType dtype;
  Shape shape;
};
Operands promoted(const Tensor& a, const Tensor& b, const char* name) {
  if (!a.defined() || !b.defined()) throw std::invalid_argument(std::string(name) + ": got an undefined tensor");
  const DType dt = result_dtype(a, b);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  return {cast_data(a, dt), cast_data(b, dt), dt, std::move(shape)};
}
}  // namespace

Tensor compare(const Tensor& a, const Tensor& b, CompareOp op) {
  Operands o = promoted(a, b, "compare");
  // Masks for backward rules compare float tensors; other inputs go through the bool form.
  if (!is_floating(o.dtype)) return cast_data(compare_bool(a, b, op), DType::Float32);
  return GD_DISPATCH_FLOAT(o.dtype, "compare", [&] { return compare_typed<scalar_t, scalar_t>(o.x, o.y, o.shape, o.dtype, op); });
}

Tensor compare_bool(const Tensor& a, const Tensor& b, CompareOp op) {
  Operands o = promoted(a, b, compare_name(op));
  return GD_DISPATCH_ALL(o.dtype, compare_name(op), [&] { return compare_typed<scalar_t, bool>(o.x, o.y, o.shape, DType::Bool, op); });
}

Tensor eq(const Tensor& a, const Tensor& b) { return compare_bool(a, b, CompareOp::Eq); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare_bool(a, b, CompareOp::Ne); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare_bool(a, b, CompareOp::Lt); }
Tensor le(const Tensor& a, const Tensor& b) { return compare_bool(a, b, CompareOp::Le); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare_bool(a, b, CompareOp::Gt); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare_bool(a, b, CompareOp::Ge); }

// (NaN gives 0, as torch's CPU kernel does; numpy gives NaN. The sign of a bool is itself.)
template <typename T> T sign_value(T v) {
  if constexpr (std::is_same_v<T, bool>) return v;
  else if constexpr (std::is_unsigned_v<T>) return T(v > 0);
  else return T((v > 0) - (v < 0));
}

Tensor sign(const Tensor& a) {
  return GD_DISPATCH_ALL(a.dtype(), "sign", [&] { return map_unary<scalar_t>(a, a.dtype(), &sign_value<scalar_t>); });
}

// Integers and bools are never NaN or infinite: the answer is a constant.
Tensor isnan(const Tensor& a) {
  if (!is_floating(a.dtype())) return zeros(a.shape(), DType::Bool);
  return GD_DISPATCH_FLOAT(a.dtype(), "isnan", [&] { return map_unary<scalar_t, bool>(a, DType::Bool, [](scalar_t v) { return v != v; }); });
}
Tensor isinf(const Tensor& a) {
  if (!is_floating(a.dtype())) return zeros(a.shape(), DType::Bool);
  return GD_DISPATCH_FLOAT(a.dtype(), "isinf", [&] {
    return map_unary<scalar_t, bool>(a, DType::Bool, [](scalar_t v) { return std::isinf(v); });
  });
}
Tensor isfinite(const Tensor& a) {
  if (!is_floating(a.dtype())) return ones(a.shape(), DType::Bool);
  return GD_DISPATCH_FLOAT(a.dtype(), "isfinite", [&] {
    return map_unary<scalar_t, bool>(a, DType::Bool, [](scalar_t v) { return std::isfinite(v); });
  });
}

}  // namespace gdcore
