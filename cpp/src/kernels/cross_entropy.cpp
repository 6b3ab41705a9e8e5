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

template <typename T>
void rows_range(const T* x, const int64_t* target, const T* weight, int64_t begin, int64_t end, int64_t c,
                int64_t ignore_index, double eps, double* loss, T* grad, T scale) {
  double wtotal = 0.0;  // W = sum_c w[c]
  if (weight)
    for (int64_t j = 0; j < c; ++j) wtotal += static_cast<double>(weight[j]);
  else
    wtotal = static_cast<double>(c);
  const double smooth = eps / static_cast<double>(c);
  const simd::Kernels<T>& k = simd::kernels_for<T>();
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
    T mx = k.row_max(xi, c);
    double wx = 0.0;  // sum_c w[c] x[c], for the smoothing term
    if (eps > 0.0) {
      for (int64_t j = 0; j < c; ++j) wx += (weight ? static_cast<double>(weight[j]) : 1.0) * static_cast<double>(xi[j]);
    }
    if (std::isinf(mx)) mx = T(0);  // all -inf (or a +inf): no shift rather than inf - inf
    T* e = gi ? gi : scratch.data();
    const double s = k.exp_shift_sum(xi, mx, e, c);
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
        k.scale(gi, a, c);
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
