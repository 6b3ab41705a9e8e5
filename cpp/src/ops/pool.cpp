// 2-d max pooling (NCHW). The forward finds each window's maximum and remembers where it
// was; the gradient then only moves values between those positions: pool2d_gather reads
// them, pool2d_scatter_add writes them back. The two are each other's backward, so
// max_pool2d supports gradients of gradients.
#include "kernels/conv.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

std::string pair_str(Size2 p) { return shape_str(Shape{p[0], p[1]}); }  // "(h, w)"

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

// Checks an int64 index tensor (N, C, OH, OW) against planes of `input_shape` (N, C, H, W).
void require_indices(const char* op, const Tensor& indices, const Shape& input_shape) {
  require(indices.defined() && indices.dtype() == DType::Int64,
          std::string(op) + ": indices must be an int64 tensor (as returned by max_pool2d)");
  require(indices.dim() == 4 && input_shape.size() == 4 && indices.shape()[0] == input_shape[0] &&
              indices.shape()[1] == input_shape[1],
          std::string(op) + ": indices of shape " + shape_str(indices.shape()) +
              " do not match (N, C) of the input shape " + shape_str(input_shape));
  const int64_t plane = input_shape[2] * input_shape[3];
  const Tensor idx = indices.contiguous();
  const int64_t* p = idx.data<int64_t>();
  const int64_t count = idx.numel();  // (numel() is a call; outside the loop it runs once)
  for (int64_t k = 0; k < count; ++k)
    if (p[k] < 0 || p[k] >= plane)  // (no message built on the hot path)
      throw std::invalid_argument(std::string(op) + ": index " + std::to_string(p[k]) +
                                  " is out of range for planes of " + std::to_string(plane) + " elements");
}

// Calls f(plane_in_offset, plane_out_offset) for each of the N*C planes.
template <typename F>
void for_each_plane(const Shape& in, const Shape& out, F f) {
  const int64_t planes = in[0] * in[1], in_size = in[2] * in[3], out_size = out[2] * out[3];
  for (int64_t p = 0; p < planes; ++p) f(p * in_size, p * out_size, out_size);
}

// (The loops below run through trace::launch. Indices checked when the op ran are checked again
// inside the loop, because a lowered replay of gdcore.compile may see new index values.)
Tensor gather_data(const Tensor& input, const Tensor& indices) {
  const Tensor x = input.contiguous(), idx = indices.contiguous();
  Tensor out = Tensor::empty(indices.shape(), input.dtype());
  GD_DISPATCH_FLOAT(input.dtype(), "pool2d_gather", [&] {
    trace::launch([src = x.data<scalar_t>(), dst = out.data<scalar_t>(), at = idx.data<int64_t>(),
                   in = input.shape(), shape = indices.shape()] {
      const int64_t plane = in[2] * in[3];
      for_each_plane(in, shape, [&](int64_t in_off, int64_t out_off, int64_t n) {
        for (int64_t k = 0; k < n; ++k) {
          const int64_t i = at[out_off + k];
          if (i < 0 || i >= plane) throw std::out_of_range("pool2d_gather: index " + std::to_string(i) + " out of range");
          dst[out_off + k] = src[in_off + i];
        }
      });
    });
  });
  return out;
}

Tensor scatter_add_data(const Tensor& grad, const Tensor& indices, const Shape& input_shape) {
  const Tensor g = grad.contiguous(), idx = indices.contiguous();
  Tensor out = Tensor::empty(input_shape, grad.dtype(), /*zero=*/true);
  GD_DISPATCH_FLOAT(grad.dtype(), "pool2d_scatter_add", [&] {
    trace::launch([src = g.data<scalar_t>(), dst = out.data<scalar_t>(), at = idx.data<int64_t>(),
                   in = input_shape, shape = indices.shape()] {
      const int64_t plane = in[2] * in[3];
      // Overlapping windows can pick the same pixel: add, never overwrite.
      for_each_plane(in, shape, [&](int64_t in_off, int64_t out_off, int64_t n) {
        for (int64_t k = 0; k < n; ++k) {
          const int64_t i = at[out_off + k];
          if (i < 0 || i >= plane)
            throw std::out_of_range("pool2d_scatter_add: index " + std::to_string(i) + " out of range");
          dst[in_off + i] += src[out_off + k];
        }
      });
    });
  });
  return out;
}

std::vector<Tensor> gather_backward(Node& n, const Tensor& g) {
  return {pool2d_scatter_add(g, n.saved_tensor(0), n.attrs.shape)};
}
const OpDef kMaxPool2d{"MaxPool2dBackward", gather_backward};
const OpDef kGather{"Pool2dGatherBackward", gather_backward};

std::vector<Tensor> scatter_add_backward(Node& n, const Tensor& g) { return {pool2d_gather(g, n.saved_tensor(0))}; }
const OpDef kScatterAdd{"Pool2dScatterAddBackward", scatter_add_backward};

// Records a gather-like node (values read from `input` at `indices`).
std::shared_ptr<Node> record_gather(const OpDef& op, const Tensor& input, const Tensor& indices, Tensor& out) {
  auto node = record(op, {input}, out);
  if (node) {
    node->attrs.shape = input.shape();
    save(*node, indices);
  }
  return node;
}

}  // namespace

MaxPool2dResult max_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding) {
  require(input.defined() && input.dim() == 4,
          "max_pool2d: expected input of shape (N, C, H, W), got shape " +
              (input.defined() ? shape_str(input.shape()) : std::string("undefined")) +
              (input.defined() && input.dim() == 3 ? "; for a single image use input.unsqueeze(0)" : ""));
  require(is_floating(input.dtype()), std::string("max_pool2d: input is ") + dtype_name(input.dtype()) +
                                          "; expected float32 or float64 (convert with .float())");
  require(kernel_size[0] >= 1 && kernel_size[1] >= 1,
          "max_pool2d: kernel_size must be >= 1, got " + pair_str(kernel_size));
  require(stride[0] >= 1 && stride[1] >= 1, "max_pool2d: stride must be >= 1, got " + pair_str(stride));
  require(padding[0] >= 0 && padding[1] >= 0 && padding[0] <= kernel_size[0] / 2 && padding[1] <= kernel_size[1] / 2,
          "max_pool2d: padding must be between 0 and half the kernel size, got padding " + pair_str(padding) +
              " for kernel_size " + pair_str(kernel_size));
  // Beyond this, h + 2 * padding overflows int64 (undefined behaviour); no real input comes close.
  require(padding[0] <= (int64_t{1} << 60) && padding[1] <= (int64_t{1} << 60),
          "max_pool2d: padding " + pair_str(padding) + " is too large (at most 2**60)");
  const int64_t h = input.shape()[2], w = input.shape()[3];
  const int64_t ph = h + 2 * padding[0], pw = w + 2 * padding[1];
  require(kernel_size[0] <= ph && kernel_size[1] <= pw,
          "max_pool2d: kernel_size " + pair_str(kernel_size) + " is larger than the padded input " +
              pair_str({ph, pw}) + " (input " + pair_str({h, w}) + " plus padding " + pair_str(padding) +
              " on each side)");
  const kernels::Window2d win{h, w, kernel_size[0], kernel_size[1], stride[0], stride[1], padding[0], padding[1],
                              (ph - kernel_size[0]) / stride[0] + 1, (pw - kernel_size[1]) / stride[1] + 1};

  const Tensor x = input.contiguous();
  const Shape out_shape{input.shape()[0], input.shape()[1], win.out_h, win.out_w};
  Tensor values = Tensor::empty(out_shape, input.dtype());
  Tensor indices = Tensor::empty(out_shape, DType::Int64);
  GD_DISPATCH_FLOAT(input.dtype(), "max_pool2d", [&] {
    trace::launch([src = x.data<scalar_t>(), vals = values.data<scalar_t>(), idx = indices.data<int64_t>(), win,
                   in = input.shape(), out_shape] {
      for_each_plane(in, out_shape, [&](int64_t in_off, int64_t out_off, int64_t) {
        kernels::max_pool_plane(src + in_off, win, vals + out_off, idx + out_off);
      });
    });
  });
  if (auto node = record_gather(kMaxPool2d, input, indices, values))  // the geometry, for gdcore.compile's replay
    node->attrs.ints = {kernel_size[0], kernel_size[1], stride[0], stride[1], padding[0], padding[1]};
  return {values, indices};
}

Tensor pool2d_gather(const Tensor& input, const Tensor& indices) {
  require(input.defined() && input.dim() == 4, "pool2d_gather: expected input of shape (N, C, H, W), got shape " +
                                                   (input.defined() ? shape_str(input.shape()) : std::string("undefined")));
  require_indices("pool2d_gather", indices, input.shape());
  Tensor out = gather_data(input, indices);
  record_gather(kGather, input, indices, out);
  return out;
}

Tensor pool2d_scatter_add(const Tensor& grad, const Tensor& indices, const Shape& input_shape) {
  require_indices("pool2d_scatter_add", indices, input_shape);
  require(grad.defined() && grad.shape() == indices.shape(),
          "pool2d_scatter_add: grad of shape " + (grad.defined() ? shape_str(grad.shape()) : std::string("undefined")) +
              " must have the shape of indices " + shape_str(indices.shape()));
  Tensor out = scatter_add_data(grad, indices, input_shape);
  if (auto node = record(kScatterAdd, {grad}, out)) save(*node, indices);
  return out;
}

}  // namespace gdcore
