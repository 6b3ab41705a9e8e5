// where(cond, x, y), masked_fill and clamp_min/clamp_max with tensor bounds. `where` is the
// one selection loop; the others are written with it, so their gradients come from its rule:
// the gradient goes to x where cond holds and to y elsewhere (itself a `where`, so higher
// derivatives work).
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

// out[i] = c[i] ? x[i] : y[i] with broadcasting; x and y already have dtype T.
template <typename T>
Tensor select_loop(const Tensor& c, const Tensor& x, const Tensor& y, const Shape& shape, DType dt) {
  Tensor out = Tensor::empty(shape, dt);
  T* o = out.data<T>();
  if (c.is_contiguous() && x.is_contiguous() && y.is_contiguous() && c.shape() == shape && x.shape() == shape &&
      y.shape() == shape) {
    const bool* cs = c.data<bool>();
    const T* xs = x.data<T>();
    const T* ys = y.data<T>();
    const int64_t n = out.numel();
    trace::launch([o, cs, xs, ys, n] {
      for (int64_t k = 0; k < n; ++k) o[k] = cs[k] ? xs[k] : ys[k];
    });
    return out;
  }
  const bool* cb = static_cast<const bool*>(c.impl()->storage->data());
  const T* xb = static_cast<const T*>(x.impl()->storage->data());
  const T* yb = static_cast<const T*>(y.impl()->storage->data());
  trace::launch([o, cb, xb, yb, shape, so = out.strides(), sc = broadcast_strides(c, shape), sx = broadcast_strides(x, shape),
                 sy = broadcast_strides(y, shape), oc = c.impl()->offset, ox = x.impl()->offset, oy = y.impl()->offset] {
    kernels::strided_loop<4>(shape, {so.data(), sc.data(), sx.data(), sy.data()}, {0, oc, ox, oy},
                             [&](std::array<int64_t, 4> off, int64_t len, std::array<int64_t, 4> st) {
                               for (int64_t k = 0; k < len; ++k)
                                 o[off[0] + k * st[0]] =
                                     cb[off[1] + k * st[1]] ? xb[off[2] + k * st[2]] : yb[off[3] + k * st[3]];
                             });
  });
  return out;
}

std::vector<Tensor> where_backward(Node& n, const Tensor& g) {
  Tensor cond = n.saved_tensor(0);
  Tensor zero = scalar_tensor(0.0, g.dtype());
  return {GD_GRAD_IF(n, 0, sum_to(where(cond, g, zero), n.input_shapes[0])),
          GD_GRAD_IF(n, 1, sum_to(where(cond, zero, g), n.input_shapes[1]))};
}
const OpDef kWhere{"WhereBackward", where_backward};

void require_bool(const Tensor& t, const char* name, const char* what) {
  if (!t.defined()) throw std::invalid_argument(std::string(name) + ": got an undefined " + what);
  if (t.dtype() != DType::Bool)
    throw std::runtime_error(std::string(name) + ": expected " + what + " to be a bool tensor, got " + dtype_name(t.dtype()) +
                             "; make one with a comparison (x > 0) or .bool()");
}

}  // namespace

Tensor where(const Tensor& cond, const Tensor& x, const Tensor& y) {
  require_bool(cond, "where", "the condition");
  if (!x.defined() || !y.defined()) throw std::invalid_argument("where: got an undefined tensor");
  const DType dt = result_dtype(x, y);
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), x.shape(), "where"), y.shape(), "where");
  Tensor xs = cast_data(x, dt), ys = cast_data(y, dt);
  Tensor out = GD_DISPATCH_ALL(dt, "where", [&] { return select_loop<scalar_t>(cond, xs, ys, shape, dt); });
  if (auto node = record(kWhere, {x, y}, out)) save(*node, cond);
  return out;
}

Tensor masked_fill(const Tensor& self, const Tensor& mask, const Tensor& value) {
  require_bool(mask, "masked_fill", "the mask");
  if (!self.defined() || !value.defined()) throw std::invalid_argument("masked_fill: got an undefined tensor");
  if (value.dim() != 0)
    throw std::invalid_argument("masked_fill: the value must be a number or a 0-d tensor, got a tensor of shape " +
                                shape_str(value.shape()));
  // The result keeps self's dtype (the value is converted to it), and broadcasts self with the mask.
  return where(mask, to_dtype(value, self.dtype()), self);
}

Tensor clamp_min(const Tensor& a, const Tensor& min) {
  return where(logical_or(lt(a, min), isnan(min)), min, a);  // a NaN bound gives NaN, as torch
}
Tensor clamp_max(const Tensor& a, const Tensor& max) {
  return where(logical_or(gt(a, max), isnan(max)), max, a);
}

}  // namespace gdcore
