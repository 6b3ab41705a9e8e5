// The SIMD loops of a Linear-ReLU layer behind add, relu and relu's backward (see
// linear_relu_loops.hpp): the conditions each loop needs, and its launch as one closure over raw
// pointers, so that a compiled step replays it as it is.
#include "ops/linear_relu_loops.hpp"

#include "kernels/simd/dispatch.hpp"
#include "ops/elementwise.hpp"

namespace gdcore::detail {

Tensor add_row_loop(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined() || !is_floating(a.dtype()) || b.dtype() != a.dtype()) return Tensor();
  if (a.dim() < 2 || b.dim() != 1 || a.numel() == 0 || !a.is_contiguous() || !b.is_contiguous()) return Tensor();
  const int64_t cols = a.shape().back();
  if (cols < 2 || b.shape()[0] != cols) return Tensor();
  Tensor out = Tensor::empty(a.shape(), a.dtype());
  GD_DISPATCH_FLOAT(a.dtype(), "add", [&] {
    using T = scalar_t;
    const T* x = a.data<T>();
    const T* row = b.data<T>();
    T* o = out.data<T>();
    const int64_t rows = a.numel() / cols;
    trace::launch([x, row, o, rows, cols] { kernels::simd::kernels_for<T>().add_row(x, row, o, rows, cols); });
  });
  return out;
}

Tensor relu_loop(const Tensor& a) {
  if (!a.defined() || !is_floating(a.dtype()) || !a.is_contiguous() || a.numel() < kLinearReluMin) return Tensor();
  Tensor out = Tensor::empty(a.shape(), a.dtype());
  GD_DISPATCH_FLOAT(a.dtype(), "relu", [&] {
    using T = scalar_t;
    const T* x = a.data<T>();
    T* o = out.data<T>();
    const int64_t n = a.numel();
    trace::launch([x, o, n] { kernels::simd::kernels_for<T>().relu(x, o, n); });
  });
  return out;
}

Tensor relu_grad_loop(const Tensor& g, const Tensor& y) {
  if (!g.defined() || !y.defined() || !is_floating(y.dtype()) || g.dtype() != y.dtype() || g.shape() != y.shape())
    return Tensor();
  if (!g.is_contiguous() || !y.is_contiguous() || y.numel() < kLinearReluMin) return Tensor();
  Tensor out = Tensor::empty(y.shape(), y.dtype());
  GD_DISPATCH_FLOAT(y.dtype(), "relu", [&] {
    using T = scalar_t;
    const T* gp = g.data<T>();
    const T* yp = y.data<T>();
    T* o = out.data<T>();
    const int64_t n = y.numel();
    trace::launch([gp, yp, o, n] { kernels::simd::kernels_for<T>().relu_grad(gp, yp, o, n); });
  });
  return out;
}

}  // namespace gdcore::detail
