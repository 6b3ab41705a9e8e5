// The bandwidth-bound loops, written once over a vector type V (vec_scalar.hpp,
// vec_avx2.hpp, vec_avx512.hpp) and compiled once per SIMD path by table_<path>.cpp.
// Each loop reads every operand once and writes its outputs once; the last partial
// vector goes through masked loads and stores (SGD on a tensor shorter than a vector: one
// lane at a time, LaneOf below), so every element of an array gets the same arithmetic
// whichever thread or block it falls in (elementwise results never depend on how the
// caller splits the work).
//
// Formulas are those of the plain loops they replace (torch.optim's single-tensor path:
// the gradient is negated first when maximizing, then weight_decay * param is added);
// with FMA a multiply-add is rounded once instead of twice.
//
// Everything here has internal linkage (an unnamed namespace): each path's copy stays in
// its own object file and can never be picked by the linker for another path.
#pragma once
#include <cstdint>
#include <type_traits>

#include "kernels/optim_update.hpp"
#include "kernels/simd/kernel_table.hpp"

namespace gdcore::kernels::simd {
namespace {

// Calls body(i, k) for the blocks [i, i + k) of [0, n): full vectors (k == V::width),
// then the tail (0 < k < V::width) at most once.
template <class V, class Body>
inline void for_blocks(int64_t n, Body&& body) {
  int64_t i = 0;
  for (; i + V::width <= n; i += V::width) body(i, V::width);
  if (i < n) body(i, n - i);
}

// Load and store that take the block length k; the full case is the hot one.
template <class V, class T>
inline typename V::Reg ld(const T* p, int64_t k) {
  return k == V::width ? V::load(p) : V::load(p, k);
}
template <class V, class T>
inline void st(T* p, typename V::Reg v, int64_t k) {
  if (k == V::width) V::store(p, v);
  else V::store(p, v, k);
}

// One lane of a vector path V wider than one element: V's arithmetic on single elements, for
// tensors shorter than a vector (a per-sample step's bias and weights), which then skip the
// vector set-up and the masked tail and still get, element by element, the bits a vector lane
// gives. The wide paths all have FMA (dispatch.cpp requires it for avx2), so a multiply-add
// is one rounding here too. (__builtin_fma, not std::fma: an inline library function compiled
// in this file with the path's flags could be picked by the linker for the baseline build.)
template <typename T>
struct FusedLane {
  using Elem = T;
  using Reg = T;
  static constexpr int64_t width = 1;
  static Reg load(const T* p) { return *p; }
  static Reg load(const T* p, int64_t) { return *p; }
  static void store(T* p, Reg v) { *p = v; }
  static void store(T* p, Reg v, int64_t) { *p = v; }
  static Reg set1(T x) { return x; }
  static Reg add(Reg a, Reg b) { return a + b; }
  static Reg mul(Reg a, Reg b) { return a * b; }
  static Reg fmadd(Reg a, Reg b, Reg c) {
    if constexpr (sizeof(T) == 4) return __builtin_fmaf(a, b, c);
    else return __builtin_fma(a, b, c);
  }
  static Reg fnmadd(Reg a, Reg b, Reg c) { return fmadd(-a, b, c); }  // c - a * b, rounded once (-a is exact)
};
template <class V>
using LaneOf = std::conditional_t<V::width == 1, V, FusedLane<typename V::Elem>>;

template <class V, class T = typename V::Elem>
void sgd_loop(T* __restrict param, const T* __restrict grad, T* __restrict buf, int64_t n, const SgdScalars& s) {
  using R = typename V::Reg;
  if constexpr (V::width > 1)
    if (n < V::width) return sgd_loop<LaneOf<V>>(param, grad, buf, n, s);
  const bool decay = s.weight_decay != 0, momentum = s.momentum != 0, first = s.first_step, nesterov = s.nesterov;
  const R lr = V::set1(T(s.lr)), wd = V::set1(T(s.weight_decay)), mom = V::set1(T(s.momentum)),
          keep = V::set1(T(1.0 - s.dampening)), sign = V::set1(s.maximize ? T(-1) : T(1));
  for_blocks<V>(n, [&](int64_t i, int64_t k) {
    const R p = ld<V>(param + i, k);
    R d = V::mul(sign, ld<V>(grad + i, k));
    if (decay) d = V::fmadd(wd, p, d);
    if (!momentum) {
      st<V>(param + i, V::fnmadd(lr, d, p), k);  // p - lr * d
      return;
    }
    const R b = first ? d : V::fmadd(mom, ld<V>(buf + i, k), V::mul(keep, d));
    st<V>(buf + i, b, k);
    st<V>(param + i, V::fnmadd(lr, nesterov ? V::fmadd(mom, b, d) : b, p), k);
  });
}

// SGD without momentum, weight decay or maximize: param[i] = param[i] - lr * grad[i], the
// arithmetic sgd_loop gives those options (its sign, +1, changes no bit), without their tests.
template <class V, class T = typename V::Elem>
void sgd_plain_loop(T* __restrict param, const T* __restrict grad, int64_t n, T lr) {
  using L = LaneOf<V>;
  if (n < V::width) {
    for (int64_t i = 0; i < n; ++i) param[i] = L::fnmadd(lr, grad[i], param[i]);
    return;
  }
  const typename V::Reg r = V::set1(lr);
  int64_t i = 0;
  for (; i + V::width <= n; i += V::width) V::store(param + i, V::fnmadd(r, V::load(grad + i), V::load(param + i)));
  if (i < n) V::store(param + i, V::fnmadd(r, V::load(grad + i, n - i), V::load(param + i, n - i)), n - i);
}

template <class V, class T = typename V::Elem>
void adam_loop(T* __restrict param, const T* __restrict grad, T* __restrict exp_avg, T* __restrict exp_avg_sq,
               T* __restrict max_exp_avg_sq, int64_t n, const AdamScalars& s) {
  using R = typename V::Reg;
  const R step_size = V::set1(T(s.step_size)), inv_b2 = V::set1(T(s.inv_bias2_sqrt)), b1 = V::set1(T(s.beta1)),
          r1 = V::set1(T(1.0 - s.beta1)), b2 = V::set1(T(s.beta2)), r2 = V::set1(T(1.0 - s.beta2)),
          eps = V::set1(T(s.eps)), wd = V::set1(T(s.weight_decay)), scale = V::set1(T(s.param_scale)),
          sign = V::set1(s.maximize ? T(-1) : T(1));
  const bool decay = s.weight_decay != 0, amsgrad = s.amsgrad;
  for_blocks<V>(n, [&](int64_t i, int64_t k) {
    const R p = ld<V>(param + i, k);
    R g = V::mul(sign, ld<V>(grad + i, k));
    if (decay) g = V::fmadd(wd, p, g);
    const R m = V::fmadd(b1, ld<V>(exp_avg + i, k), V::mul(r1, g));
    R v = V::fmadd(b2, ld<V>(exp_avg_sq + i, k), V::mul(V::mul(r2, g), g));
    st<V>(exp_avg + i, m, k);
    st<V>(exp_avg_sq + i, v, k);
    if (amsgrad) {
      v = V::max(ld<V>(max_exp_avg_sq + i, k), v);  // a NaN in v propagates (vmax returns its second operand)
      st<V>(max_exp_avg_sq + i, v, k);
    }
    const R denom = V::fmadd(V::sqrt(v), inv_b2, eps);
    // AdamW's decoupled decay scales the parameter first; scale is exactly 1 for Adam.
    st<V>(param + i, V::fnmadd(step_size, V::div(m, denom), V::mul(p, scale)), k);
  });
}

template <class V, class T = typename V::Elem>
double sq_diff_sum_loop(const T* __restrict x, const T* __restrict y, int64_t n) {
  typename V::Acc acc;
  for_blocks<V>(n, [&](int64_t i, int64_t k) { V::acc_sq_diff(acc, ld<V>(x + i, k), ld<V>(y + i, k)); });
  return V::total(acc);
}

template <class V, class T = typename V::Elem>
double sq_diff_sum_and_grad_loop(const T* __restrict x, const T* __restrict y, T* __restrict grad, T scale,
                                 int64_t n) {
  using R = typename V::Reg;
  const R c = V::set1(scale);
  typename V::Acc acc;
  for_blocks<V>(n, [&](int64_t i, int64_t k) {
    const R a = ld<V>(x + i, k), b = ld<V>(y + i, k);
    st<V>(grad + i, V::mul(c, V::sub(a, b)), k);
    V::acc_sq_diff(acc, a, b);  // masked-off tail lanes load as 0 and add nothing
  });
  return V::total(acc);
}

template <class V, class T = typename V::Elem>
void sq_diff_loop(const T* __restrict x, const T* __restrict y, T* __restrict out, int64_t n) {
  for_blocks<V>(n, [&](int64_t i, int64_t k) {
    const auto d = V::sub(ld<V>(x + i, k), ld<V>(y + i, k));
    st<V>(out + i, V::mul(d, d), k);
  });
}

template <class V, class T = typename V::Elem>
void scaled_diff_loop(const T* __restrict x, const T* __restrict y, T* __restrict out, T scale, int64_t n) {
  const auto c = V::set1(scale);
  for_blocks<V>(n, [&](int64_t i, int64_t k) { st<V>(out + i, V::mul(c, V::sub(ld<V>(x + i, k), ld<V>(y + i, k))), k); });
}

template <class V, class T = typename V::Elem>
void diff_times_loop(const T* __restrict x, const T* __restrict y, const T* __restrict g, T* __restrict out,
                     T scale, int64_t n) {
  const auto c = V::set1(scale);
  for_blocks<V>(n, [&](int64_t i, int64_t k) {
    const auto d = V::mul(c, V::sub(ld<V>(x + i, k), ld<V>(y + i, k)));
    st<V>(out + i, V::mul(d, ld<V>(g + i, k)), k);
  });
}

}  // namespace
}  // namespace gdcore::kernels::simd

#include "kernels/simd/softmax_loops.hpp"  // (uses for_blocks, ld and st above)
#include "kernels/simd/small_gemm_loops.hpp"  // (uses LaneOf above)
#include "kernels/simd/sum_rows_loops.hpp"  // (uses for_blocks, ld and st above)
#include "kernels/simd/activation_loops.hpp"  // (uses for_blocks, ld and st above)

namespace gdcore::kernels::simd {
namespace {

template <template <class> class Vec, class T>
Kernels<T> make_kernels() {
  using V = Vec<T>;
  return Kernels<T>{&sgd_loop<V>,     &adam_loop<V>,        &sq_diff_sum_loop<V>, &sq_diff_sum_and_grad_loop<V>,
                    &sq_diff_loop<V>, &scaled_diff_loop<V>, &diff_times_loop<V>,
                    &row_max_loop<V>, &exp_shift_sum_loop<V>, &scale_loop<V>, &exp_loop<V>,
                    &sgd_plain_loop<V>, &small_gemm_loop<V>, &sum_rows_loop<Vec<double>, T>,
                    &short_rows_exp_loop<V>, kShortRowMax<V>, &add_row_loop<V>, &relu_loop<V>, &relu_grad_loop<V>};
}

}  // namespace
}  // namespace gdcore::kernels::simd
