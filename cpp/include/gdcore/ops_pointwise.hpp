// Elementwise ops of the breadth round (issue 11, "everyday PyTorch code"): integer-style
// division and the inverse trigonometric and hyperbolic functions. Same rules as ops.hpp:
// each records a Node when a gradient is needed, its backward rule sits beside its forward
// (ops/remainder.cpp, ops/inverse_trig.cpp) and is written with differentiable ops.
#pragma once
#include "gdcore/ops.hpp"

namespace gdcore {

// ---- division with rounding (ops/remainder.cpp); int dtypes stay int, torch's promotion ----
// a - b * floor(a / b): the sign of b (Python's %). Gradient 1 for a, -floor(a / b) for b.
Tensor remainder(const Tensor& a, const Tensor& b);
// a - b * trunc(a / b): the sign of a (C's fmod). Gradient 1 for a, -trunc(a / b) for b.
Tensor fmod(const Tensor& a, const Tensor& b);
// floor(a / b) (Python's //; torch 2.x rounds down). Its backward raises, as torch's does.
// Integer division by zero raises std::runtime_error ("ZeroDivisionError ...", as torch) in all three.
Tensor floor_divide(const Tensor& a, const Tensor& b);

// ---- inverse trigonometric and hyperbolic functions, exp2, atan2, hypot (ops/inverse_trig.cpp) ----
// Integer inputs compute in float32, as torch does; outside the domain the result is NaN.
Tensor asin(const Tensor& a);
Tensor acos(const Tensor& a);
Tensor atan(const Tensor& a);
Tensor asinh(const Tensor& a);
Tensor acosh(const Tensor& a);
Tensor atanh(const Tensor& a);
Tensor exp2(const Tensor& a);
Tensor atan2(const Tensor& a, const Tensor& b);  // the angle of the point (b, a), in (-pi, pi]
Tensor hypot(const Tensor& a, const Tensor& b);  // sqrt(a^2 + b^2) without overflow

// ---- binary search (ops/bucketize.cpp), no gradient ----
// For each value, the index in the sorted last dim of `sorted_sequence` where it would be inserted
// (after equal elements when `right`). sorted_sequence 1-d (any values shape) or (..., n) with
// values (..., m) of the same leading dims. int64 result, or int32 with out_int32.
Tensor searchsorted(const Tensor& sorted_sequence, const Tensor& values, bool right = false, bool out_int32 = false);

}  // namespace gdcore
