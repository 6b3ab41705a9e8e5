// Tensors made from sizes and values: zeros, ones, full, arange, linspace, eye.
#include <cmath>
#include <limits>
#include <type_traits>
#include <stdexcept>
#include <string>

#include "gdcore/kernel_trace.hpp"
#include "gdcore/ops.hpp"

namespace gdcore {

void check_fits(double value, DType dtype, const char* name) {
  if (is_floating(dtype) || dtype == DType::Bool) return;
  double lo = -9223372036854775808.0, hi = 9223372036854775808.0;  // [lo, hi) for int64
  GD_DISPATCH_INTEGRAL_AND_BOOL(dtype, name, [&] {
    if constexpr (!std::is_same_v<scalar_t, int64_t> && !std::is_same_v<scalar_t, bool>) {
      lo = static_cast<double>(std::numeric_limits<scalar_t>::min());
      hi = static_cast<double>(std::numeric_limits<scalar_t>::max()) + 1.0;
    }
  });
  // (A double outside the range, or nan, has no value of the type: torch refuses it too.)
  if (!(value >= lo && value < hi))
    throw std::runtime_error(std::string(name) + ": value " + std::to_string(value) + " cannot be converted to type " +
                             dtype_name(dtype) + " without overflow (its range is [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "))");
}

Tensor full(const Shape& shape, double value, DType dtype) {
  // A double outside int64's range (or nan) has no int64 value; casting it would be undefined behaviour.
  check_fits(value, dtype, "full");
  Tensor t = Tensor::empty(shape, dtype, value == 0.0);
  if (value != 0.0) {
    GD_DISPATCH_ALL(dtype, "full", [&] {
      scalar_t* p = t.data<scalar_t>();
      const scalar_t v = cast_value<scalar_t>(value);
      const int64_t n = t.numel();
      if (trace::launch_fill(p, n, [v] { return v; })) return;
      trace::launch([p, v, n] {
        for (int64_t k = 0; k < n; ++k) p[k] = v;
      });
    });
  }
  return t;
}

Tensor scalar_tensor(double value, DType dtype) { return full({}, value, dtype); }
Tensor zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }

Tensor arange(double start, double end, double step, DType dtype) {
  if (step == 0.0 || !std::isfinite(step)) throw std::invalid_argument("arange: step must be a non-zero finite number");
  if (!std::isfinite(start) || !std::isfinite(end)) throw std::invalid_argument("arange: start and end must be finite");
  if ((end - start) / step < 0)
    throw std::invalid_argument("arange: upper bound and lower bound inconsistent with step sign (start " +
                                std::to_string(start) + ", end " + std::to_string(end) + ", step " + std::to_string(step) + ")");
  const double count = std::ceil((end - start) / step);
  if (count > 1e12) throw std::length_error("arange: " + std::to_string(count) + " elements is too many");
  const int64_t n = static_cast<int64_t>(count);
  trace::unsupported("arange");  // filled by plain loops, never part of a lowered step
  Tensor t = Tensor::empty({n}, dtype);
  GD_DISPATCH_ALL(dtype, "arange", [&] {
    scalar_t* p = t.data<scalar_t>();
    for (int64_t k = 0; k < n; ++k) p[k] = cast_value<scalar_t>(start + static_cast<double>(k) * step);
  });
  return t;
}

Tensor linspace(double start, double end, int64_t steps, DType dtype) {
  if (steps < 0) throw std::invalid_argument("linspace: number of steps must be non-negative, got " + std::to_string(steps));
  trace::unsupported("linspace");
  Tensor t = Tensor::empty({steps}, dtype);
  GD_DISPATCH_ALL(dtype, "linspace", [&] {
    scalar_t* p = t.data<scalar_t>();
    const double delta = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
    // Fill from both ends (as torch does) so that the last value is exactly `end`.
    // (steps == 1 gives just `start`, as in torch and numpy.)
    const int64_t half = steps == 1 ? 1 : steps / 2;
    for (int64_t k = 0; k < steps; ++k)
      p[k] = cast_value<scalar_t>(k < half ? start + delta * static_cast<double>(k)
                                           : end - delta * static_cast<double>(steps - 1 - k));
  });
  return t;
}

Tensor eye(int64_t n, int64_t m, DType dtype) {
  if (n < 0 || m < 0) throw std::invalid_argument("eye: sizes must be non-negative, got " + std::to_string(n) + " and " + std::to_string(m));
  trace::unsupported("eye");
  Tensor t = zeros({n, m}, dtype);
  GD_DISPATCH_ALL(dtype, "eye", [&] {
    scalar_t* p = t.data<scalar_t>();
    for (int64_t k = 0; k < std::min(n, m); ++k) p[k * m + k] = scalar_t(1);
  });
  return t;
}

}  // namespace gdcore
