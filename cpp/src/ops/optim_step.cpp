// Group-wide optimizer steps (gdcore/optim.hpp): check a whole parameter group, turn
// each step count into the per-tensor scalars (bias corrections, decayed lr), then run
// the update kernel of kernels/optim_update.hpp once per parameter. Checking everything
// before the first write means an error never leaves a group half updated.
#include "gdcore/optim.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "kernels/optim_update.hpp"

namespace gdcore::optim {

namespace {

std::string num(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// A hyperparameter in [lo, hi] (hi exclusive when open_hi); group values can be edited
// between steps (schedulers, users), so they are checked again at every step.
void check_range(const char* opt, const char* what, double v, double lo, double hi = INFINITY, bool open_hi = false) {
  const bool ok = std::isfinite(v) && v >= lo && (open_hi ? v < hi : v <= hi);
  if (!ok) {
    // One stream, not a chain of string additions (GCC 12 warns about the chain's inlined copies: -Wrestrict).
    std::ostringstream message;
    message << opt << ": " << what << " must be a finite number in [" << num(lo) << ", ";
    if (std::isinf(hi)) message << "inf)";
    else message << num(hi) << (open_hi ? ")" : "]");
    message << ", got " << num(v) << "; fix the value in the optimizer's param_groups";
    throw std::invalid_argument(message.str());
  }
}

// Parameters are counted among those of the group that have a gradient (the ones passed in).
std::string where(const char* opt, size_t i) {
  return std::string(opt) + ": parameter " + std::to_string(i) + " of the group (counting those with a gradient)";
}

// Names a parameter in messages; the text is built only when a message is (checks run every step).
struct Who {
  const char* opt;
  size_t i;
  operator std::string() const { return where(opt, i); }
};
std::string operator+(const Who& w, const char* s) { return std::string(w) + s; }

void check_writable_contiguous(const Tensor& t, const Who& who, const char* what) {
  if (!t.is_contiguous())
    throw std::invalid_argument(who + ": the " + what + " is not contiguous (shape " + shape_str(t.shape()) +
                                ", strides " + shape_str(t.strides()) +
                                "); optimizers update memory in place and need contiguous tensors: "
                                "replace it with p.data = p.data.contiguous() before building the optimizer");
  if (!t.impl()->storage->writable())
    throw std::invalid_argument(who + ": the " + what +
                                " is read-only (it shares memory with a read-only numpy array or DLPack producer); clone() it");
}

// A state buffer list: empty when its option is off, else one buffer per parameter with
// the parameter's dtype and shape.
struct StateList {
  const char* name;
  const std::vector<Tensor>* buffers;
  bool used;
};

// Checks the group and returns the gradients as contiguous tensors (copies only when a
// user-assigned gradient is strided).
std::vector<Tensor> check_group(const char* opt, const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                                std::initializer_list<StateList> states) {
  if (grads.size() != params.size())
    throw std::invalid_argument(std::string(opt) + ": got " + std::to_string(params.size()) + " parameters but " +
                                std::to_string(grads.size()) + " gradients");
  for (const StateList& s : states) {
    const size_t want = s.used ? params.size() : 0;
    if (s.buffers->size() != want)
      throw std::invalid_argument(std::string(opt) + ": expected " + std::to_string(want) + " '" + s.name +
                                  "' buffers for " + std::to_string(params.size()) + " parameters, got " +
                                  std::to_string(s.buffers->size()));
  }
  std::vector<Tensor> out;
  out.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    const Who who{opt, i};
    if (!p.defined()) throw std::invalid_argument(who + " is undefined");
    if (!is_floating(p.dtype()))
      throw std::invalid_argument(who + " has dtype " + dtype_name(p.dtype()) +
                                  "; only float32 and float64 parameters can be optimized");
    check_writable_contiguous(p, who, "parameter");
    const Tensor& g = grads[i];
    if (!g.defined()) throw std::invalid_argument(who + " has no gradient (skip parameters whose grad is None)");
    if (g.dtype() != p.dtype() || g.shape() != p.shape())
      throw std::invalid_argument(who + ": the gradient (" + dtype_name(g.dtype()) + ", shape " +
                                  shape_str(g.shape()) + ") does not match the parameter (" + dtype_name(p.dtype()) +
                                  ", shape " + shape_str(p.shape()) + ")");
    out.push_back(g.is_contiguous() ? g : g.clone_data());
    for (const StateList& s : states) {
      if (!s.used) continue;
      const Tensor& b = (*s.buffers)[i];
      if (!b.defined() || b.dtype() != p.dtype() || b.shape() != p.shape())
        throw std::invalid_argument(
            who + ": its state '" + s.name + "' " +
            (b.defined() ? std::string("(") + dtype_name(b.dtype()) + ", shape " + shape_str(b.shape()) + ")"
                         : std::string("(missing)")) +
            " does not match the parameter (" + dtype_name(p.dtype()) + ", shape " + shape_str(p.shape()) +
            "); was a state dict loaded for different parameters?");
      if (!b.is_contiguous() || !b.impl()->storage->writable())
        check_writable_contiguous(b, who, (std::string("state '") + s.name + "'").c_str());
    }
  }
  return out;
}

template <typename T>
T* ptr(const std::vector<Tensor>& list, size_t i) {
  return list.empty() ? nullptr : list[i].data<T>();
}

void bump(const std::vector<Tensor>& list) {
  for (const Tensor& t : list) t.bump_version();
}

int64_t check_step(const char* opt, const std::vector<int64_t>& steps, size_t n, size_t i) {
  if (steps.size() != n)
    throw std::invalid_argument(std::string(opt) + ": got " + std::to_string(steps.size()) + " step counts for " +
                                std::to_string(n) + " parameters");
  if (steps[i] < 1)
    throw std::invalid_argument(where(opt, i) + ": step count must be >= 1, got " + std::to_string(steps[i]));
  return steps[i];
}

}  // namespace

void sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
              const std::vector<Tensor>& momentum_buffers, const std::vector<bool>& new_buffers,
              const SgdOptions& o) {
  const char* opt = "SGD";
  check_range(opt, "lr", o.lr, 0);
  check_range(opt, "momentum", o.momentum, 0);
  check_range(opt, "dampening", o.dampening, -INFINITY);
  check_range(opt, "weight_decay", o.weight_decay, 0);
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    throw std::invalid_argument("SGD: nesterov needs momentum > 0 and dampening == 0");
  const bool use_momentum = o.momentum != 0;
  std::vector<Tensor> g = check_group(opt, params, grads, {{"momentum_buffer", &momentum_buffers, use_momentum}});
  if (use_momentum && new_buffers.size() != params.size())
    throw std::invalid_argument("SGD: new_buffers must have one flag per parameter");
  kernels::SgdScalars s{o.lr, o.momentum, o.dampening, o.weight_decay, o.nesterov, o.maximize, false};
  // (through trace::launch: gdcore.compile lowers SGD steps, whose scalars never change between replays)
  if (kernels::sgd_is_plain(s)) {
    // One loop per run of parameters of one dtype (a lowered per-sample step then makes one call for
    // all its parameters, of a few elements each), in the group's order.
    for (size_t i = 0; i < params.size();) {
      size_t end = i + 1;
      while (end < params.size() && params[end].dtype() == params[i].dtype()) ++end;
      GD_DISPATCH_FLOAT(params[i].dtype(), opt, [&] {
        std::vector<kernels::SgdPart<scalar_t>> parts;
        for (size_t k = i; k < end; ++k) parts.push_back({params[k].data<scalar_t>(), g[k].data<scalar_t>(), params[k].numel()});
        const auto lr = static_cast<scalar_t>(s.lr);
        const bool small = std::all_of(parts.begin(), parts.end(), [](const auto& t) {
          return kernels::sgd_plain_small_loop<scalar_t>(t.n) != nullptr;
        });
        if (trace::active() && small) {
          // Traced (gdcore.compile): one step a parameter, the same loops in the same order; a
          // lowered run calls the path's loop directly, without the table look-up and the loop over parts.
          for (const auto& t : parts)
            trace::launch_direct([t, lr] { kernels::sgd_plain_update(t.param, t.grad, t.n, lr); },
                                 [t, lr, loop = kernels::sgd_plain_lowered_loop<scalar_t>(t.n)] {
                                   loop(t.param, t.grad, t.n, lr);
                                 });
        } else {
          trace::launch([parts = std::move(parts), lr] { kernels::sgd_plain_update(parts.data(), parts.size(), lr); });
        }
      });
      i = end;
    }
  } else {
    for (size_t i = 0; i < params.size(); ++i) {
      s.first_step = use_momentum && new_buffers[i];
      GD_DISPATCH_FLOAT(params[i].dtype(), opt, [&] {
        trace::launch([p = params[i].data<scalar_t>(), gi = g[i].data<scalar_t>(), m = ptr<scalar_t>(momentum_buffers, i),
                       n = params[i].numel(), s] { kernels::sgd_update(p, gi, m, n, s); });
      });
    }
  }
  bump(params);
  bump(momentum_buffers);
}

void adagrad_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                  const std::vector<Tensor>& sums, const std::vector<int64_t>& steps, const AdagradOptions& o) {
  const char* opt = "Adagrad";
  check_range(opt, "lr", o.lr, 0);
  check_range(opt, "lr_decay", o.lr_decay, 0);
  check_range(opt, "weight_decay", o.weight_decay, 0);
  check_range(opt, "eps", o.eps, 0);
  std::vector<Tensor> g = check_group(opt, params, grads, {{"sum", &sums, true}});
  for (size_t i = 0; i < params.size(); ++i) check_step(opt, steps, params.size(), i);
  for (size_t i = 0; i < params.size(); ++i) {
    const double clr = o.lr / (1.0 + static_cast<double>(steps[i] - 1) * o.lr_decay);
    kernels::AdagradScalars s{clr, o.weight_decay, o.eps, o.maximize};
    GD_DISPATCH_FLOAT(params[i].dtype(), opt, [&] {
      kernels::adagrad_update(params[i].data<scalar_t>(), g[i].data<scalar_t>(), sums[i].data<scalar_t>(),
                              params[i].numel(), s);
    });
  }
  bump(params);
  bump(sums);
}

void rmsprop_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                  const std::vector<Tensor>& square_avgs, const std::vector<Tensor>& grad_avgs,
                  const std::vector<Tensor>& momentum_buffers, const RmspropOptions& o) {
  const char* opt = "RMSprop";
  check_range(opt, "lr", o.lr, 0);
  check_range(opt, "alpha", o.alpha, 0);
  check_range(opt, "eps", o.eps, 0);
  check_range(opt, "weight_decay", o.weight_decay, 0);
  check_range(opt, "momentum", o.momentum, 0);
  std::vector<Tensor> g = check_group(opt, params, grads,
                                      {{"square_avg", &square_avgs, true},
                                       {"grad_avg", &grad_avgs, o.centered},
                                       {"momentum_buffer", &momentum_buffers, o.momentum > 0}});
  const kernels::RmspropScalars s{o.lr, o.alpha, o.eps, o.weight_decay, o.momentum, o.centered, o.maximize};
  for (size_t i = 0; i < params.size(); ++i) {
    GD_DISPATCH_FLOAT(params[i].dtype(), opt, [&] {
      kernels::rmsprop_update(params[i].data<scalar_t>(), g[i].data<scalar_t>(), square_avgs[i].data<scalar_t>(),
                              ptr<scalar_t>(grad_avgs, i), ptr<scalar_t>(momentum_buffers, i), params[i].numel(), s);
    });
  }
  bump(params);
  bump(square_avgs);
  bump(grad_avgs);
  bump(momentum_buffers);
}

void adadelta_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                   const std::vector<Tensor>& square_avgs, const std::vector<Tensor>& acc_deltas,
                   const AdadeltaOptions& o) {
  const char* opt = "Adadelta";
  check_range(opt, "lr", o.lr, 0);
  check_range(opt, "rho", o.rho, 0, 1);
  check_range(opt, "eps", o.eps, 0);
  check_range(opt, "weight_decay", o.weight_decay, 0);
  std::vector<Tensor> g =
      check_group(opt, params, grads, {{"square_avg", &square_avgs, true}, {"acc_delta", &acc_deltas, true}});
  const kernels::AdadeltaScalars s{o.lr, o.rho, o.eps, o.weight_decay, o.maximize};
  for (size_t i = 0; i < params.size(); ++i) {
    GD_DISPATCH_FLOAT(params[i].dtype(), opt, [&] {
      kernels::adadelta_update(params[i].data<scalar_t>(), g[i].data<scalar_t>(), square_avgs[i].data<scalar_t>(),
                               acc_deltas[i].data<scalar_t>(), params[i].numel(), s);
    });
  }
  bump(params);
  bump(square_avgs);
  bump(acc_deltas);
}

void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
               const std::vector<Tensor>& max_exp_avg_sqs, const std::vector<int64_t>& steps, const AdamOptions& o) {
  const char* opt = o.decoupled_weight_decay ? "AdamW" : "Adam";
  check_range(opt, "lr", o.lr, 0);
  check_range(opt, "beta1", o.beta1, 0, 1, /*open_hi=*/true);
  check_range(opt, "beta2", o.beta2, 0, 1, /*open_hi=*/true);
  check_range(opt, "eps", o.eps, 0);
  check_range(opt, "weight_decay", o.weight_decay, 0);
  std::vector<Tensor> g = check_group(opt, params, grads,
                                      {{"exp_avg", &exp_avgs, true},
                                       {"exp_avg_sq", &exp_avg_sqs, true},
                                       {"max_exp_avg_sq", &max_exp_avg_sqs, o.amsgrad}});
  for (size_t i = 0; i < params.size(); ++i) check_step(opt, steps, params.size(), i);
  for (size_t i = 0; i < params.size(); ++i) {
    const double t = static_cast<double>(steps[i]);
    kernels::AdamScalars s;
    s.step_size = o.lr / (1.0 - std::pow(o.beta1, t));
    s.inv_bias2_sqrt = 1.0 / std::sqrt(1.0 - std::pow(o.beta2, t));
    s.beta1 = o.beta1;
    s.beta2 = o.beta2;
    s.eps = o.eps;
    s.weight_decay = o.decoupled_weight_decay ? 0.0 : o.weight_decay;
    s.param_scale = o.decoupled_weight_decay ? 1.0 - o.lr * o.weight_decay : 1.0;
    s.amsgrad = o.amsgrad;
    s.maximize = o.maximize;
    GD_DISPATCH_FLOAT(params[i].dtype(), opt, [&] {
      kernels::adam_update(params[i].data<scalar_t>(), g[i].data<scalar_t>(), exp_avgs[i].data<scalar_t>(),
                           exp_avg_sqs[i].data<scalar_t>(), ptr<scalar_t>(max_exp_avg_sqs, i), params[i].numel(), s);
    });
  }
  bump(params);
  bump(exp_avgs);
  bump(exp_avg_sqs);
  bump(max_exp_avg_sqs);
}

}  // namespace gdcore::optim
