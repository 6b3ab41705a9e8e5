// Shape arithmetic: numel with overflow checks, strides, broadcasting, formatting.
#include "gdcore/shape.hpp"

#include <stdexcept>

namespace gdcore {

size_t Shape::checked(size_t i) const {
  if (i >= size_)
    throw std::out_of_range("shape index " + std::to_string(i) + " out of range for " + std::to_string(size_) +
                            " dims");
  return i;
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) {
    if (s < 0) throw std::invalid_argument("negative dimension " + std::to_string(s) + " in shape " + shape_str(shape));
    if (__builtin_mul_overflow(n, s, &n))  // (a multiply and a flag: this runs for every new tensor)
      throw std::length_error("shape " + shape_str(shape) + " has more elements than fit in int64");
  }
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t acc = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    strides[d] = acc;
    acc *= shape[d] > 0 ? shape[d] : 1;
  }
  return strides;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw std::invalid_argument(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                                  " cannot be broadcast together (dimension " + std::to_string(i) + ": " +
                                  std::to_string(da) + " vs " + std::to_string(db) + ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  if (dim < lo || dim > hi)
    throw std::out_of_range(std::string(op) + ": dimension " + std::to_string(dim) + " is out of range for a " +
                            std::to_string(ndim) + "-d tensor (expected in [" + std::to_string(lo) + ", " +
                            std::to_string(hi) + "])");
  return dim < 0 ? dim + std::max<int64_t>(ndim, 1) : dim;
}

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace gdcore
