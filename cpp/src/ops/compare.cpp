// Comparisons and sign. They have no gradient; backward rules use them as masks
// (1.0 where true, 0.0 where false, in the inputs' float dtype).
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
}  // namespace

Tensor compare(const Tensor& a, const Tensor& b, CompareOp op) {
  const DType dt = result_dtype(a, b);
  const DType out_dt = float_dtype(dt);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), "compare");
  Tensor x = cast_data(a, dt), y = cast_data(b, dt);
  return GD_DISPATCH_ALL(dt, "compare", [&] {
    using in_t = scalar_t;
    return GD_DISPATCH_FLOAT(out_dt, "compare", [&] { return compare_typed<in_t, scalar_t>(x, y, shape, out_dt, op); });
  });
}

Tensor sign(const Tensor& a) {
  return GD_DISPATCH_ALL(a.dtype(), "sign", [&] {
    return map_unary<scalar_t>(a, a.dtype(), [](scalar_t v) { return scalar_t((v > 0) - (v < 0)); });
  });
}

}  // namespace gdcore
