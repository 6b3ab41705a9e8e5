// The optimizer updates declared in optim_update.hpp. SGD and Adam/AdamW dispatch to the
// SIMD loops of kernels/simd/ (scalar, AVX2+FMA or AVX-512, split over threads for large
// tensors). Adagrad, RMSprop and Adadelta are plain loops here: each body reads every
// operand once and writes the parameter and state once (one pass over memory); options
// are loop-invariant so the compiler unswitches or if-converts them and the loops stay
// vectorisable. Scalars are converted to T once so float32 math stays in float32.
// CMakeLists.txt compiles this file with -fno-math-errno so that the sqrt loops vectorise.
#include "kernels/optim_update.hpp"

#include <cmath>

#include "kernels/simd/dispatch.hpp"
#include "kernels/simd/parallel.hpp"

namespace gdcore::kernels {

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

// SGD and Adam/AdamW go through the SIMD dispatch (kernels/simd/): the path's loop over
// contiguous pieces of the tensor, on two threads for large tensors.
// Plain SGD (no momentum, decay or maximize) takes a loop without their tests: a per-sample
// step's updates of a few elements are mostly those tests and the vector set-up. (The split
// over threads is a function of its own, so that the short path sets up no frame for it.)
template <typename T>
[[gnu::noinline]] void sgd_plain_split(T* param, const T* grad, int64_t n, T lr) {
  const auto plain = simd::kernels_for<T>().sgd_plain;
  simd::parallel_ranges(n, [&](int64_t b, int64_t e) { plain(param + b, grad + b, e - b, lr); });
}

template <typename T>
void sgd_plain_update(T* param, const T* grad, int64_t n, T lr) {
  if (n >= simd::kParallelMin) return sgd_plain_split(param, grad, n, lr);
  simd::kernels_for<T>().sgd_plain(param, grad, n, lr);
}

template <typename T>
void sgd_plain_update(const SgdPart<T>* parts, size_t count, T lr) {
  const auto plain = simd::kernels_for<T>().sgd_plain;
  for (size_t k = 0; k < count; ++k) {
    const SgdPart<T>& t = parts[k];
    if (t.n >= simd::kParallelMin) sgd_plain_split(t.param, t.grad, t.n, lr);
    else plain(t.param, t.grad, t.n, lr);
  }
}

template <typename T>
SgdPlainLoop<T> sgd_plain_small_loop(int64_t n) {
  return n < simd::kParallelMin ? simd::kernels_for<T>().sgd_plain : nullptr;
}

template <typename T>
SgdPlainLoop<T> sgd_plain_lowered_loop(int64_t n) {
  constexpr int64_t kNarrowMax = 64;  // (the tiny products' sizes, and a little more)
  if (n <= kNarrowMax && simd::active_path() != simd::SimdPath::Scalar) return sgd_plain_narrow_loop<T>();
  return sgd_plain_small_loop<T>(n);
}

template <typename T>
void sgd_update(T* param, const T* grad, T* momentum_buffer, int64_t n, const SgdScalars& s) {
  if (sgd_is_plain(s)) return sgd_plain_update(param, grad, n, T(s.lr));
  const auto loop = simd::kernels_for<T>().sgd;
  if (n < simd::kParallelMin) return loop(param, grad, momentum_buffer, n, s);  // (what the split does for these)
  simd::parallel_ranges(n, [&](int64_t b, int64_t e) {
    loop(param + b, grad + b, momentum_buffer ? momentum_buffer + b : nullptr, e - b, s);
  });
}

template <typename T>
void adam_update(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, int64_t n,
                 const AdamScalars& s) {
  const auto loop = simd::kernels_for<T>().adam;
  simd::parallel_ranges(n, [&](int64_t b, int64_t e) {
    loop(param + b, grad + b, exp_avg + b, exp_avg_sq + b, max_exp_avg_sq ? max_exp_avg_sq + b : nullptr, e - b, s);
  });
}

#define GD_INSTANTIATE_OPTIM(T)                                                                     \
  template void sgd_update<T>(T*, const T*, T*, int64_t, const SgdScalars&);                        \
  template void sgd_plain_update<T>(T*, const T*, int64_t, T);                                      \
  template void sgd_plain_update<T>(const SgdPart<T>*, size_t, T);                                  \
  template SgdPlainLoop<T> sgd_plain_small_loop<T>(int64_t);                                        \
  template SgdPlainLoop<T> sgd_plain_lowered_loop<T>(int64_t);                                      \
  template void adagrad_update<T>(T*, const T*, T*, int64_t, const AdagradScalars&);                \
  template void rmsprop_update<T>(T*, const T*, T*, T*, T*, int64_t, const RmspropScalars&);        \
  template void adadelta_update<T>(T*, const T*, T*, T*, int64_t, const AdadeltaScalars&);          \
  template void adam_update<T>(T*, const T*, T*, T*, T*, int64_t, const AdamScalars&);
GD_INSTANTIATE_OPTIM(float)
GD_INSTANTIATE_OPTIM(double)
#undef GD_INSTANTIATE_OPTIM

}  // namespace gdcore::kernels
