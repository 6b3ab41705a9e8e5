// The shared front of the two-input elementwise families (arithmetic.cpp, remainder.cpp,
// inverse_trig.cpp): broadcasting, torch's dtype promotion and one loop over the computing dtype
// (float32, float64, or int64 for every integer dtype, converted back).
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
  // Bools and the narrow integers compute in int64 and convert back: the same results (integer
  // + - * wrap the same way modulo 2^8/2^16/2^32, max/min are exact), with one kernel per op for
  // all of them instead of five (compile time and binary size).
  const DType compute = is_floating(dt) ? dt : DType::Int64;
  // (Through dt first: a 0-d int64 operand of an int8 op is an int8 value, as in torch.)
  Tensor x = cast_data(cast_data(a, dt), compute), y = cast_data(cast_data(b, dt), compute);
  Tensor out = GD_DISPATCH_FLOAT_INT64(compute, name, [&] {
    return map_binary<scalar_t>(x, y, shape, compute, f.template operator()<scalar_t>());
  });
  return cast_data(out, dt);
}
#define GD_BINARY_MAP_FN(expr) []<typename T>() { return [](T x, T y) -> T { return expr; }; }

}  // namespace gdcore::detail
