// mse_loss as one fused op: the forward reads input and target once; the backward
// (without create_graph) writes the gradient in one pass too.
#include <cmath>

#include "gdcore/grad_mode.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

// d/d input of the loss: scale * (input - target) * g, with scale = 2 (none/sum) or 2/n (mean).
Tensor mse_grad(const Tensor& input, const Tensor& target, const Tensor& g, double scale, bool elementwise) {
  if (GradMode::is_enabled() || !input.is_contiguous() || !target.is_contiguous() || !g.is_contiguous() ||
      input.dtype() != target.dtype() || g.dtype() != input.dtype()) {
    return mul(mul(sub(input, target), g), scale);  // differentiable path (create_graph)
  }
  return GD_DISPATCH_FLOAT(input.dtype(), "mse_loss", [&] {
    Tensor out = Tensor::empty(input.shape(), input.dtype());
    const scalar_t* x = input.data<scalar_t>();
    const scalar_t* y = target.data<scalar_t>();
    const scalar_t* gg = g.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    const int64_t n = input.numel();
    if (elementwise) {
      for (int64_t k = 0; k < n; ++k) o[k] = static_cast<scalar_t>(scale) * (x[k] - y[k]) * gg[k];
    } else {
      const scalar_t c = static_cast<scalar_t>(scale) * gg[0];
      for (int64_t k = 0; k < n; ++k) o[k] = c * (x[k] - y[k]);
    }
    return out;
  });
}

std::vector<Tensor> mse_backward(Node& n, const Tensor& g) {
  Tensor input = n.saved_tensor(0), target = n.saved_tensor(1);
  const auto reduction = static_cast<Reduction>(n.attrs.ints[0]);
  const double count = static_cast<double>(input.numel());
  const double scale = reduction == Reduction::Mean ? 2.0 / count : 2.0;
  Tensor gi = mse_grad(input, target, g, scale, reduction == Reduction::None);
  return {GD_GRAD_IF(n, 0, gi), GD_GRAD_IF(n, 1, neg(gi))};
}
const OpDef kMse{"MseLossBackward", mse_backward};

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  if (input.shape() != target.shape())
    throw std::invalid_argument("mse_loss: input shape " + shape_str(input.shape()) + " and target shape " +
                                shape_str(target.shape()) +
                                " differ; broadcasting them would silently compare every prediction with every "
                                "target. Reshape one to match (e.g. target.reshape(input.shape))");
  if (input.dtype() != target.dtype())
    throw std::invalid_argument(std::string("mse_loss: input is ") + dtype_name(input.dtype()) + " but target is " +
                                dtype_name(target.dtype()) + "; convert one with .to(dtype)");
  const DType dt = input.dtype();
  Tensor x = input.contiguous(), y = target.contiguous();
  Tensor out = GD_DISPATCH_FLOAT(dt, "mse_loss", [&] {
    const scalar_t* a = x.data<scalar_t>();
    const scalar_t* b = y.data<scalar_t>();
    const int64_t n = x.numel();
    if (reduction == Reduction::None) {
      Tensor r = Tensor::empty(x.shape(), dt);
      scalar_t* o = r.data<scalar_t>();
      for (int64_t k = 0; k < n; ++k) o[k] = (a[k] - b[k]) * (a[k] - b[k]);
      return r;
    }
    double acc = 0.0;
    for (int64_t k = 0; k < n; ++k) {
      const double d = static_cast<double>(a[k]) - static_cast<double>(b[k]);
      acc += d * d;
    }
    if (reduction == Reduction::Mean) acc = n ? acc / static_cast<double>(n) : NAN;
    return scalar_tensor(acc, dt);
  });
  if (auto node = record(kMse, {input, target}, out)) {
    node->attrs.ints = {static_cast<int64_t>(reduction)};
    save(*node, input);
    save(*node, target);
  }
  return out;
}

}  // namespace gdcore
