// softmax, log_softmax and logsumexp. The forwards subtract the maximum along the dim
// before exponentiating, so logits of +-1e4 give finite, exact-as-possible results; each
// backward is written with differentiable ops from the saved output (or input), so second
// derivatives work.
#include <cmath>
#include <limits>
#include <vector>

#include "gdcore/capture.hpp"
#include "gdcore/grad_mode.hpp"
#include "gdcore/ops_math.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

// A contiguous copy of `a` in its float dtype, seen as (outer, len, inner) around `dim`.
struct RowLayout {
  Tensor x;
  int64_t outer = 1, len = 1, inner = 1;
};
RowLayout row_layout(const Tensor& a, int64_t dim, const char* name) {
  if (!a.defined()) throw std::invalid_argument(std::string(name) + ": got an undefined tensor");
  if (!is_floating(a.dtype()))  // torch: "softmax_lastdim_kernel_impl" not implemented for 'Long'
    throw std::runtime_error(std::string(name) + ": not implemented for " + dtype_name(a.dtype()) +
                             " tensors; pass dtype=gdcore.float32 (or convert with .float())");
  RowLayout r;
  const int64_t d = wrap_dim(dim, a.dim(), name);
  r.x = cast_data(a, float_dtype(a.dtype())).contiguous();
  for (int64_t k = 0; k < a.dim(); ++k) {
    if (k < d) r.outer *= a.shape()[k];
    else if (k > d) r.inner *= a.shape()[k];
    else r.len = a.shape()[k];
  }
  return r;
}

// out = softmax (log_ = false) or log_softmax (log_ = true) along the middle axis of (outer, len, inner).
// The inner axis is the fast one, so the loops over it vectorise; a row of -inf gives NaN (0/0) as torch.
template <typename T>
void softmax_rows(const T* x, T* o, int64_t outer, int64_t len, int64_t inner, bool log_) {
  std::vector<double> mx(static_cast<size_t>(inner)), s(static_cast<size_t>(inner));
  for (int64_t b = 0; b < outer; ++b) {
    const T* xb = x + b * len * inner;
    T* ob = o + b * len * inner;
    std::fill(mx.begin(), mx.end(), -std::numeric_limits<double>::infinity());
    std::fill(s.begin(), s.end(), 0.0);
    for (int64_t k = 0; k < len; ++k)
      for (int64_t i = 0; i < inner; ++i) mx[i] = std::max(mx[i], static_cast<double>(xb[k * inner + i]));
    // A row whose maximum is infinite: shift by 0 instead (inf - inf would be NaN for the finite entries).
    for (int64_t i = 0; i < inner; ++i)
      if (std::isinf(mx[i])) mx[i] = 0.0;
    for (int64_t k = 0; k < len; ++k)
      for (int64_t i = 0; i < inner; ++i) s[i] += std::exp(static_cast<double>(xb[k * inner + i]) - mx[i]);
    if (log_) {
      for (int64_t i = 0; i < inner; ++i) s[i] = mx[i] + std::log(s[i]);
      for (int64_t k = 0; k < len; ++k)
        for (int64_t i = 0; i < inner; ++i) ob[k * inner + i] = static_cast<T>(static_cast<double>(xb[k * inner + i]) - s[i]);
    } else {
      for (int64_t k = 0; k < len; ++k)
        for (int64_t i = 0; i < inner; ++i)
          ob[k * inner + i] = static_cast<T>(std::exp(static_cast<double>(xb[k * inner + i]) - mx[i]) / s[i]);
    }
  }
}

Tensor softmax_forward(const Tensor& a, int64_t dim, bool log_, const char* name) {
  RowLayout r = row_layout(a, dim, name);
  const DType dt = r.x.dtype();
  Tensor out = Tensor::empty(a.shape(), dt);
  GD_DISPATCH_FLOAT(dt, name, [&] {
    const scalar_t* x = r.x.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    trace::launch([x, o, outer = r.outer, len = r.len, inner = r.inner, log_] {
      softmax_rows(x, o, outer, len, inner, log_);
    });
  });
  return out;
}

// d softmax: y * (g - sum(g * y)) along the dim.
std::vector<Tensor> softmax_backward(Node& n, const Tensor& g) {
  Tensor y = n.saved_tensor(0);
  const std::vector<int64_t> dim{n.attrs.ints[0]};
  return {mul(y, sub(g, sum(mul(g, y), dim, true)))};
}
const OpDef kSoftmax{"SoftmaxBackward", softmax_backward};

// d log_softmax: g - softmax * sum(g) along the dim, softmax = exp(saved output).
std::vector<Tensor> log_softmax_backward(Node& n, const Tensor& g) {
  Tensor y = n.saved_tensor(0);
  const std::vector<int64_t> dim{n.attrs.ints[0]};
  return {sub(g, mul(exp(y), sum(g, dim, true)))};
}
const OpDef kLogSoftmax{"LogSoftmaxBackward", log_softmax_backward};

// d logsumexp: g * exp(a - out), the softmax over the reduced dims.
std::vector<Tensor> logsumexp_backward(Node& n, const Tensor& g) {
  Tensor a = n.saved_tensor(0), out = n.saved_tensor(1);
  const Shape& keep = n.attrs.shape;
  Tensor gk = expand(reshape(g, keep), a.shape());
  return {mul(gk, exp(sub(a, expand(reshape(out, keep), a.shape()))))};
}
const OpDef kLogsumexp{"LogsumexpBackward", logsumexp_backward};

}  // namespace

Tensor softmax(const Tensor& a, int64_t dim) {
  Tensor out = softmax_forward(a, dim, false, "softmax");
  if (auto node = record(kSoftmax, {a}, out)) {
    node->attrs.ints = {wrap_dim(dim, a.dim(), "softmax")};
    save(*node, out, /*is_output=*/true);
  }
  return out;
}

Tensor log_softmax(const Tensor& a, int64_t dim) {
  Tensor out = softmax_forward(a, dim, true, "log_softmax");
  if (auto node = record(kLogSoftmax, {a}, out)) {
    node->attrs.ints = {wrap_dim(dim, a.dim(), "log_softmax")};
    save(*node, out, /*is_output=*/true);
  }
  return out;
}

Tensor logsumexp(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  if (!a.defined()) throw std::invalid_argument("logsumexp: got an undefined tensor");
  const DType dt = float_dtype(a.dtype());
  Tensor out;
  Shape keep_shape;
  {
    // The forward as a few traced loops, recorded neither on the tape nor by a capture (the op is one entry).
    NoGradGuard no_grad;
    capture::PauseGuard no_capture;
    Tensor x = cast_data(a.detach(), dt);
    Tensor m = amax(x, dims, true);
    // An infinite maximum shifts by 0 (inf - inf would be NaN): -inf rows give -inf, +inf gives +inf.
    Tensor shift = GD_DISPATCH_FLOAT(dt, "logsumexp", [&] {
      return map_unary<scalar_t>(m, dt, [](scalar_t v) { return std::isinf(v) ? scalar_t(0) : v; });
    });
    Tensor lse = log(sum(exp(sub(x, shift)), dims, keepdim));
    keep_shape = shift.shape();
    out = add(lse, keepdim ? shift : reshape(shift, lse.shape()));
  }
  if (auto node = record(kLogsumexp, {a}, out)) {
    node->attrs.ints = dims;
    node->attrs.shape = keep_shape;
    save(*node, a);
    save(*node, out, /*is_output=*/true);
  }
  return out;
}

}  // namespace gdcore
