// dot, mv and outer: torch's checks (1-d / 2-d operands, matching sizes and dtypes) in front
// of the differentiable ops that compute them (mul + sum, matmul, a broadcast mul), so their
// gradients of every order come from those ops.
#include <string>

#include "gdcore/ops_math.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {

namespace {
void require_dim(const Tensor& t, int64_t want, const char* op, const char* what) {
  if (!t.defined()) throw std::invalid_argument(std::string(op) + ": got an undefined tensor");
  if (t.dim() != want)
    throw std::invalid_argument(std::string(op) + ": " + what + " must be " + std::to_string(want) + "-d, got shape " +
                                shape_str(t.shape()));
}
void require_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  if (a.dtype() != b.dtype())
    throw std::invalid_argument(std::string(op) + ": expected both operands to have the same dtype, got " +
                                dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()) + "; convert one with .to(dtype)");
}
}  // namespace

Tensor dot(const Tensor& a, const Tensor& b) {
  require_dim(a, 1, "dot", "input");
  require_dim(b, 1, "dot", "other");
  require_same_dtype(a, b, "dot");
  if (a.shape()[0] != b.shape()[0])
    throw std::invalid_argument("dot: inconsistent tensor size, input has " + std::to_string(a.shape()[0]) +
                                " elements and other has " + std::to_string(b.shape()[0]));
  return sum(mul(a, b));
}

Tensor mv(const Tensor& a, const Tensor& v) {
  require_dim(a, 2, "mv", "input");
  require_dim(v, 1, "mv", "vec");
  require_same_dtype(a, v, "mv");
  if (a.shape()[1] != v.shape()[0])
    throw std::invalid_argument("mv: size mismatch, input " + shape_str(a.shape()) + " and vec " + shape_str(v.shape()) +
                                ": " + std::to_string(a.shape()[1]) + " != " + std::to_string(v.shape()[0]));
  return matmul(a, v);
}

Tensor outer(const Tensor& a, const Tensor& b) {
  require_dim(a, 1, "outer", "input");
  require_dim(b, 1, "outer", "vec2");
  return mul(unsqueeze(a, 1), unsqueeze(b, 0));
}

}  // namespace gdcore
