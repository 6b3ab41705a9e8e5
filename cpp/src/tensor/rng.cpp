// The random number generator and the random tensor factories built on it.
// PCG-XSL-RR 128/64 (O'Neill 2014): a 128-bit LCG with a permuted 64-bit output.
// Documented here and in gdcore/rng.hpp (the draws, inline) so that results are reproducible from the
// algorithm alone.
#include "gdcore/rng.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <stdexcept>

#include "gdcore/grad_mode.hpp"
#include "gdcore/ops.hpp"

namespace gdcore {

void Generator::manual_seed(uint64_t seed) {
  seed_ = seed;
  state_ = 0;
  next_u64();
  state_ += seed;
  next_u64();
  has_spare_ = false;
}

double Generator::normal() {
  // Box-Muller: two uniforms give two independent normals; the second is kept for the next call.
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(2.0 * M_PI * u2);
  has_spare_ = true;
  return r * std::cos(2.0 * M_PI * u2);
}

Generator::State Generator::get_state() const {
  return {static_cast<uint64_t>(state_ >> 64), static_cast<uint64_t>(state_), seed_, has_spare_, spare_};
}

void Generator::set_state(const State& s) {
  state_ = (static_cast<unsigned __int128>(s.hi) << 64) | s.lo;
  seed_ = s.seed;
  has_spare_ = s.has_spare;
  spare_ = s.spare;
}

Generator& default_generator() {
  thread_local Generator gen(0);
  return gen;
}

namespace {
Generator& pick(Generator* gen) { return gen ? *gen : default_generator(); }

// The checks every in-place op makes: writable memory, and no leaf that requires grad
// (nn.init fills parameters under no_grad, as torch's does).
void check_fillable(const Tensor& t, const char* name) {
  if (!t.impl()->storage->writable())
    throw std::invalid_argument(std::string(name) + ": the tensor is read-only (it shares memory with a read-only "
                                "numpy array); clone() it or pass a writable array");
  check_no_internal_overlap(t, name);
  if (GradMode::is_enabled() && t.requires_grad()) {
    if (t.is_leaf())
      throw std::runtime_error(std::string("a leaf tensor that requires grad is being used in an in-place operation (") +
                               name + "); do it under gdcore.no_grad() or on .data");
    // The new values depend on nothing: drop the history (as fill_ does).
    t.impl()->grad_fn.reset();
    t.impl()->requires_grad = false;
  }
}

// A double as Python prints it (nan, inf, 0.5), for messages.
std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

template <typename Draw>
void fill_with(const Tensor& t, const char* name, Draw draw) {
  check_fillable(t, name);
  Tensor c = t.contiguous();
  GD_DISPATCH_FLOAT(t.dtype(), "random fill", [&] {
    scalar_t* p = c.data<scalar_t>();
    const int64_t n = c.numel();
    for (int64_t k = 0; k < n; ++k) p[k] = static_cast<scalar_t>(draw());
  });
  if (c.get() != t.get()) copy_into(t, c);
  t.bump_version();
}
}  // namespace

void uniform_(const Tensor& t, double low, double high, Generator* gen) {
  // Non-finite bounds would fill inf/nan silently (and inf - inf is nan): refuse them, as torch does.
  if (!std::isfinite(low) || !std::isfinite(high))
    throw std::invalid_argument("uniform_: the bounds must be finite numbers, got from=" + number_text(low) +
                                " to=" + number_text(high));
  if (!(low <= high))
    throw std::invalid_argument("uniform_: expected from <= to, got from=" + number_text(low) + " to=" + number_text(high) +
                                "; swap them");
  if (!std::isfinite(high - low))
    throw std::invalid_argument("uniform_: the range to - from = " + number_text(high) + " - " + number_text(low) +
                                " overflows a double; use a narrower range");
  Generator& g = pick(gen);
  fill_with(t, "uniform_", [&] { return low + (high - low) * g.uniform(); });
}

void normal_(const Tensor& t, double mean, double std, Generator* gen) {
  if (!std::isfinite(mean)) throw std::invalid_argument("normal_: mean must be a finite number, got " + number_text(mean));
  if (!(std >= 0.0) || !std::isfinite(std))
    throw std::invalid_argument("normal_: std must be a finite number >= 0, got " + number_text(std));
  Generator& g = pick(gen);
  fill_with(t, "normal_", [&] { return mean + std * g.normal(); });
}

Tensor rand(const Shape& shape, DType dtype, Generator* gen) {
  Tensor t = Tensor::empty(shape, dtype);
  uniform_(t, 0.0, 1.0, gen);
  return t;
}

Tensor randn(const Shape& shape, DType dtype, Generator* gen) { return normal(0.0, 1.0, shape, dtype, gen); }

Tensor normal(double mean, double std, const Shape& shape, DType dtype, Generator* gen) {
  Tensor t = Tensor::empty(shape, dtype);
  normal_(t, mean, std, gen);
  return t;
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator* gen) {
  if (high <= low)
    throw std::invalid_argument("randint: expected low < high, got low=" + std::to_string(low) + " high=" + std::to_string(high));
  Generator& g = pick(gen);
  Tensor t = Tensor::empty(shape, dtype);
  const uint64_t span = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  GD_DISPATCH_ALL(dtype, "randint", [&] {
    scalar_t* p = t.data<scalar_t>();
    const int64_t n = t.numel();
    for (int64_t k = 0; k < n; ++k) p[k] = static_cast<scalar_t>(low + static_cast<int64_t>(g.below(span)));
  });
  return t;
}

Tensor randperm(int64_t n, DType dtype, Generator* gen) {
  if (n < 0) throw std::invalid_argument("randperm: n must be non-negative, got " + std::to_string(n));
  Generator& g = pick(gen);
  // The work buffer is a tensor, so that a too-large n is a MemoryError that says so.
  Tensor work = Tensor::empty({n}, DType::Int64);
  int64_t* perm = work.data<int64_t>();
  for (int64_t k = 0; k < n; ++k) perm[k] = k;
  // Fisher-Yates, from the top. The swap partners of a block of steps are drawn first (the same draws in the
  // same order) and their slots prefetched: on a large n each swap is otherwise a cache miss behind a division.
  constexpr int64_t kBlock = 32;
  int64_t partner[kBlock];
  for (int64_t top = n - 1; top > 0; top -= kBlock) {
    const int64_t steps = std::min(kBlock, top);
    for (int64_t s = 0; s < steps; ++s) {
      partner[s] = static_cast<int64_t>(g.below(static_cast<uint64_t>(top - s + 1)));
      __builtin_prefetch(perm + partner[s], 1);
    }
    for (int64_t s = 0; s < steps; ++s) std::swap(perm[top - s], perm[partner[s]]);
  }
  if (dtype == DType::Int64) return work;
  Tensor t = Tensor::empty({n}, dtype);
  GD_DISPATCH_ALL(dtype, "randperm", [&] {
    scalar_t* p = t.data<scalar_t>();
    for (int64_t k = 0; k < n; ++k) p[k] = static_cast<scalar_t>(perm[k]);
  });
  return t;
}

}  // namespace gdcore
