// 2-d convolution (NCHW) as im2col + GEMM, with its two adjoints: the gradient w.r.t. the
// input (a transposed convolution, col2im) and w.r.t. the weight. The three ops form a
// closed family: each one's backward is written with the other two, so gradients of
// gradients (create_graph) work through a convolution.
// The GEMMs run over chunks of samples, not one sample at a time: a chunk's images are
// unfolded side by side into one (C*kh*kw, samples*L) column matrix, so each op makes one
// BLAS call per chunk instead of one per sample. The chunks are split over gdcore's kernel
// threads (each with its own scratch, OpenBLAS single-threaded inside); the weight gradient
// takes one partial product per chunk and adds them in chunk order, so every result is the
// same bits whatever the thread count.
#include <algorithm>
#include <memory>
#include <vector>

#include "kernels/conv.hpp"
#include "gdcore/grad_mode.hpp"
#include "kernels/gemm.hpp"
#include "kernels/simd/parallel.hpp"
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

// ---- the chunked GEMM layout shared by the three ops ----
// Column matrices stay under this size; the samples of a batch are processed in chunks
// of as many images as fit (at least one). The size keeps a chunk's columns, the GEMM's
// output and OpenBLAS's packed copies inside one core's L2 cache (1 MiB on the EPYC this
// was measured on): with 16 MiB chunks (the whole batch of the d2l LeNet's second layer)
// every pass over the columns went to memory, and the step ran 2-7x slower per convolution.
constexpr int64_t kColumnBytes = int64_t{256} << 10;

template <typename T>
int64_t samples_per_chunk(int64_t batch, int64_t rows, int64_t positions) {
  const int64_t per_sample = std::max<int64_t>(rows * positions * static_cast<int64_t>(sizeof(T)), 1);
  return std::clamp<int64_t>(kColumnBytes / per_sample, 1, std::max<int64_t>(batch, 1));
}

// Unfolds images [s0, s0 + count) of x (N, C, H, W) side by side: cols is (rows, count * L).
template <typename T>
void unfold_chunk(const T* x, int64_t s0, int64_t count, int64_t channels, const kernels::Window2d& win, T* cols) {
  const int64_t image = channels * win.height * win.width, positions = win.out_h * win.out_w;
  for (int64_t s = 0; s < count; ++s)
    kernels::im2col(x + (s0 + s) * image, channels, win, cols + s * positions, count * positions);
}

// A scratch array that every use overwrites completely (no zero fill, unlike std::vector).
template <typename T>
std::unique_ptr<T[]> scratch(int64_t n) {
  return std::make_unique_for_overwrite<T[]>(static_cast<size_t>(n));
}

// Samples [s0, s0 + count) of g (N, O, L) as one (O, count * L) matrix: g itself when
// count is 1, else a copy into `buffer` (which holds O * chunk * L elements).
template <typename T>
const T* gather_chunk(const T* g, int64_t s0, int64_t count, int64_t out_channels, int64_t positions, T* buffer) {
  if (count == 1) return g + s0 * out_channels * positions;
  for (int64_t s = 0; s < count; ++s)
    for (int64_t o = 0; o < out_channels; ++o)
      std::copy_n(g + ((s0 + s) * out_channels + o) * positions, positions,
                  buffer + o * count * positions + s * positions);
  return buffer;
}

// The chunks [0, chunks) are split into parts, contiguous runs of chunks, one per kernel thread when
// there are two chunks or more and the op does at least kParallelMultiplyAdds multiply-adds (waking
// the second thread costs 5-100 us; 2^21 multiply-adds take 100-200 us on one core in OpenBLAS's
// small-product kernels). Each part has its own scratch, allocated by the caller before the split
// (an allocation failure then throws on the calling thread, not inside a worker).
constexpr double kParallelMultiplyAdds = double(int64_t{1} << 21);

int chunk_parts(int64_t chunks, double multiply_adds) {
  if (chunks < 2 || multiply_adds < kParallelMultiplyAdds) return 1;
  return static_cast<int>(std::min<int64_t>(kernels::simd::kernel_threads(), chunks));
}

// Calls body(part, first, end) for each part's run of chunks [first, end), the parts in parallel.
// With two chunks or more OpenBLAS is held to the calling thread however many parts there are, so
// the products, and the results, never depend on the thread count.
template <class Body>
void over_chunks(int parts, int64_t chunks, const Body& body) {
  if (chunks < 2) {
    body(0, int64_t{0}, chunks);
    return;
  }
  kernels::BlasOnCallingThread blas_here;
  struct Ctx {
    const Body* body;
    int64_t chunks;
    int parts;
  } ctx{&body, chunks, parts};
  kernels::simd::run_parts(parts, [](void* p, int part) {
    const Ctx& c = *static_cast<const Ctx*>(p);
    (*c.body)(part, c.chunks * part / c.parts, c.chunks * (part + 1) / c.parts);
  }, &ctx);
}

std::vector<int64_t> geometry_attrs(Size2 stride, Size2 padding) { return {stride[0], stride[1], padding[0], padding[1]}; }
Size2 stride_of(const Node& n) { return {n.attrs.ints[0], n.attrs.ints[1]}; }
Size2 padding_of(const Node& n) { return {n.attrs.ints[2], n.attrs.ints[3]}; }

// The bias gradient, sum(g, {0, 2, 3}). Unless that sum is to be differentiated again (create_graph
// with g requiring grad), kernels::channel_sums takes it: the generic reduction's single chain of
// dependent additions cost 1.2 ms for the d2l LeNet's first layer (256 x 6 x 784), 10% of its backward.
Tensor conv2d_bias_grad(const Tensor& grad_output) {
  if (GradMode::is_enabled() && grad_output.requires_grad()) return sum(grad_output, {0, 2, 3});
  const Tensor g = grad_output.contiguous();
  const Shape& s = g.shape();
  Tensor out = Tensor::empty({s[1]}, g.dtype());
  GD_DISPATCH_FLOAT(g.dtype(), "conv2d", [&] {
    trace::launch([gd = g.data<scalar_t>(), od = out.data<scalar_t>(), n = s[0], c = s[1], l = s[2] * s[3]] {
      kernels::channel_sums(gd, n, c, l, od);
    });
  });
  return out;
}

// ---- conv2d: y = W * x + b ----
std::vector<Tensor> conv2d_backward(Node& n, const Tensor& g) {
  const Tensor x = n.saved_tensor(0), w = n.saved_tensor(1);
  return {GD_GRAD_IF(n, 0, conv2d_input_grad(g, w, x.shape(), stride_of(n), padding_of(n))),
          GD_GRAD_IF(n, 1, conv2d_weight_grad(x, g, w.shape(), stride_of(n), padding_of(n))),
          GD_GRAD_IF(n, 2, conv2d_bias_grad(g))};
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
    const scalar_t* xd = x.data<scalar_t>();
    const scalar_t* wd = w.data<scalar_t>();
    scalar_t* yd = out.data<scalar_t>();
    const scalar_t* bias_data = b.defined() ? b.data<scalar_t>() : nullptr;
    // (One trace::launch for the whole op: its scratch arrays are made again at each lowered replay.)
    trace::launch([=] {
      const int64_t chunk = samples_per_chunk<scalar_t>(batch, rows, positions);
      const int64_t chunks = (batch + chunk - 1) / chunk;
      const int parts = chunk_parts(chunks, double(batch) * double(out_channels * rows * positions));
      const int64_t cols_size = rows * chunk * positions, prod_size = chunk > 1 ? out_channels * chunk * positions : 0;
      const auto cols_all = scratch<scalar_t>(parts * cols_size), prod_all = scratch<scalar_t>(parts * prod_size);
      over_chunks(parts, chunks, [&](int part, int64_t c0, int64_t c1) {
        scalar_t* const cols = cols_all.get() + part * cols_size;
        scalar_t* const prod = prod_all.get() + part * prod_size;
        for (int64_t s0 = c0 * chunk; s0 < std::min(batch, c1 * chunk); s0 += chunk) {
          const int64_t count = std::min(chunk, batch - s0), width = count * positions;
          unfold_chunk(xd, s0, count, channels, win, cols);
          // (O, count * L) = W (O, rows) @ cols (rows, count * L); for one sample that is y[s0] itself.
          scalar_t* y0 = yd + s0 * out_channels * positions;
          scalar_t* target = count == 1 ? y0 : prod;
          kernels::gemm<scalar_t>(out_channels, width, rows, {wd, rows, 1}, {cols, width, 1}, target, width);
          if (count == 1 && !bias_data) continue;
          // (O, count, L) -> (count, O, L), adding the bias on the way (in place when count == 1).
          for (int64_t s = 0; s < count; ++s)
            for (int64_t o = 0; o < out_channels; ++o) {
              const scalar_t* src = target + o * width + s * positions;
              scalar_t* y = y0 + (s * out_channels + o) * positions;
              if (!bias_data) {
                std::copy_n(src, positions, y);
                continue;
              }
              const scalar_t shift = bias_data[o];
              for (int64_t l = 0; l < positions; ++l) y[l] = src[l] + shift;
            }
        }
      });
    });
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
    const scalar_t* gd = g.data<scalar_t>();
    const scalar_t* wd = w.data<scalar_t>();
    scalar_t* od = out.data<scalar_t>();
    trace::launch([=] {  // (out was zero-filled when made; a lowered replay fills it again first)
      const int64_t chunk = samples_per_chunk<scalar_t>(batch, rows, positions);
      const int64_t chunks = (batch + chunk - 1) / chunk;
      const int64_t image = channels * win.height * win.width;
      const int parts = chunk_parts(chunks, double(batch) * double(out_channels * rows * positions));
      const int64_t cols_size = rows * chunk * positions, g_size = chunk > 1 ? out_channels * chunk * positions : 0;
      const auto cols_all = scratch<scalar_t>(parts * cols_size), g_all = scratch<scalar_t>(parts * g_size);
      over_chunks(parts, chunks, [&](int part, int64_t c0, int64_t c1) {
        scalar_t* const cols = cols_all.get() + part * cols_size;
        scalar_t* const g_chunk = g_all.get() + part * g_size;
        for (int64_t s0 = c0 * chunk; s0 < std::min(batch, c1 * chunk); s0 += chunk) {
          const int64_t count = std::min(chunk, batch - s0), width = count * positions;
          const scalar_t* gc = gather_chunk(gd, s0, count, out_channels, positions, g_chunk);
          // cols (rows, count * L) = W^T (rows, O) @ g (O, count * L): W read transposed through its strides.
          kernels::gemm<scalar_t>(rows, width, out_channels, {wd, 1, rows}, {gc, width, 1}, cols, width);
          for (int64_t s = 0; s < count; ++s)
            kernels::col2im(cols + s * positions, width, channels, win, od + (s0 + s) * image);
        }
      });
    });
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
    const scalar_t* xd = x.data<scalar_t>();
    const scalar_t* gd = g.data<scalar_t>();
    scalar_t* od = out.data<scalar_t>();
    trace::launch([=] {
      const int64_t chunk = samples_per_chunk<scalar_t>(batch, rows, positions);
      const int64_t chunks = (batch + chunk - 1) / chunk, weights = out_channels * rows;
      // One partial dW per chunk (the first chunk's straight into out), added in chunk order below:
      // the same sums whichever thread took which chunk.
      const auto partial = scratch<scalar_t>(std::max<int64_t>(chunks - 1, 0) * weights);
      const int parts = chunk_parts(chunks, double(batch) * double(weights * positions));
      const int64_t cols_size = rows * chunk * positions, g_size = chunk > 1 ? out_channels * chunk * positions : 0;
      const auto cols_all = scratch<scalar_t>(parts * cols_size), g_all = scratch<scalar_t>(parts * g_size);
      over_chunks(parts, chunks, [&](int part, int64_t c0, int64_t c1) {
        scalar_t* const cols = cols_all.get() + part * cols_size;
        scalar_t* const g_chunk = g_all.get() + part * g_size;
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t s0 = c * chunk, count = std::min(chunk, batch - s0), width = count * positions;
          unfold_chunk(xd, s0, count, channels, win, cols);
          const scalar_t* gc = gather_chunk(gd, s0, count, out_channels, positions, g_chunk);
          // dW (O, rows) = g (O, count * L) @ cols^T (count * L, rows): the sum over the chunk's samples
          // and positions is the inner dimension of one product.
          scalar_t* target = c == 0 ? od : partial.get() + (c - 1) * weights;
          kernels::gemm<scalar_t>(out_channels, rows, width, {gc, width, 1}, {cols, 1, width}, target, rows);
        }
      });
      for (int64_t c = 1; c < chunks; ++c) {
        const scalar_t* p = partial.get() + (c - 1) * weights;
        for (int64_t i = 0; i < weights; ++i) od[i] += p[i];
      }
    });
  });
  if (auto node = record(kConv2dWeightGrad, {input, grad_output}, out)) {
    node->attrs.ints = geometry_attrs(stride, padding);
    save(*node, input);
    save(*node, grad_output);
  }
  return out;
}

}  // namespace gdcore
