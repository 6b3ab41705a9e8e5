// The shared front of the two-input elementwise families outside arithmetic.cpp
// (remainder.cpp, inverse_trig.cpp): broadcasting, torch's dtype promotion and one loop over
// the computing dtype (float32, float64, or int64 for every integer dtype, converted back).
#pragma once
#include <string>

#include "ops/elementwise.hpp"

namespace gdcore::detail {

// f over the promoted dtype of a and b; `float_only` makes integers compute (and return) float32.
template <typename F>
Tensor binary_map(const Tensor& a, const Tensor& b, const char* name, bool float_only, F f) {
  if (!a.defined() || !b.defined()) throw std::invalid_argument(std::string(name) + ": got an undefined tensor");
  DType dt = result_dtype(a, b);
  if (float_only) dt = float_dtype(dt);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const DType compute = is_floating(dt) ? dt : DType::Int64;
  Tensor x = cast_data(cast_data(a, dt), compute), y = cast_data(cast_data(b, dt), compute);
  Tensor out = GD_DISPATCH_FLOAT_INT64(compute, name, [&] {
    return map_binary<scalar_t>(x, y, shape, compute, f.template operator()<scalar_t>());
  });
  return cast_data(out, dt);
}
#define GD_BINARY_MAP_FN(expr) []<typename T>() { return [](T x, T y) -> T { return expr; }; }

}  // namespace gdcore::detail
