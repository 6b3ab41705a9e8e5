// The float32 logistic sigmoid 1 / (1 + exp(-x)) over a vector type V, compiled once per SIMD
// path by table_<path>.cpp (as update_loops.hpp). The scalar call of expf per element cost
// 6 ns, the largest single item of the d2l LeNet's step (13% of it); this loop takes about
// 0.3 ns on AVX-512.
//
// exp(t) is Cephes' expf: t = n ln2 + r with n = round(t / ln2) and |r| <= ln2 / 2 (ln2 in
// two parts, so r is exact), exp(r) by a degree-7 polynomial (within 1 ulp of the true value
// on that interval), then scaled by 2^n. t is clamped to [-150, 150] first, which changes no
// result (exp already is 0 or inf in float32 there) and keeps n in range for scale2; the clamp
// lets NaN through (max and min return their second operand when either is NaN), so
// sigmoid(NaN) is NaN. sigmoid(-inf) = 1 / (1 + inf) = 0 and sigmoid(inf) = 1, as before.
// Paths differ in the last bit at most: AVX2 and AVX-512 fuse the polynomial's multiply-adds.
#pragma once
#include <cstdint>

namespace gdcore::kernels::simd {
namespace {

template <class V>
void sigmoid_loop(const float* __restrict x, float* __restrict out, int64_t n) {
  using R = typename V::Reg;
  const R lo = V::set1(-150.0f), hi = V::set1(150.0f), log2e = V::set1(1.44269504088896341f);
  const R ln2_hi = V::set1(0.693359375f), ln2_lo = V::set1(-2.12194440e-4f), one = V::set1(1.0f);
  const R c0 = V::set1(1.9875691500e-4f), c1 = V::set1(1.3981999507e-3f), c2 = V::set1(8.3334519073e-3f),
          c3 = V::set1(4.1665795894e-2f), c4 = V::set1(1.6666665459e-1f), c5 = V::set1(5.0000001201e-1f);
  for_blocks<V>(n, [&](int64_t i, int64_t k) {
    R t = V::sub(V::set1(0.0f), ld<V>(x + i, k));  // -x
    t = V::min(hi, V::max(lo, t));
    const R m = V::round(V::mul(t, log2e));
    R r = V::fnmadd(m, ln2_hi, t);
    r = V::fnmadd(m, ln2_lo, r);
    R p = V::fmadd(c0, r, c1);
    p = V::fmadd(p, r, c2);
    p = V::fmadd(p, r, c3);
    p = V::fmadd(p, r, c4);
    p = V::fmadd(p, r, c5);
    p = V::fmadd(V::mul(p, r), r, V::add(r, one));  // p r^2 + r + 1
    st<V>(out + i, V::div(one, V::add(one, V::scale2(p, m))), k);
  });
}

}  // namespace
}  // namespace gdcore::kernels::simd
