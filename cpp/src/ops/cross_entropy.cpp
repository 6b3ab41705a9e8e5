// cross_entropy and nll_loss with class-index targets, and cross_entropy with class
// probabilities. The class-index cross_entropy is one fused op: when a gradient will be
// needed, its forward writes the gradient for an upstream gradient of 1 (softmax minus the
// smoothed, weighted one-hot, scaled for the reduction) in the same pass that computes the
// loss (kernels/cross_entropy.hpp), and backward hands it over, scaled by the upstream
// gradient, without reading the logits again (as mse_loss does). When the backward itself is
// being recorded (create_graph), or the fused gradient was already used (retain_graph), the
// same gradient is written with differentiable ops, A * softmax(input) - B with constant A and
// B from the targets, so second derivatives work.
// Layout: the class dim is dim 1 of (N, C, d1, ...) (dim 0 of an unbatched (C,) input); the
// kernels see M = N * d1 * ... rows of C logits, the class axis fastest.
#include <cmath>
#include <string>

#include "gdcore/capture.hpp"
#include "gdcore/grad_mode.hpp"
#include "gdcore/ops_math.hpp"
#include "kernels/cross_entropy.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

struct ClassRows {
  Tensor x;       // (M, C) contiguous, input's dtype, no history
  Tensor target;  // (M,) int64 contiguous
  Tensor weight;  // (C,) contiguous in input's dtype, or undefined
  int64_t m = 0, c = 0;
};

void require_float_input(const Tensor& input, const char* op) {
  if (!input.defined()) throw std::invalid_argument(std::string(op) + ": got an undefined input");
  if (!is_floating(input.dtype()))
    throw std::invalid_argument(std::string(op) + ": input must be float32 or float64 (logits), got " +
                                dtype_name(input.dtype()) + "; convert with .float()");
  if (input.dim() == 0)
    throw std::invalid_argument(std::string(op) + ": input must have shape (N, C), (N, C, d1, ...) or (C,), got a 0-d tensor");
}

Tensor checked_weight(const Tensor& weight, const Tensor& input, int64_t c, const char* op) {
  if (!weight.defined()) return Tensor();
  if (weight.dim() != 1 || weight.shape()[0] != c)
    throw std::invalid_argument(std::string(op) + ": weight must have shape (" + std::to_string(c) + ",), one value per class, got " +
                                shape_str(weight.shape()));
  if (!is_floating(weight.dtype()))
    throw std::invalid_argument(std::string(op) + ": weight must be a float tensor, got " + dtype_name(weight.dtype()));
  return cast_data(weight.detach(), input.dtype()).contiguous();
}

// Input (N, C, d...) as (N, d..., C) rows; `rows` (M, C) back in input's layout (differentiable).
Tensor to_rows(const Tensor& input) {
  if (input.dim() <= 2) return reshape(input, {-1, input.shape().back()});
  std::vector<int64_t> perm{0};
  for (int64_t d = 2; d < input.dim(); ++d) perm.push_back(d);
  perm.push_back(1);
  return reshape(permute(input, perm), {-1, input.shape()[1]});
}
Tensor from_rows(const Tensor& rows, const Shape& input_shape) {
  if (input_shape.size() <= 2) return reshape(rows, input_shape);
  Shape moved{input_shape[0]};
  for (size_t d = 2; d < input_shape.size(); ++d) moved.push_back(input_shape[d]);
  moved.push_back(input_shape[1]);
  std::vector<int64_t> perm{0, static_cast<int64_t>(input_shape.size()) - 1};
  for (size_t d = 1; d + 1 < input_shape.size(); ++d) perm.push_back(static_cast<int64_t>(d));
  return contiguous(permute(reshape(rows, moved), perm));
}

ClassRows class_rows(const Tensor& input, const Tensor& target, const Tensor& weight, const char* op) {
  require_float_input(input, op);
  if (!target.defined()) throw std::invalid_argument(std::string(op) + ": got an undefined target");
  if (target.dtype() != DType::Int64)
    throw std::invalid_argument(std::string(op) + ": target must hold int64 class indices, got " + dtype_name(target.dtype()) +
                                " (convert with .long(), or pass class probabilities of the input's shape to cross_entropy)");
  ClassRows r;
  if (input.dim() == 1) {
    if (target.dim() != 0)
      throw std::invalid_argument(std::string(op) + ": an unbatched input of shape " + shape_str(input.shape()) +
                                  " needs a 0-d target (one class index), got shape " + shape_str(target.shape()));
  } else {
    if (target.dim() == 0 || target.shape()[0] != input.shape()[0])
      throw std::invalid_argument(std::string(op) + ": Expected input batch_size (" + std::to_string(input.shape()[0]) +
                                  ") to match target batch_size (" +
                                  (target.dim() ? std::to_string(target.shape()[0]) : std::string("a 0-d target")) + ")");
    Shape expect{input.shape()[0]};
    for (int64_t d = 2; d < input.dim(); ++d) expect.push_back(input.shape()[d]);
    if (target.shape() != expect)
      throw std::invalid_argument(std::string(op) + ": input of shape " + shape_str(input.shape()) + " needs target of shape " +
                                  shape_str(expect) + " (the input's shape without the class dim 1), got " +
                                  shape_str(target.shape()));
  }
  r.c = input.dim() == 1 ? input.shape()[0] : input.shape()[1];
  // The row layout is data preparation inside this one op: not recorded on the tape or by a capture.
  NoGradGuard no_grad;
  capture::PauseGuard no_capture;
  Tensor rows = to_rows(input.detach());
  r.x = rows.contiguous();
  r.m = r.x.shape()[0];
  r.target = target.detach().contiguous();
  r.weight = checked_weight(weight, input, r.c, op);
  return r;
}

// (A, B) of the gradient A * softmax - B in rows layout, scaled for the reduction (see the
// header of kernels/cross_entropy.hpp); for nll_loss (a_too = false) only B, without smoothing.
std::pair<Tensor, Tensor> gradient_constants(const Tensor& target, const Tensor& weight, int64_t m, int64_t c,
                                             int64_t ignore_index, double eps, Reduction reduction, DType dt, bool a_too) {
  Tensor A = a_too ? Tensor::empty({m, 1}, dt) : Tensor(), B = Tensor::empty({m, c}, dt);
  GD_DISPATCH_FLOAT(dt, "cross_entropy", [&] {
    using T = scalar_t;
    const int64_t* t = target.data<int64_t>();
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    T* a = a_too ? A.data<T>() : nullptr;
    T* b = B.data<T>();
    trace::launch([=] {
      double scale = 1.0;
      if (reduction == Reduction::Mean) {
        const double s = kernels::target_weight_sum(t, w, m, ignore_index);
        scale = s > 0 ? 1.0 / s : 0.0;
      }
      double wtotal = 0.0;
      for (int64_t j = 0; j < c; ++j) wtotal += w ? static_cast<double>(w[j]) : 1.0;
      const double smooth = eps / static_cast<double>(c);
      for (int64_t i = 0; i < m; ++i) {
        T* bi = b + i * c;
        if (t[i] == ignore_index) {
          if (a) a[i] = 0;
          for (int64_t j = 0; j < c; ++j) bi[j] = 0;
          continue;
        }
        const double wt = w ? static_cast<double>(w[t[i]]) : 1.0;
        if (a) a[i] = static_cast<T>(scale * ((1.0 - eps) * wt + smooth * wtotal));
        for (int64_t j = 0; j < c; ++j) bi[j] = static_cast<T>(scale * smooth * (w ? static_cast<double>(w[j]) : 1.0));
        bi[t[i]] += static_cast<T>(scale * (1.0 - eps) * wt);
      }
    });
  });
  return {A, B};
}

// The upstream gradient g applied to a gradient in input layout: a scalar for mean/sum,
// one value per row (the target's shape) for 'none', broadcast over the class dim.
Tensor times_upstream(const Tensor& grad, const Tensor& g, Reduction reduction, int64_t class_dim) {
  if (reduction != Reduction::None || g.dim() == 0) return mul(grad, g);
  return mul(grad, unsqueeze(g, class_dim));
}

// One gradient per recorded input: the logits' (or none); targets and weights get none (as torch).
std::vector<Tensor> only_input_grad(const Node& n, Tensor grad) {
  std::vector<Tensor> out(n.inputs.size());
  out[0] = std::move(grad);
  return out;
}

std::vector<Tensor> cross_entropy_backward(Node& n, const Tensor& g) {
  const auto reduction = static_cast<Reduction>(n.attrs.ints[0]);
  const int64_t ignore_index = n.attrs.ints[1];
  const bool has_weight = n.attrs.ints[2] != 0;
  const double eps = n.attrs.reals[0];
  Tensor input = n.saved_tensor(0), target = n.saved_tensor(1);  // (also catches in-place changes since forward)
  Tensor weight = has_weight ? n.saved_tensor(2) : Tensor();
  if (!n.needs_input_grad(0)) return only_input_grad(n, Tensor());
  const int64_t class_dim = input.dim() == 1 ? 0 : 1;
  const size_t fused = has_weight ? 3 : 2;
  if (n.saved.size() > fused && n.saved[fused].tensor.defined() && !GradMode::is_enabled() &&
      g.dtype() == input.dtype()) {
    // The gradient the forward wrote, used once (a retained graph's next backward recomputes it).
    Tensor rows = n.saved[fused].tensor;
    n.saved[fused].tensor = Tensor();
    if (reduction == Reduction::None) {
      rows = mul(rows, reshape(g, {-1, 1}));
    } else if (trace::active() || g.item() != 1.0) {  // a lowered step always multiplies (exact for 1)
      mul_(rows, g);
    }
    return only_input_grad(n, from_rows(rows, input.shape()));
  }
  const int64_t c = input.shape()[class_dim];
  Tensor t = target.detach().contiguous();
  Tensor w = has_weight ? cast_data(weight.detach(), input.dtype()).contiguous() : Tensor();
  auto [A, B] = gradient_constants(t, w, t.numel(), c, ignore_index, eps, reduction, input.dtype(), true);
  Shape a_shape = input.shape();  // A has one value per row: the input's shape with one class
  a_shape[class_dim] = 1;
  Tensor grad = sub(mul(from_rows(A, a_shape), softmax(input, class_dim)), from_rows(B, input.shape()));
  return only_input_grad(n, times_upstream(grad, g, reduction, class_dim));
}
const OpDef kCrossEntropy{"CrossEntropyLossBackward", cross_entropy_backward};

std::vector<Tensor> nll_backward(Node& n, const Tensor& g) {
  const auto reduction = static_cast<Reduction>(n.attrs.ints[0]);
  const bool has_weight = n.attrs.ints[2] != 0;
  if (!n.needs_input_grad(0)) return only_input_grad(n, Tensor());
  Tensor target = n.saved_tensor(0);
  Tensor weight = has_weight ? n.saved_tensor(1) : Tensor();
  const Shape& shape = n.input_shapes[0];
  const DType dt = n.input_dtypes[0];
  const int64_t class_dim = shape.size() == 1 ? 0 : 1;
  Tensor t = target.detach().contiguous();
  Tensor w = has_weight ? cast_data(weight.detach(), dt).contiguous() : Tensor();
  Tensor B = gradient_constants(t, w, t.numel(), shape[class_dim], n.attrs.ints[1], 0.0, reduction, dt, false).second;
  return only_input_grad(n, times_upstream(neg(from_rows(B, shape)), g, reduction, class_dim));
}
const OpDef kNll{"NllLossBackward", nll_backward};

Shape loss_shape(const Tensor& target, Reduction reduction) { return reduction == Reduction::None ? target.shape() : Shape{}; }

// The reduction of per-row losses (double) into `o`: none copies, sum adds, mean divides by
// the summed target weights (0/0 = NaN when every row is ignored, as torch).
template <typename T>
void reduce_rows(const std::vector<double>& loss, double wsum, Reduction reduction, T* o) {
  if (reduction == Reduction::None) {
    for (size_t i = 0; i < loss.size(); ++i) o[i] = static_cast<T>(loss[i]);
    return;
  }
  double s = 0.0;
  for (double v : loss) s += v;
  o[0] = static_cast<T>(reduction == Reduction::Mean ? s / wsum : s);
}

// Class probabilities: -sum_c w[c] * y[c] * log_softmax(input)[c] per row (y smoothed), the
// mean over rows (not over weights, as torch). Differentiable ops throughout, in input and target.
Tensor cross_entropy_probabilities(const Tensor& input, const Tensor& target, const Tensor& weight, double eps,
                                   Reduction reduction) {
  if (target.shape() != input.shape())
    throw std::invalid_argument("cross_entropy: class-probability targets must have the input's shape " +
                                shape_str(input.shape()) + ", got " + shape_str(target.shape()) +
                                " (class-index targets must be int64)");
  const int64_t class_dim = input.dim() == 1 ? 0 : 1;
  const int64_t c = input.shape()[class_dim];
  Tensor y = target;
  if (eps > 0.0) y = add(mul(y, 1.0 - eps), eps / static_cast<double>(c));
  if (weight.defined()) {
    Tensor w = checked_weight(weight, input, c, "cross_entropy");
    Shape ws(input.dim(), 1);
    ws[class_dim] = c;
    y = mul(y, reshape(w, ws));
  }
  Tensor rows = neg(sum(mul(y, log_softmax(input, class_dim)), {class_dim}));
  if (reduction == Reduction::None) return rows;
  return reduction == Reduction::Sum ? sum(rows) : mean(rows);
}

}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                     double label_smoothing, Reduction reduction) {
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    throw std::invalid_argument("cross_entropy: label_smoothing must be in [0, 1], got " + std::to_string(label_smoothing));
  require_float_input(input, "cross_entropy");
  if (target.defined() && is_floating(target.dtype()))
    return cross_entropy_probabilities(input, target, weight, label_smoothing, reduction);
  ClassRows r = class_rows(input, target, weight, "cross_entropy");
  const DType dt = input.dtype();
  const bool fuse = GradMode::is_enabled() && input.requires_grad();
  Tensor out = Tensor::empty(loss_shape(target, reduction), dt);
  Tensor forward_grad = fuse ? Tensor::empty({r.m, r.c}, dt) : Tensor();
  GD_DISPATCH_FLOAT(dt, "cross_entropy", [&] {
    using T = scalar_t;
    const T* x = r.x.data<T>();
    const int64_t* t = r.target.data<int64_t>();
    const T* w = r.weight.defined() ? r.weight.data<T>() : nullptr;
    T* o = out.data<T>();
    T* gr = fuse ? forward_grad.data<T>() : nullptr;
    // One closure: a lowered replay checks the (new) targets again before reading any row.
    trace::launch([=, m = r.m, c = r.c, loss = std::vector<double>(static_cast<size_t>(r.m))]() mutable {
      kernels::check_class_targets(t, m, c, ignore_index, "cross_entropy");
      const double wsum = reduction == Reduction::Mean ? kernels::target_weight_sum(t, w, m, ignore_index) : 1.0;
      const T scale = static_cast<T>(wsum > 0 ? 1.0 / wsum : 0.0);
      kernels::cross_entropy_rows(x, t, w, m, c, ignore_index, label_smoothing, loss.data(), gr, scale);
      reduce_rows(loss, wsum, reduction, o);
    });
  });
  std::shared_ptr<Node> node = weight.defined() ? record(kCrossEntropy, {input, target, weight}, out)
                                                : record(kCrossEntropy, {input, target}, out);
  if (node) {
    node->attrs.ints = {static_cast<int64_t>(reduction), ignore_index, weight.defined()};
    node->attrs.reals = {label_smoothing};
    save(*node, input);
    save(*node, target);
    if (weight.defined()) save(*node, weight);
    if (forward_grad.defined()) save(*node, forward_grad);
  }
  return out;
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                Reduction reduction) {
  ClassRows r = class_rows(input, target, weight, "nll_loss");
  const DType dt = input.dtype();
  Tensor out = Tensor::empty(loss_shape(target, reduction), dt);
  GD_DISPATCH_FLOAT(dt, "nll_loss", [&] {
    using T = scalar_t;
    const T* x = r.x.data<T>();
    const int64_t* t = r.target.data<int64_t>();
    const T* w = r.weight.defined() ? r.weight.data<T>() : nullptr;
    T* o = out.data<T>();
    trace::launch([=, m = r.m, c = r.c, loss = std::vector<double>(static_cast<size_t>(r.m))]() mutable {
      kernels::check_class_targets(t, m, c, ignore_index, "nll_loss");
      double wsum = 0.0;
      for (int64_t i = 0; i < m; ++i) {
        if (t[i] == ignore_index) {
          loss[i] = 0.0;
          continue;
        }
        const double wt = w ? static_cast<double>(w[t[i]]) : 1.0;
        loss[i] = -wt * static_cast<double>(x[i * c + t[i]]);
        wsum += wt;
      }
      reduce_rows(loss, wsum, reduction, o);
    });
  });
  std::shared_ptr<Node> node = weight.defined() ? record(kNll, {input, target, weight}, out)
                                                : record(kNll, {input, target}, out);
  if (node) {
    node->attrs.ints = {static_cast<int64_t>(reduction), ignore_index, weight.defined()};
    save(*node, target);
    if (weight.defined()) save(*node, weight);
  }
  return out;
}

}  // namespace gdcore
