// Logical and bitwise ops, any/all, count_nonzero and nonzero. None has a gradient.
// logical_* take any dtype (nonzero is true) and give bool; bitwise_* take bool or integer
// tensors and keep their promoted dtype (on bool they are the logical ops), as in torch.
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {
Tensor as_bool(const Tensor& t, const char* name) {
  if (!t.defined()) throw std::invalid_argument(std::string(name) + ": got an undefined tensor");
  return cast_data(t, DType::Bool);  // v != 0, NaN is true
}

template <typename F>
Tensor logical_binary(const Tensor& a, const Tensor& b, const char* name, F f) {
  Tensor x = as_bool(a, name), y = as_bool(b, name);
  return map_binary<bool>(x, y, broadcast_shapes(a.shape(), b.shape(), name), DType::Bool, f);
}

enum class BitOp { And, Or, Xor };
Tensor bitwise(const Tensor& a, const Tensor& b, BitOp op, const char* name) {
  if (!a.defined() || !b.defined()) throw std::invalid_argument(std::string(name) + ": got an undefined tensor");
  const DType dt = result_dtype(a, b);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  return GD_DISPATCH_INTEGRAL_AND_BOOL(dt, name, [&] {
    Tensor x = cast_data(a, dt), y = cast_data(b, dt);
    using T = scalar_t;
    switch (op) {
      case BitOp::And: return map_binary<T>(x, y, shape, dt, [](T p, T q) { return T(p & q); });
      case BitOp::Or: return map_binary<T>(x, y, shape, dt, [](T p, T q) { return T(p | q); });
      case BitOp::Xor: break;
    }
    return map_binary<T>(x, y, shape, dt, [](T p, T q) { return T(p ^ q); });
  });
}

template <typename T> T bit_not(T v) {
  if constexpr (std::is_same_v<T, bool>) return !v;
  else return T(~v);
}

// The number of nonzero elements over `dims` as int64 (the sum of a 0/1 int64 tensor).
Tensor nonzero_count(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim, const char* name) {
  return sum(cast_data(as_bool(a, name), DType::Int64), dims, keepdim);
}


const OpDef kLogicalAnd{"LogicalAnd", no_backward}, kLogicalOr{"LogicalOr", no_backward},
    kLogicalXor{"LogicalXor", no_backward}, kLogicalNot{"LogicalNot", no_backward};
const OpDef kBitwiseAnd{"BitwiseAnd", no_backward}, kBitwiseOr{"BitwiseOr", no_backward},
    kBitwiseXor{"BitwiseXor", no_backward}, kBitwiseNot{"BitwiseNot", no_backward};
const OpDef kAny{"Any", no_backward}, kAll{"All", no_backward}, kCountNonzero{"CountNonzero", no_backward};

Tensor recorded(const OpDef& op, std::initializer_list<Tensor> inputs, Tensor out, OpAttrs attrs = {}) {
  record_value(op, inputs, out, std::move(attrs));
  return out;
}
// any/all/count_nonzero: built from other ops, which run unrecorded (see record_value).
OpAttrs reduce_attrs(const std::vector<int64_t>& dims, bool keepdim) { return OpAttrs{dims, {keepdim ? 1.0 : 0.0}, {}, {}}; }
}  // namespace

Tensor logical_and(const Tensor& a, const Tensor& b) {
  return recorded(kLogicalAnd, {a, b}, logical_binary(a, b, "logical_and", [](bool p, bool q) { return p && q; }));
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return recorded(kLogicalOr, {a, b}, logical_binary(a, b, "logical_or", [](bool p, bool q) { return p || q; }));
}
Tensor logical_xor(const Tensor& a, const Tensor& b) {
  return recorded(kLogicalXor, {a, b}, logical_binary(a, b, "logical_xor", [](bool p, bool q) { return p != q; }));
}
Tensor logical_not(const Tensor& a) {
  return recorded(kLogicalNot, {a}, map_unary<bool>(as_bool(a, "logical_not"), DType::Bool, [](bool p) { return !p; }));
}

Tensor bitwise_and(const Tensor& a, const Tensor& b) { return recorded(kBitwiseAnd, {a, b}, bitwise(a, b, BitOp::And, "bitwise_and")); }
Tensor bitwise_or(const Tensor& a, const Tensor& b) { return recorded(kBitwiseOr, {a, b}, bitwise(a, b, BitOp::Or, "bitwise_or")); }
Tensor bitwise_xor(const Tensor& a, const Tensor& b) { return recorded(kBitwiseXor, {a, b}, bitwise(a, b, BitOp::Xor, "bitwise_xor")); }
Tensor bitwise_not(const Tensor& a) {
  Tensor out = GD_DISPATCH_INTEGRAL_AND_BOOL(a.dtype(), "bitwise_not", [&] { return map_unary<scalar_t>(a, a.dtype(), &bit_not<scalar_t>); });
  return recorded(kBitwiseNot, {a}, out);
}

// any/all give bool, except for uint8 input, which gives uint8 (as torch does).
Tensor any(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor r;
  {
    capture::PauseGuard pause;
    r = gt(nonzero_count(a, dims, keepdim, "any"), scalar_tensor(0.0, DType::Int64));
    if (a.dtype() == DType::UInt8) r = cast_data(r, DType::UInt8);
  }
  return recorded(kAny, {a}, r, reduce_attrs(dims, keepdim));
}
Tensor all(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor r;
  {
    capture::PauseGuard pause;
    r = eq(nonzero_count(logical_not(a), dims, keepdim, "all"), scalar_tensor(0.0, DType::Int64));
    if (a.dtype() == DType::UInt8) r = cast_data(r, DType::UInt8);
  }
  return recorded(kAll, {a}, r, reduce_attrs(dims, keepdim));
}
Tensor count_nonzero(const Tensor& a, const std::vector<int64_t>& dims) {
  Tensor r;
  {
    capture::PauseGuard pause;
    r = nonzero_count(a, dims, false, "count_nonzero");
  }
  return recorded(kCountNonzero, {a}, r, reduce_attrs(dims, false));
}

Tensor nonzero(const Tensor& a) {
  // The result's size depends on the values: gdcore.compile records one entry that runs nonzero again at
  // each replay (op by op: a fixed list of loops cannot repeat it).
  if (capture::is_capturing())
    return capture::value_sized_op("nonzero", {a}, [](const std::vector<Tensor>& x) {
      return std::vector<Tensor>{nonzero(x[0])};
    })[0];
  trace::unsupported("nonzero");
  Tensor mask = as_bool(a, "nonzero").contiguous();
  const bool* m = mask.data<bool>();
  const int64_t n = a.numel(), nd = a.dim();
  int64_t count = 0;
  for (int64_t k = 0; k < n; ++k) count += m[k];
  Tensor out = Tensor::empty({count, nd}, DType::Int64);
  int64_t* o = out.data<int64_t>();
  std::vector<int64_t> idx(static_cast<size_t>(nd), 0);  // the multi-index of element k, row-major
  for (int64_t k = 0; k < n; ++k) {
    if (m[k]) {
      for (int64_t d = 0; d < nd; ++d) *o++ = idx[d];
    }
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++idx[d] < a.shape()[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace gdcore
