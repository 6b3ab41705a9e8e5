// The fused cross-entropy loops of cross_entropy.hpp: one pass per row finds the maximum
// (and the weighted sum of the logits for label smoothing), one sums the shifted
// exponentials (kept in the gradient row), one writes softmax minus the smoothed one-hot.
// Subtracting the row maximum keeps logits of +-1e4 finite. The passes over a row are the
// SIMD kernels of kernels/simd/softmax_loops.hpp, on the path the dispatch table chose
// (GDCORE_SIMD): the row is read once from memory, the later passes find it in L1 (a row of
// 1000 floats is 4 KB). Eager and compiled steps call the same kernels, so they agree bit for bit.
#include "kernels/cross_entropy.hpp"

#include <algorithm>
#include <cmath>
#include <vector>
#include <stdexcept>
#include <string>

#include "kernels/simd/dispatch.hpp"
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

// What every row shares: W = sum_c w[c], eps / C, and the sizes and scalars of the call.
template <typename T>
struct RowConstants {
  const T* weight;
  int64_t c, ignore_index;
  double eps, wtotal, smooth;
  T scale;
};

template <typename T>
RowConstants<T> row_constants(const T* weight, int64_t c, int64_t ignore_index, double eps, T scale) {
  double wtotal = 0.0;
  if (weight)
    for (int64_t j = 0; j < c; ++j) wtotal += static_cast<double>(weight[j]);
  else
    wtotal = static_cast<double>(c);
  return {weight, c, ignore_index, eps, wtotal, eps / static_cast<double>(c), scale};
}

// Row i's loss, and (gi not null) its gradient written over the exponentials exp(x - mx) that gi
// holds, from the row's shift mx and the sum s of those exponentials. One function for both
// loops below, so that the long and the short rows share this arithmetic.
template <typename T>
double finish_row(const RowConstants<T>& r, const simd::Kernels<T>& k, const T* xi, int64_t t, T mx, double s,
                  T* gi) {
  const int64_t c = r.c;
  const T* weight = r.weight;
  double wx = 0.0;  // sum_c w[c] x[c], for the smoothing term
  if (r.eps > 0.0) {
    for (int64_t j = 0; j < c; ++j) wx += (weight ? static_cast<double>(weight[j]) : 1.0) * static_cast<double>(xi[j]);
  }
  const double lse = static_cast<double>(mx) + std::log(s);
  const double wt = weight ? static_cast<double>(weight[t]) : 1.0;
  double l = (1.0 - r.eps) * wt * (lse - static_cast<double>(xi[t]));
  if (r.eps > 0.0) l += r.smooth * (r.wtotal * lse - wx);
  if (gi) {
    const double scale = static_cast<double>(r.scale);
    const T a = static_cast<T>(scale * ((1.0 - r.eps) * wt + r.smooth * r.wtotal) / s);
    if (r.eps > 0.0) {
      const double bs = scale * r.smooth;
      for (int64_t j = 0; j < c; ++j)
        gi[j] = a * gi[j] - static_cast<T>(bs * (weight ? static_cast<double>(weight[j]) : 1.0));
    } else {
      k.scale(gi, a, c);
    }
    gi[t] -= static_cast<T>(scale * (1.0 - r.eps) * wt);
  }
  return l;
}

// Rows [begin, end) one at a time: the row maximum, the shifted exponentials and their sum, by
// the SIMD path's row kernels.
template <typename T>
void rows_range(const T* x, const int64_t* target, const RowConstants<T>& r, int64_t begin, int64_t end,
                double* loss, T* grad) {
  const int64_t c = r.c;
  const simd::Kernels<T>& k = simd::kernels_for<T>();
  std::vector<T> scratch(grad ? 0 : static_cast<size_t>(c));  // the exponentials when no gradient is written
  for (int64_t i = begin; i < end; ++i) {
    const T* xi = x + i * c;
    T* gi = grad ? grad + i * c : nullptr;
    const int64_t t = target[i];
    if (t == r.ignore_index) {
      loss[i] = 0.0;
      if (gi) std::fill(gi, gi + c, T(0));
      continue;
    }
    T mx = k.row_max(xi, c);
    if (std::isinf(mx)) mx = T(0);  // all -inf (or a +inf): no shift rather than inf - inf
    T* e = gi ? gi : scratch.data();
    const double s = k.exp_shift_sum(xi, mx, e, c);
    loss[i] = finish_row(r, k, xi, t, mx, s, gi);
  }
}

// Rows of at most k.short_row_max classes (a classifier's few classes), a block of rows at a time:
// one call of k.short_rows_exp finds every row's shift, exponentials and sum with the bits of the
// row kernels above (many short rows to a vector), then each row is finished as above.
template <typename T>
void short_rows_range(const T* x, const int64_t* target, const RowConstants<T>& r, int64_t begin, int64_t end,
                      double* loss, T* grad) {
  constexpr int64_t kRows = 64;
  const int64_t c = r.c;
  const simd::Kernels<T>& k = simd::kernels_for<T>();
  T shift[kRows];
  double sums[kRows];
  std::vector<T> scratch(grad ? 0 : static_cast<size_t>(kRows * c));  // the exponentials when no gradient is written
  for (int64_t i0 = begin; i0 < end; i0 += kRows) {
    const int64_t rows = std::min(kRows, end - i0);
    T* eb = grad ? grad + i0 * c : scratch.data();
    k.short_rows_exp(x + i0 * c, rows, c, shift, eb, sums);
    for (int64_t i = 0; i < rows; ++i) {
      T* gi = grad ? eb + i * c : nullptr;
      const int64_t t = target[i0 + i];
      if (t == r.ignore_index) {
        loss[i0 + i] = 0.0;
        if (gi) std::fill(gi, gi + c, T(0));
        continue;
      }
      loss[i0 + i] = finish_row(r, k, x + (i0 + i) * c, t, shift[i], sums[i], gi);
    }
  }
}

template <typename T>
void rows_of(const T* x, const int64_t* target, const T* weight, int64_t begin, int64_t end, int64_t c,
             int64_t ignore_index, double eps, double* loss, T* grad, T scale) {
  const RowConstants<T> r = row_constants(weight, c, ignore_index, eps, scale);
  if (c <= simd::kernels_for<T>().short_row_max)
    short_rows_range(x, target, r, begin, end, loss, grad);
  else
    rows_range(x, target, r, begin, end, loss, grad);
}

}  // namespace

template <typename T>
void cross_entropy_rows(const T* x, const int64_t* target, const T* weight, int64_t m, int64_t c,
                        int64_t ignore_index, double eps, double* loss, T* grad, T scale) {
  const int threads = simd::kernel_threads();
  if (m * c < simd::kParallelMin || threads < 2 || m < 2) {
    rows_of(x, target, weight, 0, m, c, ignore_index, eps, loss, grad, scale);
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
    if (b < e) rows_of(k.x, k.target, k.weight, b, e, k.c, k.ignore_index, k.eps, k.loss, k.grad, k.scale);
  }, &ctx);
}

template <typename T>
void cross_entropy_rows_one_by_one(const T* x, const int64_t* target, const T* weight, int64_t m, int64_t c,
                                   int64_t ignore_index, double eps, double* loss, T* grad, T scale) {
  rows_range(x, target, row_constants(weight, c, ignore_index, eps, scale), 0, m, loss, grad);
}

#define GD_INSTANTIATE_CE(T)                                                                               \
  template double target_weight_sum<T>(const int64_t*, const T*, int64_t, int64_t);                        \
  template void cross_entropy_rows<T>(const T*, const int64_t*, const T*, int64_t, int64_t, int64_t, double, \
                                      double*, T*, T);                                                   \
  template void cross_entropy_rows_one_by_one<T>(const T*, const int64_t*, const T*, int64_t, int64_t, int64_t, \
                                                 double, double*, T*, T);
GD_INSTANTIATE_CE(float)
GD_INSTANTIATE_CE(double)
#undef GD_INSTANTIATE_CE

}  // namespace gdcore::kernels
