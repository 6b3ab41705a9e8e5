// The fused cross-entropy loops of cross_entropy.hpp: one pass per row finds the maximum
// (and the weighted sum of the logits for label smoothing), one sums the shifted
// exponentials (kept in the gradient row), one writes softmax minus the smoothed one-hot.
// Subtracting the row maximum keeps logits of +-1e4 finite. The loops are written so that the
// compiler vectorises them on any x86-64 (independent lanes, a float exp without a libm call);
// they do not go through the per-CPU dispatch tables of kernels/simd/.
#include "kernels/cross_entropy.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/simd/parallel.hpp"

namespace gdcore::kernels {

void check_class_targets(const int64_t* target, int64_t m, int64_t c, int64_t ignore_index, const char* op) {
  for (int64_t i = 0; i < m; ++i) {
    const int64_t t = target[i];
    if (t == ignore_index) continue;
    if (t < 0 || t >= c)
      throw std::out_of_range(std::string(op) + ": target " + std::to_string(t) + " is out of bounds for " +
                              std::to_string(c) + " classes (class indices must be in [0, " + std::to_string(c - 1) +
                              "] or equal ignore_index=" + std::to_string(ignore_index) + ")");
  }
}

template <typename T>
double target_weight_sum(const int64_t* target, const T* weight, int64_t m, int64_t ignore_index) {
  double s = 0.0;
  for (int64_t i = 0; i < m; ++i)
    if (target[i] != ignore_index) s += weight ? static_cast<double>(weight[target[i]]) : 1.0;
  return s;
}

namespace {

// exp(x) for x <= 0 in float, as plain arithmetic the compiler vectorises (no libm call): 2^n times
// a degree-6 polynomial on r = x - n ln 2, |r| <= ln(2)/2 (relative error below 2e-7, about one
// float ulp). 2^n is applied as two normal powers of two, so results below float's range underflow
// to 0 as the exact exp does (x is clamped at -110 first, where exp already rounds to 0).
inline float exp_nonpositive(float x) {
  x = x < -110.0f ? -110.0f : x;  // (a NaN stays NaN: the comparison is false)
  const float t = x * 1.44269504f;
  const int32_t n = static_cast<int32_t>(t - 0.5f);  // rounds to nearest for t <= 0 (truncation toward 0)
  const float fn = static_cast<float>(n);
  const float r = (x - fn * 0.693145752f) - fn * 1.42860677e-6f;  // Cody-Waite: ln 2 in two parts
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t half = n / 2;  // n >= -159: both halves are normal exponents
  const uint32_t b1 = static_cast<uint32_t>(half + 127) << 23, b2 = static_cast<uint32_t>(n - half + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, sizeof s1);
  std::memcpy(&s2, &b2, sizeof s2);
  return (p * s1) * s2;
}

// Row maximum and sum, in blocks of 8 independent lanes so that the loops vectorise (a single
// running float sum or max is a dependency chain the compiler must keep in order).
template <typename T>
T row_max(const T* x, int64_t c) {
  T lane[8];
  for (T& l : lane) l = -std::numeric_limits<T>::infinity();
  int64_t k = 0;
  for (; k + 8 <= c; k += 8)
    for (int j = 0; j < 8; ++j) lane[j] = x[k + j] > lane[j] ? x[k + j] : lane[j];
  T m = -std::numeric_limits<T>::infinity();
  for (T l : lane) m = l > m ? l : m;
  for (; k < c; ++k) m = x[k] > m || x[k] != x[k] ? x[k] : m;
  return m;
}

// e[j] = exp(x[j] - mx); returns sum_j e[j] (in double). float uses exp_nonpositive, double std::exp.
template <typename T>
double shifted_exp(const T* x, T mx, T* e, int64_t c) {
  if constexpr (std::is_same_v<T, float>) {
    for (int64_t j = 0; j < c; ++j) e[j] = exp_nonpositive(x[j] - mx);
  } else {
    for (int64_t j = 0; j < c; ++j) e[j] = std::exp(x[j] - mx);
  }
  T lane[8] = {};
  int64_t k = 0;
  for (; k + 8 <= c; k += 8)
    for (int j = 0; j < 8; ++j) lane[j] += e[k + j];
  double s = 0.0;
  for (T l : lane) s += static_cast<double>(l);
  for (; k < c; ++k) s += static_cast<double>(e[k]);
  return s;
}

template <typename T>
void rows_range(const T* x, const int64_t* target, const T* weight, int64_t begin, int64_t end, int64_t c,
                int64_t ignore_index, double eps, double* loss, T* grad, T scale) {
  double wtotal = 0.0;  // W = sum_c w[c]
  if (weight)
    for (int64_t j = 0; j < c; ++j) wtotal += static_cast<double>(weight[j]);
  else
    wtotal = static_cast<double>(c);
  const double smooth = eps / static_cast<double>(c);
  std::vector<T> scratch(grad ? 0 : static_cast<size_t>(c));  // the exponentials when no gradient is written
  for (int64_t i = begin; i < end; ++i) {
    const T* xi = x + i * c;
    T* gi = grad ? grad + i * c : nullptr;
    const int64_t t = target[i];
    if (t == ignore_index) {
      loss[i] = 0.0;
      if (gi) std::fill(gi, gi + c, T(0));
      continue;
    }
    T mx = row_max(xi, c);
    double wx = 0.0;  // sum_c w[c] x[c], for the smoothing term
    if (eps > 0.0) {
      for (int64_t j = 0; j < c; ++j) wx += (weight ? static_cast<double>(weight[j]) : 1.0) * static_cast<double>(xi[j]);
    }
    if (std::isinf(mx)) mx = T(0);  // all -inf (or a +inf): no shift rather than inf - inf
    T* e = gi ? gi : scratch.data();
    const double s = shifted_exp(xi, mx, e, c);
    const double lse = static_cast<double>(mx) + std::log(s);
    const double wt = weight ? static_cast<double>(weight[t]) : 1.0;
    double l = (1.0 - eps) * wt * (lse - static_cast<double>(xi[t]));
    if (eps > 0.0) l += smooth * (wtotal * lse - wx);
    loss[i] = l;
    if (gi) {
      const T a = static_cast<T>(static_cast<double>(scale) * ((1.0 - eps) * wt + smooth * wtotal) / s);
      if (eps > 0.0) {
        const double bs = static_cast<double>(scale) * smooth;
        for (int64_t j = 0; j < c; ++j)
          gi[j] = a * gi[j] - static_cast<T>(bs * (weight ? static_cast<double>(weight[j]) : 1.0));
      } else {
        for (int64_t j = 0; j < c; ++j) gi[j] = a * gi[j];
      }
      gi[t] -= static_cast<T>(static_cast<double>(scale) * (1.0 - eps) * wt);
    }
  }
}

}  // namespace

template <typename T>
void cross_entropy_rows(const T* x, const int64_t* target, const T* weight, int64_t m, int64_t c,
                        int64_t ignore_index, double eps, double* loss, T* grad, T scale) {
  const int threads = simd::kernel_threads();
  if (m * c < simd::kParallelMin || threads < 2 || m < 2) {
    rows_range(x, target, weight, 0, m, c, ignore_index, eps, loss, grad, scale);
    return;
  }
  struct Ctx {
    const T* x;
    const int64_t* target;
    const T* weight;
    int64_t m, c, ignore_index;
    double eps;
    double* loss;
    T* grad;
    T scale;
    int parts;
  } ctx{x, target, weight, m, c, ignore_index, eps, loss, grad, scale, threads};
  simd::run_parts(threads, [](void* p, int part) {
    const Ctx& k = *static_cast<Ctx*>(p);
    const int64_t b = k.m * part / k.parts, e = k.m * (part + 1) / k.parts;
    if (b < e) rows_range(k.x, k.target, k.weight, b, e, k.c, k.ignore_index, k.eps, k.loss, k.grad, k.scale);
  }, &ctx);
}

#define GD_INSTANTIATE_CE(T)                                                                               \
  template double target_weight_sum<T>(const int64_t*, const T*, int64_t, int64_t);                        \
  template void cross_entropy_rows<T>(const T*, const int64_t*, const T*, int64_t, int64_t, int64_t, double, \
                                      double*, T*, T);
GD_INSTANTIATE_CE(float)
GD_INSTANTIATE_CE(double)
#undef GD_INSTANTIATE_CE

}  // namespace gdcore::kernels
