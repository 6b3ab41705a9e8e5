// Optimizer update kernels: one function per optimizer over the n contiguous elements of
// one parameter, its gradient and its state buffers, updated in place. Pointers, sizes and
// scalars in, nothing else. The caller computes the per-step scalars (bias corrections,
// decayed learning rates) once per tensor, so the loops hold only elementwise math and may
// run on any sub-range [i, i + n) of a tensor. SGD and Adam/AdamW go through the runtime
// SIMD dispatch of kernels/simd/ (and are split over two threads for large tensors);
// the others are plain loops.
//
// Formulas follow torch.optim (single-tensor path): the gradient is negated first when
// maximizing, then the L2 term weight_decay * param is added.
#pragma once
#include <cstddef>
#include <cstdint>

namespace gdcore::kernels {

struct SgdScalars {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
  bool first_step = false;  // the momentum buffer is new: it takes the gradient as is
};
// momentum_buffer may be null when momentum == 0.
template <typename T>
void sgd_update(T* param, const T* grad, T* momentum_buffer, int64_t n, const SgdScalars& s);
// SGD without momentum, weight decay or maximize (sgd_is_plain): param[i] -= lr * grad[i], the
// same bits as sgd_update with those options, through a shorter path (per-sample steps).
inline bool sgd_is_plain(const SgdScalars& s) { return s.momentum == 0 && s.weight_decay == 0 && !s.maximize; }
template <typename T>
void sgd_plain_update(T* param, const T* grad, int64_t n, T lr);
// The same over several tensors of one dtype, in order (one call for a group of small parameters).
template <typename T>
struct SgdPart {
  T* param;
  const T* grad;
  int64_t n;
};
template <typename T>
void sgd_plain_update(const SgdPart<T>* parts, size_t count, T lr);
// The loop sgd_plain_update(param, grad, n, lr) runs now on the active SIMD path, for n too small
// to be split over threads; nullptr for larger n. (A lowered step resolves it once at its trace.)
template <typename T>
using SgdPlainLoop = void (*)(T* param, const T* grad, int64_t n, T lr);
template <typename T>
SgdPlainLoop<T> sgd_plain_small_loop(int64_t n);
// The same update on 16-byte vectors, each element one fused multiply-add: the bits of the AVX2
// and AVX-512 paths' loops (sgd_narrow.cpp says why a lowered per-sample step wants it). Only
// for a CPU with AVX2 and FMA.
template <typename T>
SgdPlainLoop<T> sgd_plain_narrow_loop();
// The loop a lowered step's direct SGD step calls for a parameter of n elements (n below
// simd::kParallelMin): the narrow loop for at most 64 elements on the wide paths, else
// sgd_plain_small_loop's. The same bits as sgd_plain_update on the active path either way.
template <typename T>
SgdPlainLoop<T> sgd_plain_lowered_loop(int64_t n);

struct AdagradScalars {
  double clr = 0;  // lr / (1 + (step - 1) * lr_decay)
  double weight_decay = 0, eps = 0;
  bool maximize = false;
};
template <typename T>
void adagrad_update(T* param, const T* grad, T* sum, int64_t n, const AdagradScalars& s);

struct RmspropScalars {
  double lr = 0, alpha = 0, eps = 0, weight_decay = 0, momentum = 0;
  bool centered = false, maximize = false;
};
// grad_avg is used (non-null) only when centered; momentum_buffer only when momentum > 0.
template <typename T>
void rmsprop_update(T* param, const T* grad, T* square_avg, T* grad_avg, T* momentum_buffer, int64_t n,
                    const RmspropScalars& s);

struct AdadeltaScalars {
  double lr = 0, rho = 0, eps = 0, weight_decay = 0;
  bool maximize = false;
};
template <typename T>
void adadelta_update(T* param, const T* grad, T* square_avg, T* acc_delta, int64_t n, const AdadeltaScalars& s);

struct AdamScalars {
  double step_size = 0;          // lr / (1 - beta1^step)
  double inv_bias2_sqrt = 0;     // 1 / sqrt(1 - beta2^step)
  double beta1 = 0, beta2 = 0, eps = 0;
  double weight_decay = 0;       // L2 term added to the gradient (Adam)
  double param_scale = 1;        // 1 - lr * weight_decay (AdamW's decoupled decay), 1 for Adam
  bool amsgrad = false, maximize = false;
};
// max_exp_avg_sq is used (non-null) only when amsgrad.
template <typename T>
void adam_update(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, int64_t n,
                 const AdamScalars& s);

}  // namespace gdcore::kernels
