// The loops of a softmax row (cross-entropy's forward and gradient, kernels/cross_entropy.cpp),
// written once over a vector type V like update_loops.hpp and compiled once per SIMD path:
// the row maximum, exp(x - shift) with its sum, an in-place scale, and a plain elementwise exp.
//
// The float exp is a polynomial, not a libm call, so that it runs in vector registers:
//   exp(x) = 2^n * exp(r),  n = round(x log2(e)),  r = x - n ln(2) in [-ln(2)/2, ln(2)/2],
// with ln(2) in two parts (Cody-Waite: n * ln2_hi is exact for |n| < 2^9, so r carries no
// cancellation error), and exp(r) = 1 + r + r^2 P(r) with Cephes' degree-5 minimax P.
// x is clamped to [-104, 88.8] first: below, exp rounds to 0 in float; above, it overflows to
// inf (88.8 still does). 2^n is applied as two factors 2^n1 * 2^n2 (n1 + n2 = n, each in
// [-75, 64], both normal floats), so results in float's subnormal range round once, from a
// normal number, as the exact exp would. NaN stays NaN (a vector max or min returns its second
// operand, x, when either is NaN). Measured against numpy's float64 exp over the whole float
// range (tests/test_softmax_kernels.py): at most 2 units in the last place for normal results,
// at most 1 unit of the smallest subnormal below them; exp(-inf) = 0, exp(+inf) = inf.
// The double loops call libm's exp lane by lane (correctly rounded to within an ulp): double is
// the gradcheck dtype, not the fast one.
//
// Tails use loads that fill the missing lanes with -inf: they add nothing to a maximum, and
// exp(-inf) = 0 adds nothing to a sum, so the last partial vector needs no special case and
// every element of a row gets the same arithmetic wherever it sits.
//
// Everything here has internal linkage (an unnamed namespace), as in update_loops.hpp, and no
// library header is included (see kernel_table.hpp): the double exp is __builtin_exp, a libm call.
#pragma once
#include <cstdint>
#include <type_traits>

namespace gdcore::kernels::simd {
namespace {

// exp of every lane of a float vector (see the top of this file for the method and its error).
template <class V>
inline typename V::Reg exp_lanes(typename V::Reg x) {
  using R = typename V::Reg;
  const R magic = V::set1(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer kept in the low bits
  x = V::min(V::set1(88.8f), V::max(V::set1(-104.0f), x));
  const R n = V::sub(V::add(V::mul(x, V::set1(1.44269504088896341f)), magic), magic);  // round(x log2 e)
  R r = V::fnmadd(n, V::set1(0.693359375f), x);  // x - n ln2_hi, exact
  r = V::fnmadd(n, V::set1(-2.12194440e-4f), r);  // - n ln2_lo
  R p = V::set1(1.9875691500e-4f);
  p = V::fmadd(p, r, V::set1(1.3981999507e-3f));
  p = V::fmadd(p, r, V::set1(8.3334519073e-3f));
  p = V::fmadd(p, r, V::set1(4.1665795894e-2f));
  p = V::fmadd(p, r, V::set1(1.6666665459e-1f));
  p = V::fmadd(p, r, V::set1(5.0000001201e-1f));
  const R e = V::add(V::fmadd(p, V::mul(r, r), r), V::set1(1.0f));  // exp(r)
  const R t1 = V::add(V::mul(n, V::set1(0.5f)), magic);             // magic + n1, n1 = round(n / 2)
  const R t2 = V::add(V::sub(n, V::sub(t1, magic)), magic);         // magic + n2, n2 = n - n1
  return V::mul(V::mul(e, V::pow2_from_magic(t1)), V::pow2_from_magic(t2));
}

template <class V, class T = typename V::Elem>
inline typename V::Reg exp_of(typename V::Reg x) {
  if constexpr (std::is_same_v<T, float>) {
    return exp_lanes<V>(x);
  } else {
    alignas(64) T lanes[V::width];
    V::store(lanes, x);
    for (T& l : lanes) l = __builtin_exp(l);  // libm's exp: no inline library code in this header
    return V::load(lanes);
  }
}

// The first `used` lanes of v added in double, in lane order. A lane past them holds only
// exp(-inf) = +0, and 0.0 + ... + 0.0 stays +0, so leaving it out changes no bit; it saves a
// chain of dependent additions on short rows (a 5-class row on AVX-512: 5 additions, not 16).
template <class V, class T = typename V::Elem>
inline double lane_sum(typename V::Reg v, int64_t used) {
  alignas(64) T lanes[V::width];
  V::store(lanes, v);
  double s = 0.0;
  for (int64_t j = 0; j < used && j < V::width; ++j) s += static_cast<double>(lanes[j]);
  return s;
}

template <class V, class T = typename V::Elem>
inline typename V::Reg ld_or(const T* p, int64_t k, T fill) {
  return k == V::width ? V::load(p) : V::load_or(p, k, fill);
}

// max_k x[k] (-inf for n = 0). A NaN may or may not win; callers let NaN through the exp instead.
template <class V, class T = typename V::Elem>
T row_max_loop(const T* __restrict x, int64_t n) {
  constexpr T lowest = -static_cast<T>(__builtin_inf());
  if constexpr (V::width == 1) {  // baseline path: 8 independent lanes, which the compiler vectorises (SSE2)
    T lane[8] = {lowest, lowest, lowest, lowest, lowest, lowest, lowest, lowest};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (int j = 0; j < 8; ++j) lane[j] = V::max(lane[j], x[i + j]);
    T m = lowest;
    for (T l : lane) m = l > m ? l : m;
    for (; i < n; ++i) m = V::max(m, x[i]);
    return m;
  }
  typename V::Reg acc = V::set1(lowest);
  for_blocks<V>(n, [&](int64_t i, int64_t k) { acc = V::max(acc, ld_or<V>(x + i, k, lowest)); });
  alignas(64) T lanes[V::width];
  V::store(lanes, acc);
  T m = lowest;
  for (T l : lanes) m = l > m ? l : m;
  return m;
}

// out[k] = exp(x[k] - shift) when out is not null; returns sum_k exp(x[k] - shift), added in
// V::width float lanes and then in double.
template <class V, class T = typename V::Elem>
double exp_shift_sum_loop(const T* __restrict x, T shift, T* __restrict out, int64_t n) {
  using R = typename V::Reg;
  if constexpr (V::width == 1) {
    // Baseline path: the exponentials of 8 elements, then their sums in 8 lanes, as two plain
    // loops the compiler vectorises with SSE2 (one running float sum is a chain it must keep in order).
    T lane[8] = {}, scratch[8];
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      T* e = out ? out + i : scratch;
      for (int j = 0; j < 8; ++j) e[j] = exp_of<V>(x[i + j] - shift);
      for (int j = 0; j < 8; ++j) lane[j] += e[j];
    }
    double s = 0.0;
    for (T l : lane) s += static_cast<double>(l);
    for (; i < n; ++i) {
      const T e = exp_of<V>(x[i] - shift);
      if (out) out[i] = e;
      s += static_cast<double>(e);
    }
    return s;
  }
  constexpr T lowest = -static_cast<T>(__builtin_inf());
  const R sh = V::set1(shift);
  R sum = V::set1(T(0));
  for_blocks<V>(n, [&](int64_t i, int64_t k) {
    const R e = exp_of<V>(V::sub(ld_or<V>(x + i, k, lowest), sh));
    if (out) st<V>(out + i, e, k);
    sum = V::add(sum, e);
  });
  return lane_sum<V>(sum, n);  // (n < width: the lanes from n on were only ever filled with exp(-inf))
}

// The longest row that short_rows_exp_loop takes: rows up to one vector (on the scalar path
// rows of up to 7, which row_max_loop and exp_shift_sum_loop walk one element at a time). For
// such a row those two loops reduce to plain sequences: the maximum is the running
// `x[j] > m ? x[j] : m` from -inf over j = 0, 1, ... (on a wide path each lane is
// vmax(-inf, x[j]) = x[j], NaN included, and the lanes are folded in that order; the -inf fill
// lanes never win), and the sum is `s += double(exp(x[j] - shift))` from 0.0 in that order (a
// lane is 0 + e = e, and the fill lanes are left out).
template <class V>
inline constexpr int64_t kShortRowMax = V::width == 1 ? 7 : V::width;

// short_rows_exp_loop's wide paths: W rows at a time, transposed (vector j holds class j of the
// W rows), so the running maximum, the exponentials and (after the transpose back) the sums are
// those of each row, in order. V::max(v, mx) is `v > mx ? v : mx` (vmax returns its second
// operand on a tie or a NaN). C is the class count, a template argument so that the transposes
// unroll; returns how many rows (whole blocks of W) were done.
template <class V, int64_t C, class T = typename V::Elem>
int64_t short_rows_block(const T* __restrict x, int64_t m, T* __restrict shift, T* __restrict out,
                         double* __restrict sum) {
  constexpr T lowest = -static_cast<T>(__builtin_inf());
  constexpr int64_t W = V::width;
  alignas(64) T tin[C * W], tout[C * W], mxs[W];
  int64_t first = 0;
  for (; first + W <= m; first += W) {
    const T* xb = x + first * C;
#pragma GCC unroll 16
    for (int64_t r = 0; r < W; ++r)
#pragma GCC unroll 16
      for (int64_t j = 0; j < C; ++j) tin[j * W + r] = xb[r * C + j];
    auto mx = V::set1(lowest);
#pragma GCC unroll 16
    for (int64_t j = 0; j < C; ++j) mx = V::max(V::load(tin + j * W), mx);
    V::store(mxs, mx);
#pragma GCC unroll 16
    for (int64_t r = 0; r < W; ++r) {
      if (__builtin_isinf(mxs[r])) mxs[r] = T(0);  // all -inf (or a +inf): no shift rather than inf - inf
      shift[first + r] = mxs[r];
    }
    mx = V::load(mxs);
#pragma GCC unroll 16
    for (int64_t j = 0; j < C; ++j) V::store(tout + j * W, exp_of<V>(V::sub(V::load(tin + j * W), mx)));
    T* ob = out + first * C;
#pragma GCC unroll 16
    for (int64_t r = 0; r < W; ++r) {
      double s = 0.0;
#pragma GCC unroll 16
      for (int64_t j = 0; j < C; ++j) {
        const T e = tout[j * W + r];
        ob[r * C + j] = e;
        s += static_cast<double>(e);
      }
      sum[first + r] = s;
    }
  }
  return first;
}

// short_rows_block for the run-time class count c (1..N).
template <class V, int64_t N, class T = typename V::Elem>
int64_t short_rows_transposed(const T* x, int64_t m, int64_t c, T* shift, T* out, double* sum) {
  if constexpr (N > 1)
    if (c < N) return short_rows_transposed<V, N - 1>(x, m, c, shift, out, sum);
  return short_rows_block<V, N>(x, m, shift, out, sum);
}

// For m contiguous rows of c <= kShortRowMax<V> elements (cross_entropy's 5 classes), the values
// that row_max_loop and exp_shift_sum_loop give row by row, without a call per row and with the
// exponentials of many rows in each vector: shift[i] = the row maximum (+0 when it is infinite:
// all -inf, or a +inf), out[i * c + j] = exp(x[i * c + j] - shift[i]), sum[i] = the row's
// exponentials added in double in order. Each element gets the same subtraction and the same
// lanewise exp as in exp_shift_sum_loop, so every output has that loop's bits.
template <class V, class T = typename V::Elem>
void short_rows_exp_loop(const T* __restrict x, int64_t m, int64_t c, T* __restrict shift, T* __restrict out,
                         double* __restrict sum) {
  if (m <= 0 || c <= 0) return;
  constexpr T lowest = -static_cast<T>(__builtin_inf());
  int64_t first = 0;  // the rows before this one are done
  if constexpr (V::width > 1) first = short_rows_transposed<V, V::width>(x, m, c, shift, out, sum);
  // The last rows (all of them on the scalar path): a block of rows, their shifts as one array.
  x += first * c;
  out += first * c;
  shift += first;
  sum += first;
  m -= first;
  constexpr int64_t kBlock = 1024;  // elements per block: the per-element shifts stay in L1
  alignas(64) T shifts[kBlock];
  const int64_t rows_per_block = kBlock / (c > 0 ? c : 1);
  for (int64_t i0 = 0; i0 < m; i0 += rows_per_block) {
    const int64_t rows = m - i0 < rows_per_block ? m - i0 : rows_per_block, n = rows * c;
    const T* xb = x + i0 * c;
    for (int64_t i = 0; i < rows; ++i) {
      const T* xi = xb + i * c;
      T mx = lowest;
      if constexpr (V::width == 1) {
        for (int64_t j = 0; j < c; ++j) mx = V::max(mx, xi[j]);  // (row_max_loop's tail, as there)
      } else {
        for (int64_t j = 0; j < c; ++j) mx = xi[j] > mx ? xi[j] : mx;
      }
      if (__builtin_isinf(mx)) mx = T(0);  // all -inf (or a +inf): no shift rather than inf - inf
      shift[i0 + i] = mx;
      for (int64_t j = 0; j < c; ++j) shifts[i * c + j] = mx;
    }
    T* ob = out + i0 * c;
    for_blocks<V>(n, [&](int64_t k, int64_t len) {
      st<V>(ob + k, exp_of<V>(V::sub(ld<V>(xb + k, len), ld<V>(shifts + k, len))), len);
    });
    for (int64_t i = 0; i < rows; ++i) {
      const T* e = ob + i * c;
      double s = 0.0;
      for (int64_t j = 0; j < c; ++j) s += static_cast<double>(e[j]);
      sum[i0 + i] = s;
    }
  }
}

// x[k] *= a.
template <class V, class T = typename V::Elem>
void scale_loop(T* __restrict x, T a, int64_t n) {
  const auto c = V::set1(a);
  for_blocks<V>(n, [&](int64_t i, int64_t k) { st<V>(x + i, V::mul(c, ld<V>(x + i, k)), k); });
}

// out[k] = exp(x[k]).
template <class V, class T = typename V::Elem>
void exp_loop(const T* __restrict x, T* __restrict out, int64_t n) {
  for_blocks<V>(n, [&](int64_t i, int64_t k) { st<V>(out + i, exp_of<V>(ld_or<V>(x + i, k, T(0))), k); });
}

}  // namespace
}  // namespace gdcore::kernels::simd
