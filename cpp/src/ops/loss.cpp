// mse_loss as one fused op. With reduction 'mean' or 'sum' and a graph being recorded,
// the forward makes the loss and the gradient for an upstream gradient of 1 in one pass
// (one read of input and target, one write of the gradient: kernels/mse_loss.hpp); the
// usual loss.backward() then hands that gradient over without touching memory again.
// The cost is one input-sized tensor kept with the graph until backward (or until the
// graph is dropped). Otherwise each direction is one pass of its own.
#include <cmath>

#include "gdcore/grad_mode.hpp"
#include "kernels/mse_loss.hpp"
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
    const auto s = static_cast<scalar_t>(scale);
    if (elementwise) trace::launch([=] { kernels::diff_times(x, y, gg, o, s, n); });
    else trace::launch([=] { kernels::scaled_diff(x, y, o, s * gg[0], n); });
    return out;
  });
}

// 2 (none, sum) or 2 / n (mean): d loss / d input = scale * (input - target) * upstream.
double grad_scale(Reduction reduction, int64_t n) {
  return reduction == Reduction::Mean ? 2.0 / static_cast<double>(n) : 2.0;
}

// The loss value from the sum of squared differences: the mean divides by n (NaN for n = 0).
template <typename T>
T finish_loss(double acc, int64_t n, bool mean) {
  if (mean) acc = n ? acc / static_cast<double>(n) : NAN;
  return static_cast<T>(acc);
}

// Takes the gradient the forward made (saved tensor 2) out of the node, so that it is
// used at most once and its memory can become input.grad as it is; a retained graph's
// next backward recomputes it. Undefined when there is none or it cannot be used here.
Tensor take_forward_grad(Node& n, const Tensor& g) {
  if (n.saved.size() < 3 || !n.saved[2].tensor.defined() || GradMode::is_enabled()) return Tensor();
  if (g.dtype() != n.saved[2].tensor.dtype()) return Tensor();
  Tensor gi = n.saved[2].tensor;
  n.saved[2].tensor = Tensor();
  // Scaling by an upstream gradient of 1 is skipped; a lowered step (gdcore.compile) must not
  // decide that from this step's value, so it always multiplies (exact when it is 1).
  if (trace::active() || g.item() != 1.0) {
    NoGradGuard guard;
    mul_(gi, g);
  }
  return gi;
}

std::vector<Tensor> mse_backward(Node& n, const Tensor& g) {
  Tensor input = n.saved_tensor(0), target = n.saved_tensor(1);  // also catches in-place changes since forward
  const auto reduction = static_cast<Reduction>(n.attrs.ints[0]);
  Tensor gi = take_forward_grad(n, g);
  if (!gi.defined())
    gi = mse_grad(input, target, g, grad_scale(reduction, input.numel()), reduction == Reduction::None);
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
  const bool fuse = reduction != Reduction::None && GradMode::is_enabled() &&
                    (input.requires_grad() || target.requires_grad());
  Tensor forward_grad;  // d loss / d input for an upstream gradient of 1 (only when fused)
  Tensor out = GD_DISPATCH_FLOAT(dt, "mse_loss", [&] {
    const scalar_t* a = x.data<scalar_t>();
    const scalar_t* b = y.data<scalar_t>();
    const int64_t n = x.numel();
    if (reduction == Reduction::None) {
      Tensor r = Tensor::empty(x.shape(), dt);
      scalar_t* o = r.data<scalar_t>();
      trace::launch([=] { kernels::sq_diff(a, b, o, n); });
      return r;
    }
    Tensor loss = Tensor::empty({}, dt);
    scalar_t* o = loss.data<scalar_t>();
    const bool mean = reduction == Reduction::Mean;
    if (fuse) {
      forward_grad = Tensor::empty(x.shape(), dt);
      scalar_t* g = forward_grad.data<scalar_t>();
      const auto scale = static_cast<scalar_t>(grad_scale(reduction, n));
      trace::launch([=] { o[0] = finish_loss<scalar_t>(kernels::sq_diff_sum_and_grad(a, b, g, scale, n), n, mean); });
    } else {
      trace::launch([=] { o[0] = finish_loss<scalar_t>(kernels::sq_diff_sum(a, b, n), n, mean); });
    }
    return loss;
  });
  if (auto node = record(kMse, {input, target}, out)) {
    node->attrs.ints = {static_cast<int64_t>(reduction)};
    save(*node, input);
    save(*node, target);
    if (forward_grad.defined()) save(*node, forward_grad);
  }
  return out;
}

}  // namespace gdcore
