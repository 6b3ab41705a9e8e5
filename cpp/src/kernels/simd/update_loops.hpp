// The bandwidth-bound loops, written once over a vector type V (vec_scalar.hpp,
// vec_avx2.hpp, vec_avx512.hpp) and compiled once per SIMD path by table_<path>.cpp.
// Each loop reads every operand once and writes its outputs once; the last partial
// vector goes through masked loads and stores, so every element of an array gets the
// same arithmetic whichever thread or block it falls in (elementwise results never
// depend on how the caller splits the work).
//
// Formulas are those of the plain loops they replace (torch.optim's single-tensor path:
// the gradient is negated first when maximizing, then weight_decay * param is added);
// with FMA a multiply-add is rounded once instead of twice.
//
// Everything here has internal linkage (an unnamed namespace): each path's copy stays in
// its own object file and can never be picked by the linker for another path.
#pragma once
#include <cstdint>

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

template <class V, class T = typename V::Elem>
void sgd_loop(T* __restrict param, const T* __restrict grad, T* __restrict buf, int64_t n, const SgdScalars& s) {
  using R = typename V::Reg;
  const R lr = V::set1(T(s.lr)), wd = V::set1(T(s.weight_decay)), mom = V::set1(T(s.momentum)),
          keep = V::set1(T(1.0 - s.dampening)), sign = V::set1(s.maximize ? T(-1) : T(1));
  const bool decay = s.weight_decay != 0, momentum = s.momentum != 0, first = s.first_step, nesterov = s.nesterov;
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

namespace gdcore::kernels::simd {
namespace {

template <template <class> class Vec, class T>
Kernels<T> make_kernels() {
  using V = Vec<T>;
  return Kernels<T>{&sgd_loop<V>,     &adam_loop<V>,        &sq_diff_sum_loop<V>, &sq_diff_sum_and_grad_loop<V>,
                    &sq_diff_loop<V>, &scaled_diff_loop<V>, &diff_times_loop<V>,
                    &row_max_loop<V>, &exp_shift_sum_loop<V>, &scale_loop<V>, &exp_loop<V>};
}

}  // namespace
}  // namespace gdcore::kernels::simd
