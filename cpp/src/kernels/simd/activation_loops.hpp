// The loops of a Linear-ReLU layer around the small products (a classifier's hidden layer): the
// bias row added to every row of the product, ReLU, and ReLU's backward, written once over a
// vector type V like update_loops.hpp and compiled once per SIMD path. Each gives, element by
// element, the bits of the plain expression the ops write (x + b, x > 0 ? x : 0, g * (y > 0)),
// so eager and compiled steps agree whichever loop ran:
//  - relu is V::max(x, +0): vmax returns its second operand (+0) for x = +-0 and for NaN, x when
//    x > 0, and the scalar path's max is `x > 0 ? x : 0` itself;
//  - the mask y > 0 is made without a comparison instruction (which V does not have), exactly:
//    max(y, +0) is +0 for y <= 0 and NaN, y for y > 0; times 2^127 twice (2^1023 for double) every
//    positive value, down to the smallest subnormal, reaches at least 2^-22 * 2^127 > 1 (or inf),
//    and min(., 1) makes that 1 and leaves +0 at +0. So the mask is 1 or +0, as the float mask of
//    compare(y, 0, Gt) is, and g times it is the product mul(g, mask) computes.
// Everything here has internal linkage and no library header (see kernel_table.hpp).
#pragma once
#include <cstdint>
#include <type_traits>

namespace gdcore::kernels::simd {
namespace {

// out[r * cols + j] = x[r * cols + j] + row[j] for r < rows.
template <class V, class T = typename V::Elem>
void add_row_loop(const T* __restrict x, const T* __restrict row, T* __restrict out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* orow = out + r * cols;
    for_blocks<V>(cols, [&](int64_t j, int64_t k) { st<V>(orow + j, V::add(ld<V>(xr + j, k), ld<V>(row + j, k)), k); });
  }
}

// out[k] = x[k] > 0 ? x[k] : 0.
template <class V, class T = typename V::Elem>
void relu_loop(const T* __restrict x, T* __restrict out, int64_t n) {
  const auto zero = V::set1(T(0));
  for_blocks<V>(n, [&](int64_t i, int64_t k) { st<V>(out + i, V::max(ld<V>(x + i, k), zero), k); });
}

// out[k] = g[k] * (y[k] > 0 ? 1 : 0) (the mask as described at the top of this file).
template <class V, class T = typename V::Elem>
void relu_grad_loop(const T* __restrict g, const T* __restrict y, T* __restrict out, int64_t n) {
  constexpr T big = std::is_same_v<T, float> ? T(0x1p127) : T(0x1p1023);
  const auto zero = V::set1(T(0)), one = V::set1(T(1)), b = V::set1(big);
  for_blocks<V>(n, [&](int64_t i, int64_t k) {
    const auto mask = V::min(V::mul(V::mul(V::max(ld<V>(y + i, k), zero), b), b), one);
    st<V>(out + i, V::mul(ld<V>(g + i, k), mask), k);
  });
}

}  // namespace
}  // namespace gdcore::kernels::simd
