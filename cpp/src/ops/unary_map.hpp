// The shared front of the elementwise families outside unary.cpp (rounding.cpp,
// special.cpp): a float map over the input (int64 computes in float32, as torch does) and
// the recording of a one-input op with the tensor its backward rule needs.
#pragma once
#include <string>

#include "ops/elementwise.hpp"

namespace gdcore::detail {

template <typename F>
Tensor float_map(const Tensor& a, const char* name, F f) {
  if (!a.defined()) throw std::invalid_argument(std::string(name) + ": got an undefined tensor");
  const DType dt = float_dtype(a.dtype());
  Tensor x = cast_data(a, dt);
  return GD_DISPATCH_FLOAT(dt, name, [&] { return map_unary<scalar_t>(x, dt, f.template operator()<scalar_t>()); });
}
#define GD_MAP_FN(expr) []<typename T>() { return [](T x) -> T { return expr; }; }

enum class Keep { Input, Output, Nothing };
inline Tensor record_unary(const OpDef& op, const Tensor& a, Tensor out, Keep keep) {
  if (auto node = record(op, {a}, out)) {
    if (keep == Keep::Input) save(*node, a);
    if (keep == Keep::Output) save(*node, out, /*is_output=*/true);
  }
  return out;
}

}  // namespace gdcore::detail
