// Internal helpers shared by the elementwise op families: dtype casts without
// history, broadcast strides, and the unary/binary map loops (contiguous fast paths,
// a scalar fast path, and the general strided loop).
#pragma once
#include "gdcore/autograd.hpp"
#include "gdcore/capture.hpp"
#include "gdcore/kernel_trace.hpp"
#include "gdcore/ops.hpp"
#include "kernels/strided_loop.hpp"

namespace gdcore::detail {

// `t` converted to `dtype` (a copy only when the dtype differs); never recorded.
inline Tensor cast_data(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = Tensor::empty(t.shape(), dtype);
  copy_into(out, t);
  return out;
}

// Strides that read `t` as if it had `out_shape` (0 on broadcast dims).
inline Shape broadcast_strides(const Tensor& t, const Shape& out_shape) {
  Shape st(out_shape.size(), 0);
  const size_t lead = out_shape.size() - t.shape().size();
  for (size_t d = 0; d < t.shape().size(); ++d)
    st[lead + d] = t.shape()[d] == 1 ? 0 : t.strides()[d];
  return st;
}

// Every loop below runs through trace::launch as a closure over raw pointers and sizes (copies,
// never references to locals or tensors), so that gdcore.compile can replay it on its own.
template <typename In, typename Out = In, typename F>
Tensor map_unary(const Tensor& a, DType out_dtype, F f) {
  Tensor out = Tensor::empty(a.shape(), out_dtype);
  Out* o = out.data<Out>();
  if (a.is_contiguous()) {
    const In* x = a.data<In>();
    const int64_t n = a.numel();
    if (trace::launch_unary(o, x, false, n, f)) return out;  // (a loop the lowering may fuse)
    trace::launch([o, x, n, f] {
      for (int64_t k = 0; k < n; ++k) o[k] = f(x[k]);
    });
    return out;
  }
  const In* base = static_cast<const In*>(a.impl()->storage->data());
  trace::launch([o, base, f, shape = a.shape(), ost = out.strides(), ast = a.strides(), offset = a.impl()->offset] {
    kernels::strided_loop<2>(shape, {ost.data(), ast.data()}, {0, offset},
                             [&](std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> st) {
                               for (int64_t k = 0; k < n; ++k) o[off[0] + k * st[0]] = f(base[off[1] + k * st[1]]);
                             });
  });
  return out;
}

// out = f(a, b) with broadcasting; a and b must already have dtype In.
template <typename In, typename Out = In, typename F>
Tensor map_binary(const Tensor& a, const Tensor& b, const Shape& shape, DType out_dtype, F f) {
  Tensor out = Tensor::empty(shape, out_dtype);
  Out* o = out.data<Out>();
  const int64_t n = out.numel();
  const bool ac = a.is_contiguous(), bc = b.is_contiguous();
  if (ac && bc && a.shape() == shape && b.shape() == shape) {
    const In* x = a.data<In>();
    const In* y = b.data<In>();
    if (trace::launch_binary(o, x, false, y, false, n, f)) return out;  // (a loop the lowering may fuse)
    trace::launch([o, x, y, n, f] {
      for (int64_t k = 0; k < n; ++k) o[k] = f(x[k], y[k]);
    });
    return out;
  }
  if (ac && a.shape() == shape && b.numel() == 1) {
    const In* x = a.data<In>();
    const In* yp = b.data<In>();  // read inside the loop's closure: a replay must see the new value
    if (trace::launch_binary(o, x, false, yp, true, n, f)) return out;
    trace::launch([o, x, yp, n, f] {
      const In y = *yp;
      for (int64_t k = 0; k < n; ++k) o[k] = f(x[k], y);
    });
    return out;
  }
  if (bc && b.shape() == shape && a.numel() == 1) {
    const In* xp = a.data<In>();
    const In* y = b.data<In>();
    if (trace::launch_binary(o, xp, true, y, false, n, f)) return out;
    trace::launch([o, xp, y, n, f] {
      const In x = *xp;
      for (int64_t k = 0; k < n; ++k) o[k] = f(x, y[k]);
    });
    return out;
  }
  // One row broadcast over the rows of the other, both contiguous (x @ w.t() + bias): row by row,
  // the same f per element as the strided loop below, without its set-up and call per row.
  if (ac && bc && n > 0 && (a.shape() == shape) != (b.shape() == shape)) {
    const Tensor& row = a.shape() == shape ? b : a;
    const int64_t cols = shape.back();
    if (row.numel() > 1 && row.numel() == cols && row.shape().back() == cols) {
      const In* x = a.data<In>();
      const In* y = b.data<In>();
      const int64_t rows = n / cols, xs = a.shape() == shape ? cols : 0, ys = b.shape() == shape ? cols : 0;
      trace::launch([o, x, y, rows, cols, xs, ys, f] {
        for (int64_t r = 0; r < rows; ++r) {
          const In* xr = x + r * xs;
          const In* yr = y + r * ys;
          Out* orow = o + r * cols;
          for (int64_t j = 0; j < cols; ++j) orow[j] = f(xr[j], yr[j]);
        }
      });
      return out;
    }
  }
  const In* xa = static_cast<const In*>(a.impl()->storage->data());
  const In* xb = static_cast<const In*>(b.impl()->storage->data());
  trace::launch([o, xa, xb, f, shape, so = out.strides(), sa = broadcast_strides(a, shape),
                 sb = broadcast_strides(b, shape), oa = a.impl()->offset, ob = b.impl()->offset] {
    kernels::strided_loop<3>(shape, {so.data(), sa.data(), sb.data()}, {0, oa, ob},
                             [&](std::array<int64_t, 3> off, int64_t len, std::array<int64_t, 3> st) {
                               for (int64_t k = 0; k < len; ++k)
                                 o[off[0] + k * st[0]] = f(xa[off[1] + k * st[1]], xb[off[2] + k * st[2]]);
                             });
  });
  return out;
}

// The dtype of a binary op's result, with torch's priorities: a 0-d operand (or a Python number,
// which arrives as a 0-d tensor of the other operand's kind) does not widen a dimensioned one
// of the same category (float32 x + 0-d float64 gives float32, int8 x + 0-d int64 gives int8),
// but one of a higher category does count (a 0-d float turns an int tensor into floats).
inline DType result_dtype(const Tensor& a, const Tensor& b) {
  const bool a0 = a.dim() == 0, b0 = b.dim() == 0;
  if (a0 == b0) return promote(a.dtype(), b.dtype());
  return a0 ? combine_categories(b.dtype(), a.dtype()) : combine_categories(a.dtype(), b.dtype());
}

// The float dtype an op computes in: the promoted dtype, with bool and integers becoming float32
// (torch's default dtype: true division of integers gives float32).
inline DType float_dtype(DType t) { return is_floating(t) ? t : DType::Float32; }

// Ops without a gradient (bool and integer results) are still recorded for gdcore.compile, so
// that a captured step replays them (capture_forwards.cpp's table) and the kernel trace checks
// them like any op; no graph node is ever made for them. An op built from other ops runs its
// parts under a capture::PauseGuard and records itself once, so no inner value becomes a constant.
inline void record_value(const OpDef& op, std::initializer_list<Tensor> inputs, const Tensor& out, OpAttrs attrs = {}) {
  if (trace::active()) trace::on_op(op);
  if (capture::is_capturing()) capture::on_record(op, std::vector<Tensor>(inputs), out, nullptr)->attrs = std::move(attrs);
}
// The backward of such an op's OpDef: never reached (nothing records a node for it).
inline std::vector<Tensor> no_backward(Node&, const Tensor&) {
  throw std::logic_error("internal error: backward reached an op without a gradient");
}

// Gradient for input i only when that input needs one (saves work and saved-tensor access).
#define GD_GRAD_IF(node, i, expr) ((node).needs_input_grad(i) ? (expr) : ::gdcore::Tensor())

}  // namespace gdcore::detail
