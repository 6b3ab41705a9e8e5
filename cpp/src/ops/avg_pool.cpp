// 2-d average pooling (NCHW). Average pooling is linear, so its gradient is its adjoint (each
// output's gradient spread evenly over its window) and the adjoint's gradient is the pooling
// again: the two ops below are each other's backward, which gives gradients of gradients.
// Both loops run through trace::launch, so compiled LeNet steps with average pooling lower, and
// split large batches plane by plane over the kernel threads (each plane's result is the same
// whichever thread computes it).
#include "kernels/conv.hpp"
#include "kernels/simd/parallel.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

std::string pair_str(Size2 p) { return shape_str(Shape{p[0], p[1]}); }  // "(h, w)"

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

// Checks the geometry against an (N, C, H, W) input shape and returns the window description.
kernels::Window2d window(const char* op, const Shape& in, Size2 kernel_size, Size2 stride, Size2 padding) {
  const std::string name(op);
  require(kernel_size[0] >= 1 && kernel_size[1] >= 1, name + ": kernel_size must be >= 1, got " + pair_str(kernel_size));
  require(stride[0] >= 1 && stride[1] >= 1, name + ": stride must be >= 1, got " + pair_str(stride));
  require(padding[0] >= 0 && padding[1] >= 0 && padding[0] <= kernel_size[0] / 2 && padding[1] <= kernel_size[1] / 2,
          name + ": padding must be between 0 and half the kernel size, got padding " + pair_str(padding) +
              " for kernel_size " + pair_str(kernel_size));
  const int64_t h = in[2], w = in[3];
  const int64_t ph = h + 2 * padding[0], pw = w + 2 * padding[1];
  require(kernel_size[0] <= ph && kernel_size[1] <= pw,
          name + ": kernel_size " + pair_str(kernel_size) + " is larger than the padded input " + pair_str({ph, pw}) +
              " (input " + pair_str({h, w}) + " plus padding " + pair_str(padding) + " on each side)");
  return {h, w, kernel_size[0], kernel_size[1], stride[0], stride[1], padding[0], padding[1],
          (ph - kernel_size[0]) / stride[0] + 1, (pw - kernel_size[1]) / stride[1] + 1};
}

void require_4d_float(const char* op, const Tensor& t, const char* what) {
  require(t.defined() && t.dim() == 4,
          std::string(op) + ": expected " + what + " of shape (N, C, H, W), got shape " +
              (t.defined() ? shape_str(t.shape()) : std::string("undefined")) +
              (t.defined() && t.dim() == 3 ? "; for a single image use input.unsqueeze(0)" : ""));
  require(is_floating(t.dtype()), std::string(op) + ": " + what + " is " + dtype_name(t.dtype()) +
                                      "; expected float32 or float64 (convert with .float())");
}

// The geometry as node attributes: (kernel, stride, padding, count_include_pad) and the input shape.
void remember(Node& node, const Shape& input_shape, Size2 k, Size2 s, Size2 p, bool count_include_pad) {
  node.attrs.ints = {k[0], k[1], s[0], s[1], p[0], p[1], count_include_pad ? 1 : 0};
  node.attrs.shape = input_shape;
}

Size2 at(const OpAttrs& a, size_t i) { return {a.ints[i], a.ints[i + 1]}; }

std::vector<Tensor> avg_pool_backward(Node& n, const Tensor& g) {
  const OpAttrs& a = n.attrs;
  return {avg_pool2d_backward(g, a.shape, at(a, 0), at(a, 2), at(a, 4), a.ints[6] != 0)};
}
const OpDef kAvgPool2d{"AvgPool2dBackward", avg_pool_backward};

std::vector<Tensor> adjoint_backward(Node& n, const Tensor& g) {
  const OpAttrs& a = n.attrs;
  return {avg_pool2d(g, at(a, 0), at(a, 2), at(a, 4), a.ints[6] != 0)};
}
const OpDef kAvgPool2dAdjoint{"AvgPool2dAdjointBackward", adjoint_backward};

}  // namespace

Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding, bool count_include_pad) {
  require_4d_float("avg_pool2d", input, "input");
  const kernels::Window2d win = window("avg_pool2d", input.shape(), kernel_size, stride, padding);
  const Tensor x = input.contiguous();
  const Shape in = input.shape(), out_shape{in[0], in[1], win.out_h, win.out_w};
  Tensor out = Tensor::empty(out_shape, input.dtype());
  GD_DISPATCH_FLOAT(input.dtype(), "avg_pool2d", [&] {
    trace::launch([src = x.data<scalar_t>(), dst = out.data<scalar_t>(), win, count_include_pad,
                   planes = in[0] * in[1]] {
      const int64_t in_size = win.height * win.width, out_size = win.out_h * win.out_w;
      kernels::simd::parallel_items(planes, planes * (in_size + out_size), [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p)
          kernels::avg_pool_plane(src + p * in_size, win, count_include_pad, dst + p * out_size);
      });
    });
  });
  if (auto node = record(kAvgPool2d, {input}, out)) remember(*node, in, kernel_size, stride, padding, count_include_pad);
  return out;
}

Tensor avg_pool2d_backward(const Tensor& grad_output, const Shape& input_shape, Size2 kernel_size, Size2 stride,
                           Size2 padding, bool count_include_pad) {
  require_4d_float("avg_pool2d_backward", grad_output, "grad_output");
  require(input_shape.size() == 4 && input_shape[0] == grad_output.shape()[0] &&
              input_shape[1] == grad_output.shape()[1],
          "avg_pool2d_backward: input_shape " + shape_str(input_shape) + " does not match (N, C) of grad_output " +
              shape_str(grad_output.shape()));
  const kernels::Window2d win = window("avg_pool2d_backward", input_shape, kernel_size, stride, padding);
  require(grad_output.shape()[2] == win.out_h && grad_output.shape()[3] == win.out_w,
          "avg_pool2d_backward: grad_output of shape " + shape_str(grad_output.shape()) +
              " does not match the pooled size " + pair_str({win.out_h, win.out_w}) + " of input_shape " +
              shape_str(input_shape));
  const Tensor g = grad_output.contiguous();
  Tensor out = Tensor::empty(input_shape, grad_output.dtype(), /*zero=*/true);
  GD_DISPATCH_FLOAT(grad_output.dtype(), "avg_pool2d_backward", [&] {
    trace::launch([src = g.data<scalar_t>(), dst = out.data<scalar_t>(), win, count_include_pad,
                   planes = input_shape[0] * input_shape[1]] {
      const int64_t in_size = win.height * win.width, out_size = win.out_h * win.out_w;
      kernels::simd::parallel_items(planes, planes * (in_size + out_size), [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p)
          kernels::avg_pool_plane_adjoint(src + p * out_size, win, count_include_pad, dst + p * in_size);
      });
    });
  });
  if (auto node = record(kAvgPool2dAdjoint, {grad_output}, out))
    remember(*node, input_shape, kernel_size, stride, padding, count_include_pad);
  return out;
}

}  // namespace gdcore
