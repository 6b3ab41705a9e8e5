// searchsorted (and bucketize through it): for each value, the position in a sorted sequence
// where it would be inserted to keep the order (torch's semantics: `right` picks the last such
// position; NaN counts as larger than every number). No gradient (the result is an index);
// recorded for gdcore.compile, and its loop runs through trace::launch, so a replay recomputes
// it from new values.
#include <cmath>

#include "gdcore/capture.hpp"
#include "gdcore/ops_pointwise.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

const OpDef kSearchSorted{"SearchSorted", no_backward};

// The first index in [0, n) whose element is >= v (> v when `right`), written as torch's loop so
// NaNs (in the row or as v) land where torch puts them.
template <typename T>
int64_t insertion_point(const T* row, int64_t n, T v, bool right) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    const bool go_right = right ? !(row[mid] > v) : !(row[mid] >= v);
    if (go_right) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

std::string shape_text(const Shape& s) { return shape_str(s); }

}  // namespace

Tensor searchsorted(const Tensor& sorted_sequence, const Tensor& values, bool right, bool out_int32) {
  if (!sorted_sequence.defined() || !values.defined()) throw std::invalid_argument("searchsorted: got an undefined tensor");
  const Tensor& seq = sorted_sequence;
  if (seq.dim() == 0) throw std::runtime_error("searchsorted(): boundaries tensor should have at least 1 dimension, got a 0-d tensor");
  if (seq.dim() > 1) {  // (..., n) boundaries for (..., m) values: the leading dims must match
    const bool ok = values.dim() == seq.dim() &&
                    std::equal(seq.shape().begin(), seq.shape().end() - 1, values.shape().begin());
    if (!ok)
      throw std::runtime_error("searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of "
                               "boundaries tensor and input value tensor must match, but we got boundaries tensor " +
                               shape_text(seq.shape()) + " and input value tensor " + shape_text(values.shape()));
  }
  if (seq.dtype() == DType::Bool || values.dtype() == DType::Bool)
    throw std::runtime_error("searchsorted(): bool tensors are not supported; convert with .long() or .float()");
  const DType compute = is_floating(promote(seq.dtype(), values.dtype())) ? DType::Float64 : DType::Int64;
  const Tensor s = cast_data(seq, compute).contiguous(), v = cast_data(values, compute).contiguous();
  const int64_t n = seq.shape().back();
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < seq.dim(); ++d) rows *= seq.shape()[d];
  if (out_int32 && n > INT32_MAX)
    throw std::runtime_error("searchsorted(): out_int32=True but the boundaries have more than 2**31 - 1 elements");
  const int64_t per_row = seq.dim() == 1 ? values.numel() : (values.dim() == 0 ? 1 : values.shape().back());
  Tensor out = Tensor::empty(values.shape(), out_int32 ? DType::Int32 : DType::Int64);
  GD_DISPATCH_FLOAT_INT64(compute, "searchsorted", [&] {
    trace::launch([sp = s.data<scalar_t>(), vp = v.data<scalar_t>(), o64 = out_int32 ? nullptr : out.data<int64_t>(),
                   o32 = out_int32 ? out.data<int32_t>() : nullptr, n, rows, per_row, right] {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = 0; k < per_row; ++k) {
          const int64_t pos = insertion_point(sp + r * n, n, vp[r * per_row + k], right);
          if (o64) o64[r * per_row + k] = pos;
          else o32[r * per_row + k] = static_cast<int32_t>(pos);
        }
    });
  });
  OpAttrs attrs;
  attrs.ints = {right ? 1 : 0, out_int32 ? 1 : 0};
  record_value(kSearchSorted, {sorted_sequence, values}, out, std::move(attrs));
  return out;
}

}  // namespace gdcore
