// floor, ceil, round (half to even) and trunc. Piecewise constant, so their gradient is 0
// everywhere (torch's convention at the jumps too); an integer input is already whole and
// comes back as a copy of its dtype; bool has no rounding (torch: not implemented for 'Bool').
#include <cmath>

#include "gdcore/ops_math.hpp"
#include "ops/unary_map.hpp"

namespace gdcore {
using namespace detail;

namespace {
std::vector<Tensor> zero_backward(Node& n, const Tensor&) { return {zeros(n.input_shapes[0], n.input_dtypes[0])}; }
const OpDef kFloor{"FloorBackward", zero_backward};
const OpDef kCeil{"CeilBackward", zero_backward};
const OpDef kRound{"RoundBackward", zero_backward};
const OpDef kTrunc{"TruncBackward", zero_backward};

template <typename F>
Tensor rounding(const OpDef& op, const Tensor& a, const char* name, F f) {
  if (a.defined() && a.dtype() == DType::Bool)
    throw std::runtime_error(std::string(name) + ": not implemented for bool tensors; convert with .long() or .float() first");
  if (a.defined() && !is_floating(a.dtype())) {
    // (a traced copy, recorded as a value for gdcore.compile; never a node)
    Tensor out = GD_DISPATCH_INTEGRAL_AND_BOOL(a.dtype(), name, [&] {
      return map_unary<scalar_t>(a, a.dtype(), [](scalar_t v) { return v; });
    });
    record_value(op, {a}, out);
    return out;
  }
  return record_unary(op, a, float_map(a, name, f), Keep::Nothing);
}
}  // namespace

Tensor floor(const Tensor& a) { return rounding(kFloor, a, "floor", GD_MAP_FN(std::floor(x))); }
Tensor ceil(const Tensor& a) { return rounding(kCeil, a, "ceil", GD_MAP_FN(std::ceil(x))); }
// std::nearbyint rounds in the current mode, round-to-nearest-even by default (as torch.round).
Tensor round(const Tensor& a) { return rounding(kRound, a, "round", GD_MAP_FN(std::nearbyint(x))); }
Tensor trunc(const Tensor& a) { return rounding(kTrunc, a, "trunc", GD_MAP_FN(std::trunc(x))); }

}  // namespace gdcore
