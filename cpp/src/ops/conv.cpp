// 2-d convolution (NCHW) as im2col + GEMM, with its two adjoints: the gradient w.r.t. the
// input (a transposed convolution, col2im) and w.r.t. the weight. The three ops form a
// closed family: each one's backward is written with the other two, so gradients of
// gradients (create_graph) work through a convolution.
#include <vector>

#include "kernels/conv.hpp"
#include "kernels/gemm.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

std::string pair_str(Size2 p) { return shape_str(Shape{p[0], p[1]}); }  // "(h, w)"

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

void require_4d(const Tensor& t, const char* op, const char* what, const char* layout) {
  require(t.defined(), std::string(op) + ": " + what + " is undefined");
  require(t.dim() == 4, std::string(op) + ": expected " + what + " of shape " + layout + ", got shape " +
                            shape_str(t.shape()) + (t.dim() == 3 && std::string(what) == "input"
                                                        ? "; for a single image use input.unsqueeze(0)"
                                                        : ""));
}

// Every tensor float32 or float64, all of one dtype (conv does not promote, as torch).
void require_same_float(const char* op, const std::vector<std::pair<const char*, Tensor>>& named) {
  const DType dt = named.front().second.dtype();
  for (const auto& [name, t] : named) {
    if (!t.defined()) continue;
    require(is_floating(t.dtype()), std::string(op) + ": " + name + " is " + dtype_name(t.dtype()) +
                                        "; expected float32 or float64 (convert with .float() or .double())");
    require(t.dtype() == dt, std::string(op) + ": " + named.front().first + " is " + dtype_name(dt) + " but " + name +
                                 " is " + dtype_name(t.dtype()) + "; convert one with .to(dtype)");
  }
}

// The window geometry of a (kh, kw) kernel over the planes of `input_shape` (N, C, H, W).
kernels::Window2d conv_window(const char* op, const Shape& input_shape, int64_t kh, int64_t kw, Size2 stride,
                              Size2 padding) {
  require(stride[0] >= 1 && stride[1] >= 1, std::string(op) + ": stride must be >= 1, got " + pair_str(stride));
  require(padding[0] >= 0 && padding[1] >= 0,
          std::string(op) + ": padding must be >= 0, got " + pair_str(padding));
  // Beyond this, h + 2 * padding overflows int64 (undefined behaviour); no real input comes close.
  require(padding[0] <= (int64_t{1} << 60) && padding[1] <= (int64_t{1} << 60),
          std::string(op) + ": padding " + pair_str(padding) + " is too large (at most 2**60)");
  require(kh >= 1 && kw >= 1, std::string(op) + ": kernel size must be >= 1, got " + pair_str({kh, kw}));
  const int64_t h = input_shape[2], w = input_shape[3];
  const int64_t ph = h + 2 * padding[0], pw = w + 2 * padding[1];
  require(kh <= ph && kw <= pw, std::string(op) + ": kernel size " + pair_str({kh, kw}) +
                                    " is larger than the padded input " + pair_str({ph, pw}) + " (input " +
                                    pair_str({h, w}) + " plus padding " + pair_str(padding) +
                                    " on each side); use a smaller kernel, more padding or a larger input");
  return {h, w, kh, kw, stride[0], stride[1], padding[0], padding[1], (ph - kh) / stride[0] + 1,
          (pw - kw) / stride[1] + 1};
}

void require_grad_output_shape(const char* op, const Tensor& g, int64_t n, int64_t o, const kernels::Window2d& win) {
  const Shape expected{n, o, win.out_h, win.out_w};
  require(g.shape() == expected, std::string(op) + ": grad_output has shape " + shape_str(g.shape()) +
                                     " but the convolution produces " + shape_str(expected));
}

std::vector<int64_t> geometry_attrs(Size2 stride, Size2 padding) { return {stride[0], stride[1], padding[0], padding[1]}; }
Size2 stride_of(const Node& n) { return {n.attrs.ints[0], n.attrs.ints[1]}; }
Size2 padding_of(const Node& n) { return {n.attrs.ints[2], n.attrs.ints[3]}; }

// ---- conv2d: y = W * x + b ----
std::vector<Tensor> conv2d_backward(Node& n, const Tensor& g) {
  const Tensor x = n.saved_tensor(0), w = n.saved_tensor(1);
  return {GD_GRAD_IF(n, 0, conv2d_input_grad(g, w, x.shape(), stride_of(n), padding_of(n))),
          GD_GRAD_IF(n, 1, conv2d_weight_grad(x, g, w.shape(), stride_of(n), padding_of(n))),
          GD_GRAD_IF(n, 2, sum(g, {0, 2, 3}))};
}
const OpDef kConv2d{"Conv2dBackward", conv2d_backward};

// ---- conv2d_input_grad(g, W): linear in g and in W ----
std::vector<Tensor> conv2d_input_grad_backward(Node& n, const Tensor& gg) {
  const Tensor g = n.saved_tensor(0), w = n.saved_tensor(1);
  return {GD_GRAD_IF(n, 0, conv2d(gg, w, Tensor(), stride_of(n), padding_of(n))),
          GD_GRAD_IF(n, 1, conv2d_weight_grad(gg, g, w.shape(), stride_of(n), padding_of(n)))};
}
const OpDef kConv2dInputGrad{"Conv2dInputGradBackward", conv2d_input_grad_backward};

// ---- conv2d_weight_grad(x, g): linear in x and in g ----
std::vector<Tensor> conv2d_weight_grad_backward(Node& n, const Tensor& gw) {
  const Tensor x = n.saved_tensor(0), g = n.saved_tensor(1);
  return {GD_GRAD_IF(n, 0, conv2d_input_grad(g, gw, x.shape(), stride_of(n), padding_of(n))),
          GD_GRAD_IF(n, 1, conv2d(x, gw, Tensor(), stride_of(n), padding_of(n)))};
}
const OpDef kConv2dWeightGrad{"Conv2dWeightGradBackward", conv2d_weight_grad_backward};

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding) {
  require_4d(input, "conv2d", "input", "(N, C, H, W)");
  require_4d(weight, "conv2d", "weight", "(out_channels, in_channels, kH, kW)");
  require_same_float("conv2d", {{"input", input}, {"weight", weight}, {"bias", bias}});
  const int64_t batch = input.shape()[0], channels = input.shape()[1], out_channels = weight.shape()[0];
  require(weight.shape()[1] == channels,
          "conv2d: input of shape " + shape_str(input.shape()) + " has " + std::to_string(channels) +
              " channels but weight of shape " + shape_str(weight.shape()) + " expects " +
              std::to_string(weight.shape()[1]) + " (weight.shape[1]); check in_channels");
  require(!bias.defined() || (bias.dim() == 1 && bias.shape()[0] == out_channels),
          "conv2d: bias must have shape (" + std::to_string(out_channels) + ",) for weight of shape " +
              shape_str(weight.shape()) + ", got " + (bias.defined() ? shape_str(bias.shape()) : ""));
  const auto win = conv_window("conv2d", input.shape(), weight.shape()[2], weight.shape()[3], stride, padding);

  const Tensor x = input.contiguous(), w = weight.contiguous(), b = bias.defined() ? bias.contiguous() : bias;
  const int64_t rows = channels * win.kernel_h * win.kernel_w, positions = win.out_h * win.out_w;
  Tensor out = Tensor::empty({batch, out_channels, win.out_h, win.out_w}, input.dtype());
  GD_DISPATCH_FLOAT(input.dtype(), "conv2d", [&] {
    std::vector<scalar_t> cols(static_cast<size_t>(rows * positions));
    const scalar_t* bias_data = b.defined() ? b.data<scalar_t>() : nullptr;
    for (int64_t s = 0; s < batch; ++s) {
      kernels::im2col(x.data<scalar_t>() + s * channels * win.height * win.width, channels, win, cols.data(),
                      positions, 1);
      scalar_t* y = out.data<scalar_t>() + s * out_channels * positions;
      kernels::gemm<scalar_t>(out_channels, positions, rows, w.data<scalar_t>(), rows, 1, cols.data(), positions, y);
      if (bias_data)
        for (int64_t o = 0; o < out_channels; ++o)
          for (int64_t l = 0; l < positions; ++l) y[o * positions + l] += bias_data[o];
    }
  });
  if (auto node = record(kConv2d, {input, weight, bias}, out)) {
    node->attrs.ints = geometry_attrs(stride, padding);
    save(*node, input);
    save(*node, weight);
  }
  return out;
}

Tensor conv2d_input_grad(const Tensor& grad_output, const Tensor& weight, const Shape& input_shape, Size2 stride,
                         Size2 padding) {
  const char* op = "conv2d_input_grad";
  require_4d(grad_output, op, "grad_output", "(N, out_channels, OH, OW)");
  require_4d(weight, op, "weight", "(out_channels, in_channels, kH, kW)");
  require(input_shape.size() == 4, std::string(op) + ": input_shape must be (N, C, H, W), got " + shape_str(input_shape));
  require_same_float(op, {{"grad_output", grad_output}, {"weight", weight}});
  require(input_shape[1] == weight.shape()[1], std::string(op) + ": input_shape " + shape_str(input_shape) +
                                                   " does not match weight of shape " + shape_str(weight.shape()));
  const auto win = conv_window(op, input_shape, weight.shape()[2], weight.shape()[3], stride, padding);
  require_grad_output_shape(op, grad_output, input_shape[0], weight.shape()[0], win);

  const Tensor g = grad_output.contiguous(), w = weight.contiguous();
  const int64_t batch = input_shape[0], channels = input_shape[1], out_channels = weight.shape()[0];
  const int64_t rows = channels * win.kernel_h * win.kernel_w, positions = win.out_h * win.out_w;
  Tensor out = Tensor::empty(input_shape, grad_output.dtype(), /*zero=*/true);
  GD_DISPATCH_FLOAT(grad_output.dtype(), op, [&] {
    std::vector<scalar_t> cols(static_cast<size_t>(rows * positions));
    for (int64_t s = 0; s < batch; ++s) {
      // cols = W^T g[s]: W read transposed through its strides.
      kernels::gemm<scalar_t>(rows, positions, out_channels, w.data<scalar_t>(), 1, rows,
                              g.data<scalar_t>() + s * out_channels * positions, positions, cols.data());
      kernels::col2im(cols.data(), channels, win, out.data<scalar_t>() + s * channels * win.height * win.width);
    }
  });
  if (auto node = record(kConv2dInputGrad, {grad_output, weight}, out)) {
    node->attrs.ints = geometry_attrs(stride, padding);
    save(*node, grad_output);
    save(*node, weight);
  }
  return out;
}

Tensor conv2d_weight_grad(const Tensor& input, const Tensor& grad_output, const Shape& weight_shape, Size2 stride,
                          Size2 padding) {
  const char* op = "conv2d_weight_grad";
  require_4d(input, op, "input", "(N, C, H, W)");
  require_4d(grad_output, op, "grad_output", "(N, out_channels, OH, OW)");
  require(weight_shape.size() == 4,
          std::string(op) + ": weight_shape must be (out_channels, in_channels, kH, kW), got " + shape_str(weight_shape));
  require_same_float(op, {{"input", input}, {"grad_output", grad_output}});
  require(weight_shape[1] == input.shape()[1], std::string(op) + ": weight_shape " + shape_str(weight_shape) +
                                                   " does not match input of shape " + shape_str(input.shape()));
  const auto win = conv_window(op, input.shape(), weight_shape[2], weight_shape[3], stride, padding);
  require_grad_output_shape(op, grad_output, input.shape()[0], weight_shape[0], win);

  const Tensor x = input.contiguous(), g = grad_output.contiguous();
  const int64_t batch = input.shape()[0], channels = input.shape()[1], out_channels = weight_shape[0];
  const int64_t rows = channels * win.kernel_h * win.kernel_w, positions = win.out_h * win.out_w;
  Tensor out = Tensor::empty(weight_shape, input.dtype(), /*zero=*/true);
  GD_DISPATCH_FLOAT(input.dtype(), op, [&] {
    // Columns laid out transposed, (positions, rows), so that g[s] @ cols^T has unit-stride rows.
    std::vector<scalar_t> cols_t(static_cast<size_t>(rows * positions)), part(static_cast<size_t>(out_channels * rows));
    scalar_t* dw = out.data<scalar_t>();
    for (int64_t s = 0; s < batch; ++s) {
      kernels::im2col(x.data<scalar_t>() + s * channels * win.height * win.width, channels, win, cols_t.data(), 1,
                      rows);
      kernels::gemm<scalar_t>(out_channels, rows, positions, g.data<scalar_t>() + s * out_channels * positions,
                              positions, 1, cols_t.data(), rows, part.data());
      for (int64_t k = 0; k < out_channels * rows; ++k) dw[k] += part[k];
    }
  });
  if (auto node = record(kConv2dWeightGrad, {input, grad_output}, out)) {
    node->attrs.ints = geometry_attrs(stride, padding);
    save(*node, input);
    save(*node, grad_output);
  }
  return out;
}

}  // namespace gdcore
