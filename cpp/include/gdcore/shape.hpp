// Shapes and strides: row-major layout, numpy broadcasting, and the helpers that
// format them into error messages.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gdcore {

using Shape = std::vector<int64_t>;

// Product of the sizes; throws std::length_error when it overflows int64.
int64_t shape_numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
// numpy broadcasting of two shapes; throws std::invalid_argument naming both (prefixed with `op`).
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Normalise a possibly negative dim into [0, ndim); throws std::out_of_range.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
std::string shape_str(const Shape& shape);  // "(3, 4)"

}  // namespace gdcore
