/* The bandwidth reference of the kernel benchmarks: the same float32 updates that
 * gdcore's kernels do, written as the plain C loop anyone would write, compiled by
 * the benchmark runner itself (cc -O3 -march=native -fopenmp) and run on two threads.
 * Each function does exactly the memory traffic of its gdcore counterpart, so
 * "gdcore / this" says how close gdcore gets to what the machine can do.
 * Not part of gdcore: it exists only to be timed (see benchmarks/c_reference.py). */
#include <math.h>
#include <stdint.h>

#ifndef THREADS
#define THREADS 2
#endif

/* p -= lr * g: reads p and g, writes p (12 bytes per element). */
void ref_sgd(float* restrict p, const float* restrict g, int64_t n, float lr) {
#pragma omp parallel for simd num_threads(THREADS) schedule(static)
  for (int64_t i = 0; i < n; ++i) p[i] -= lr * g[i];
}

/* b = momentum * b + g; p -= lr * b: reads p, g, b, writes p, b (20 bytes per element). */
void ref_momentum(float* restrict p, const float* restrict g, float* restrict b, int64_t n, float lr, float momentum) {
#pragma omp parallel for simd num_threads(THREADS) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float v = momentum * b[i] + g[i];
    b[i] = v;
    p[i] -= lr * v;
  }
}

/* Adam: reads p, g, m, v, writes p, m, v (28 bytes per element). */
void ref_adam(float* restrict p, const float* restrict g, float* restrict m, float* restrict v, int64_t n,
              float step_size, float inv_bias2_sqrt, float beta1, float beta2, float eps) {
#pragma omp parallel for simd num_threads(THREADS) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float mi = beta1 * m[i] + (1.0f - beta1) * g[i];
    const float vi = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (sqrtf(vi) * inv_bias2_sqrt + eps);
  }
}

/* Mean squared error and its gradient in one pass: reads x and y, writes grad
 * (12 bytes per element). The sum of squares is gdcore's: each difference taken again in
 * double ((double)x - (double)y, not the float difference widened, which can lose all its
 * digits when x and y are far apart) and squared and added in double. */
double ref_mse(const float* restrict x, const float* restrict y, float* restrict grad, int64_t n) {
  const float scale = (float)(2.0 / (double)n);
  double acc = 0.0;
#pragma omp parallel for simd num_threads(THREADS) schedule(static) reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) {
    grad[i] = scale * (x[i] - y[i]);
    const double d = (double)x[i] - (double)y[i];
    acc += d * d;
  }
  return acc / (double)n;
}

/* glibc's libmvec has vector versions of expf (_ZGV*_expf); its headers only announce them
 * under -ffast-math, so announce them here: the exp loop below then runs 16 lanes at a time
 * (AVX-512) or 8 (AVX2) instead of calling expf once per logit. */
#pragma omp declare simd notinbranch
float expf(float);

/* cross_entropy (mean over rows, class-index targets) and its gradient for m rows of c
 * float32 logits: per row the maximum, the shifted exponentials (kept in the gradient row)
 * and their sum, then softmax minus the one-hot, divided by m. Reads x once and writes grad
 * once from memory (8 bytes per logit; the later passes over a row find it in cache).
 * Returns the mean loss. */
double ref_cross_entropy(const float* restrict x, const int64_t* restrict target, float* restrict grad, int64_t m,
                         int64_t c) {
  double total = 0.0;
  const float inv_m = (float)(1.0 / (double)m);
#pragma omp parallel for num_threads(THREADS) schedule(static) reduction(+ : total)
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * c;
    float* gi = grad + i * c;
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < c; ++j) mx = xi[j] > mx ? xi[j] : mx;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < c; ++j) {
      gi[j] = expf(xi[j] - mx);
      s += gi[j];
    }
    const float a = inv_m / s;
    for (int64_t j = 0; j < c; ++j) gi[j] *= a;
    gi[target[i]] -= inv_m;
    total += (double)mx + log((double)s) - (double)xi[target[i]];
  }
  return total / (double)m;
}

/* One epoch of per-sample SGD for linear regression, float64, the loop anyone would write
 * (one thread: each sample's update depends on the one before). For each row r of
 * order[0..count): diff = X[r] . w + b - y[r], loss = diff^2 / 2, then w -= lr * diff * X[r]
 * and b -= lr * diff (the gradient of the loss). The losses are stored, as run_epoch does.
 * The reference for train.per_sample_sgd's compiled gdcore row. */
void ref_per_sample_sgd(const double* restrict X, const double* restrict y, const int64_t* restrict order,
                        int64_t count, int64_t features, double* restrict w, double* restrict b, double lr,
                        double* restrict losses) {
  double bias = *b;
  for (int64_t s = 0; s < count; ++s) {
    const double* restrict x = X + order[s] * features;
    double pred = bias;
    for (int64_t j = 0; j < features; ++j) pred += x[j] * w[j];
    const double diff = pred - y[order[s]];
    losses[s] = diff * diff / 2;
    const double step = lr * diff;
    for (int64_t j = 0; j < features; ++j) w[j] -= step * x[j];
    bias -= step;
  }
  *b = bias;
}
