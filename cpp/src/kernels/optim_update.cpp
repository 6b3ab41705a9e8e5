// The optimizer update loops declared in optim_update.hpp. Each loop body reads every
// operand once and writes the parameter and state once (one pass over memory); options
// are loop-invariant so the compiler unswitches or if-converts them and the loops stay
// vectorisable. Scalars are converted to T once so float32 math stays in float32.
// CMakeLists.txt compiles this file with -fno-math-errno so that the sqrt loops vectorise.
#include "kernels/optim_update.hpp"

#include <cmath>

namespace gdcore::kernels {

template <typename T>
void sgd_update(T* __restrict param, const T* __restrict grad, T* __restrict buf, int64_t n, const SgdScalars& s) {
  const T lr = T(s.lr), wd = T(s.weight_decay), mom = T(s.momentum), keep = T(1.0 - s.dampening);
  const T sign = s.maximize ? T(-1) : T(1);
  const bool decay = s.weight_decay != 0;
  if (s.momentum == 0) {
    for (int64_t i = 0; i < n; ++i) {
      T d = sign * grad[i];
      if (decay) d += wd * param[i];
      param[i] -= lr * d;
    }
    return;
  }
  const bool first = s.first_step, nesterov = s.nesterov;
  for (int64_t i = 0; i < n; ++i) {
    T d = sign * grad[i];
    if (decay) d += wd * param[i];
    const T b = first ? d : mom * buf[i] + keep * d;
    buf[i] = b;
    param[i] -= lr * (nesterov ? d + mom * b : b);
  }
}

template <typename T>
void adagrad_update(T* __restrict param, const T* __restrict grad, T* __restrict sum, int64_t n,
                    const AdagradScalars& s) {
  const T clr = T(s.clr), wd = T(s.weight_decay), eps = T(s.eps);
  const T sign = s.maximize ? T(-1) : T(1);
  const bool decay = s.weight_decay != 0;
  for (int64_t i = 0; i < n; ++i) {
    T g = sign * grad[i];
    if (decay) g += wd * param[i];
    const T acc = sum[i] + g * g;
    sum[i] = acc;
    param[i] -= clr * g / (std::sqrt(acc) + eps);
  }
}

template <typename T>
void rmsprop_update(T* __restrict param, const T* __restrict grad, T* __restrict square_avg, T* __restrict grad_avg,
                    T* __restrict buf, int64_t n, const RmspropScalars& s) {
  const T lr = T(s.lr), alpha = T(s.alpha), rest = T(1.0 - s.alpha), eps = T(s.eps), wd = T(s.weight_decay),
          mom = T(s.momentum);
  const T sign = s.maximize ? T(-1) : T(1);
  const bool decay = s.weight_decay != 0, centered = s.centered;
  const bool use_momentum = s.momentum > 0;
  for (int64_t i = 0; i < n; ++i) {
    T g = sign * grad[i];
    if (decay) g += wd * param[i];
    const T sq = alpha * square_avg[i] + rest * g * g;
    square_avg[i] = sq;
    T var = sq;
    if (centered) {
      const T ga = alpha * grad_avg[i] + rest * g;
      grad_avg[i] = ga;
      var = sq - ga * ga;
    }
    const T step = g / (std::sqrt(var) + eps);
    if (use_momentum) {
      const T b = mom * buf[i] + step;
      buf[i] = b;
      param[i] -= lr * b;
    } else {
      param[i] -= lr * step;
    }
  }
}

template <typename T>
void adadelta_update(T* __restrict param, const T* __restrict grad, T* __restrict square_avg,
                     T* __restrict acc_delta, int64_t n, const AdadeltaScalars& s) {
  const T lr = T(s.lr), rho = T(s.rho), rest = T(1.0 - s.rho), eps = T(s.eps), wd = T(s.weight_decay);
  const T sign = s.maximize ? T(-1) : T(1);
  const bool decay = s.weight_decay != 0;
  for (int64_t i = 0; i < n; ++i) {
    T g = sign * grad[i];
    if (decay) g += wd * param[i];
    const T sq = rho * square_avg[i] + rest * g * g;
    square_avg[i] = sq;
    const T delta = std::sqrt(acc_delta[i] + eps) / std::sqrt(sq + eps) * g;
    acc_delta[i] = rho * acc_delta[i] + rest * delta * delta;
    param[i] -= lr * delta;
  }
}

template <typename T>
void adam_update(T* __restrict param, const T* __restrict grad, T* __restrict exp_avg, T* __restrict exp_avg_sq,
                 T* __restrict max_exp_avg_sq, int64_t n, const AdamScalars& s) {
  const T step_size = T(s.step_size), inv_b2 = T(s.inv_bias2_sqrt), b1 = T(s.beta1), r1 = T(1.0 - s.beta1),
          b2 = T(s.beta2), r2 = T(1.0 - s.beta2), eps = T(s.eps), wd = T(s.weight_decay),
          scale = T(s.param_scale);
  const T sign = s.maximize ? T(-1) : T(1);
  const bool decay = s.weight_decay != 0, amsgrad = s.amsgrad;
  for (int64_t i = 0; i < n; ++i) {
    T g = sign * grad[i];
    const T p = param[i] * scale;  // AdamW's decoupled decay; scale is exactly 1 for Adam
    if (decay) g += wd * param[i];
    const T m = b1 * exp_avg[i] + r1 * g;
    T v = b2 * exp_avg_sq[i] + r2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    if (amsgrad) {
      v = max_exp_avg_sq[i] >= v ? max_exp_avg_sq[i] : v;  // NaN in v propagates
      max_exp_avg_sq[i] = v;
    }
    param[i] = p - step_size * m / (std::sqrt(v) * inv_b2 + eps);
  }
}

#define GD_INSTANTIATE_OPTIM(T)                                                                     \
  template void sgd_update<T>(T*, const T*, T*, int64_t, const SgdScalars&);                        \
  template void adagrad_update<T>(T*, const T*, T*, int64_t, const AdagradScalars&);                \
  template void rmsprop_update<T>(T*, const T*, T*, T*, T*, int64_t, const RmspropScalars&);        \
  template void adadelta_update<T>(T*, const T*, T*, T*, int64_t, const AdadeltaScalars&);          \
  template void adam_update<T>(T*, const T*, T*, T*, T*, int64_t, const AdamScalars&);
GD_INSTANTIATE_OPTIM(float)
GD_INSTANTIATE_OPTIM(double)
#undef GD_INSTANTIATE_OPTIM

}  // namespace gdcore::kernels
