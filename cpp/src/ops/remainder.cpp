// remainder (Python's %), fmod (C's) and floor_divide (Python's //), for integer and float
// dtypes with torch's promotion, each forward beside its backward rule.
#include <cmath>
#include <type_traits>

#include "gdcore/ops_math.hpp"
#include "gdcore/ops_pointwise.hpp"
#include "ops/binary_map.hpp"

namespace gdcore {
using namespace detail;

namespace {

// The integer loops never divide by zero or compute INT64_MIN / -1 (both undefined in C++, the
// first a crash): a zero divisor is refused before the loop (check_divisor), and the loops map
// it to 0 anyway, so that a replay by gdcore.compile with new values cannot crash either.
template <typename T> T remainder_of(T x, T y) {
  if constexpr (std::is_floating_point_v<T>) {
    T r = std::fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
  } else {
    if (y == 0 || y == -1) return 0;
    T r = x % y;
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
  }
}

template <typename T> T fmod_of(T x, T y) {
  if constexpr (std::is_floating_point_v<T>) return std::fmod(x, y);
  else return (y == 0 || y == -1) ? T(0) : T(x % y);
}

// torch's div_floor: for floats the quotient of the exact remainder, rounded (CPython's float //).
template <typename T> T floor_divide_of(T x, T y) {
  if constexpr (std::is_floating_point_v<T>) {
    if (y == 0) return x / y;
    const T mod = std::fmod(x, y);
    T div = (x - mod) / y;
    if (mod != 0 && ((y < 0) != (mod < 0))) div -= 1;
    if (div == 0) return std::copysign(T(0), x / y);
    T floordiv = std::floor(div);
    if (div - floordiv > T(0.5)) floordiv += 1;
    return floordiv;
  } else {
    if (y == 0) return 0;
    if (y == -1) return static_cast<T>(0ULL - static_cast<uint64_t>(x));  // wraps at INT64_MIN, as torch
    T q = x / y;
    if (x % y != 0 && ((x < 0) != (y < 0))) q -= 1;
    return q;
  }
}

void check_operands(const Tensor& a, const Tensor& b, const char* name) {
  if (!a.defined() || !b.defined()) throw std::invalid_argument(std::string(name) + ": got an undefined tensor");
  if (a.dtype() == DType::Bool && b.dtype() == DType::Bool)
    throw std::runtime_error(std::string(name) + ": not implemented for two bool tensors; convert with .long() first");
  if (is_floating(result_dtype(a, b))) return;
  bool zero = false;  // integer division by zero: torch raises "ZeroDivisionError" as a RuntimeError
  Tensor d = cast_data(b, DType::Int64).contiguous();
  const int64_t* p = d.data<int64_t>();
  for (int64_t k = 0, n = d.numel(); k < n && !zero; ++k) zero = p[k] == 0;
  if (zero)
    throw std::runtime_error(std::string("ZeroDivisionError: ") + name +
                             " of integer tensors by zero; divide floats (x.float()) to get inf or nan instead");
}

// d/da = 1; d/db = -round(a / b), with the rounding of the op (no gradient of its own, as in torch).
template <Tensor (*Round)(const Tensor&, const Tensor&)>
std::vector<Tensor> rounding_backward(Node& n, const Tensor& g) {
  return {GD_GRAD_IF(n, 0, sum_to(g, n.input_shapes[0])),
          GD_GRAD_IF(n, 1, sum_to(neg(mul(g, Round(n.saved_tensor(0).detach(), n.saved_tensor(1).detach()))),
                                  n.input_shapes[1]))};
}
Tensor trunc_divide(const Tensor& a, const Tensor& b) { return gdcore::trunc(div(a, b)); }

const OpDef kRemainder{"RemainderBackward", rounding_backward<floor_divide>};
const OpDef kFmod{"FmodBackward", rounding_backward<trunc_divide>};

std::vector<Tensor> floor_divide_backward(Node&, const Tensor&) {
  throw std::runtime_error("the derivative for 'floor_divide' is not implemented (as in torch); detach its inputs, "
                           "or use torch-style floor(a / b) if a zero gradient is meant");
}
const OpDef kFloorDivide{"FloorDivideBackward", floor_divide_backward};

Tensor finish(const OpDef& op, const Tensor& a, const Tensor& b, Tensor out, bool save_inputs) {
  if (auto node = record(op, {a, b}, out); node && save_inputs && node->needs_input_grad(1)) {
    save(*node, a);
    save(*node, b);
  }
  return out;
}

}  // namespace

Tensor remainder(const Tensor& a, const Tensor& b) {
  check_operands(a, b, "remainder");
  return finish(kRemainder, a, b, binary_map(a, b, "remainder", false, GD_BINARY_MAP_FN(remainder_of<T>(x, y))), true);
}

Tensor fmod(const Tensor& a, const Tensor& b) {
  check_operands(a, b, "fmod");
  return finish(kFmod, a, b, binary_map(a, b, "fmod", false, GD_BINARY_MAP_FN(fmod_of<T>(x, y))), true);
}

Tensor floor_divide(const Tensor& a, const Tensor& b) {
  check_operands(a, b, "floor_divide");
  return finish(kFloorDivide, a, b, binary_map(a, b, "floor_divide", false, GD_BINARY_MAP_FN(floor_divide_of<T>(x, y))),
                false);
}

}  // namespace gdcore
