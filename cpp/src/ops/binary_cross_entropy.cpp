// binary_cross_entropy on probabilities: -w (y log x + (1 - y) log(1 - x)), each log clamped
// at -100 as torch does, so x = 0 or 1 gives a finite loss. Its own op because the gradient
// of the clamped composition is 0 * inf = NaN at exactly 0 and 1; torch's rule,
// w (x - y) / max(x (1 - x), 1e-12), is finite there. The rule is written with differentiable
// ops, so second derivatives work away from the clamp.
#include <string>

#include "gdcore/capture.hpp"
#include "gdcore/grad_mode.hpp"
#include "gdcore/ops_math.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

Tensor clamped_log(const Tensor& t) { return clamp(log(t), -100.0, std::nullopt); }
Tensor one_minus(const Tensor& t) { return sub(scalar_tensor(1.0, t.dtype()), t); }

// The upstream gradient as a tensor of the input's shape (mean divides by the element count).
Tensor upstream(const Tensor& g, const Node& n) {
  const auto reduction = static_cast<Reduction>(n.attrs.ints[0]);
  const Shape& shape = n.input_shapes[0];
  if (reduction == Reduction::None) return g;
  Tensor e = expand(g, shape);
  return reduction == Reduction::Mean ? mul(e, 1.0 / static_cast<double>(shape_numel(shape))) : e;
}

std::vector<Tensor> bce_backward(Node& n, const Tensor& g) {
  Tensor x = n.saved_tensor(0), y = n.saved_tensor(1);
  Tensor w = n.attrs.ints[1] ? n.saved_tensor(2) : Tensor();
  Tensor gk = upstream(g, n);
  if (w.defined()) gk = mul(gk, w);
  auto grad_x = [&] { return mul(gk, div(sub(x, y), clamp(mul(x, one_minus(x)), 1e-12, std::nullopt))); };
  auto grad_y = [&] { return mul(gk, sub(clamped_log(one_minus(x)), clamped_log(x))); };
  std::vector<Tensor> out(n.inputs.size());  // (no gradient for the weight, as torch)
  out[0] = GD_GRAD_IF(n, 0, grad_x());
  out[1] = GD_GRAD_IF(n, 1, grad_y());
  return out;
}
const OpDef kBce{"BinaryCrossEntropyBackward", bce_backward};

}  // namespace

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction) {
  if (!input.defined() || !target.defined()) throw std::invalid_argument("binary_cross_entropy: got an undefined tensor");
  if (!is_floating(input.dtype()) || !is_floating(target.dtype()))
    throw std::invalid_argument(std::string("binary_cross_entropy: input and target must be float tensors, got ") +
                                dtype_name(input.dtype()) + " and " + dtype_name(target.dtype()));
  if (input.shape() != target.shape())
    throw std::invalid_argument("binary_cross_entropy: Using a target size " + shape_str(target.shape()) +
                                " that is different to the input size " + shape_str(input.shape()) +
                                " is not supported; reshape the target to the input's shape");
  if (weight.defined()) broadcast_shapes(input.shape(), weight.shape(), "binary_cross_entropy (weight)");
  Tensor out;
  {
    NoGradGuard no_grad;
    capture::PauseGuard no_capture;
    Tensor x = input.detach(), y = cast_data(target.detach(), input.dtype());
    // The range check runs inside the traced loops, so a compiled step checks each new batch too.
    GD_DISPATCH_FLOAT(input.dtype(), "binary_cross_entropy", [&] {
      Tensor xc = x.contiguous();
      const scalar_t* p = xc.data<scalar_t>();
      const int64_t n = xc.numel();
      trace::launch([p, n] {
        for (int64_t k = 0; k < n; ++k)
          if (!(p[k] >= 0 && p[k] <= 1))
            throw std::invalid_argument("binary_cross_entropy: all elements of input should be between 0 and 1, got " +
                                        std::to_string(static_cast<double>(p[k])) +
                                        " (apply a sigmoid first, or use binary_cross_entropy_with_logits)");
      });
    });
    Tensor l = neg(add(mul(y, clamped_log(x)), mul(one_minus(y), clamped_log(one_minus(x)))));
    if (weight.defined()) l = mul(l, cast_data(weight.detach(), input.dtype()));
    if (l.shape() != input.shape()) l = contiguous(expand(l, input.shape()));
    out = reduction == Reduction::None ? l : reduction == Reduction::Sum ? sum(l) : mean(l);
  }
  std::shared_ptr<Node> node = weight.defined() ? record(kBce, {input, target, weight}, out)
                                                : record(kBce, {input, target}, out);
  if (node) {
    node->attrs.ints = {static_cast<int64_t>(reduction), weight.defined()};
    save(*node, input);
    save(*node, target);
    if (weight.defined()) save(*node, weight);
  }
  return out;
}

}  // namespace gdcore
