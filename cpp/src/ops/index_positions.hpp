// Shared by the indexing op families: where k index tensors (broadcast to a shape B) point
// into a target tensor, as element offsets, and the element offsets of a strided block.
// Offsets are computed inside the loops that trace::launch keeps, so a lowered replay of
// gdcore.compile checks the new index values too; every index is checked before any value
// moves, so a bad index raises without a partial write or an out-of-bounds read.
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "ops/elementwise.hpp"

namespace gdcore::detail {

// An index tensor as int64: int64 as it is; other integer dtypes through a recorded cast.
// Anything else raises IndexError (index_error, as indexing does) or RuntimeError (as gather does).
Tensor as_index_dtype(const Tensor& t, const char* op, bool index_error = true);

// Dtypes whose tensors index as boolean masks: bool, and uint8 (deprecated in torch, still a mask there).
inline bool is_mask_dtype(DType t) { return t == DType::Bool || t == DType::UInt8; }

// Throws ValueError unless a value of shape `value` broadcasts to the indexed shape `target`.
inline void check_value_shape(const Shape& value, const Shape& target) {
  bool ok = value.size() <= target.size();
  for (size_t j = 0; ok && j < value.size(); ++j) {
    const int64_t v = value[value.size() - 1 - j];
    ok = v == 1 || v == target[target.size() - 1 - j];
  }
  if (!ok)
    throw std::invalid_argument("shape mismatch: value tensor of shape " + shape_str(value) +
                                " cannot be broadcast to indexing result of shape " + shape_str(target));
}

// The offsets of the elements of a block of `shape` with `strides`, in row-major order.
inline std::vector<int64_t> element_offsets(const Shape& shape, const Shape& strides) {
  std::vector<int64_t> out(static_cast<size_t>(shape_numel(shape)));
  if (out.empty()) return out;
  size_t n = 0;
  kernels::strided_loop<1>(shape, {strides.data()}, {0}, [&](std::array<int64_t, 1> off, int64_t len, std::array<int64_t, 1> st) {
    for (int64_t j = 0; j < len; ++j) out[n++] = off[0] + j * st[0];
  });
  return out;
}

struct Positions {
  Shape bshape;                       // the broadcast shape B of the indices
  std::vector<const int64_t*> data;   // each index tensor's first element
  std::vector<Shape> strides;         // each index tensor's strides over B (0 on broadcast dims)
  Shape sizes, steps;                 // each indexed dim's size and stride in the target

  // Index tensors idx[k] for the first k dims of `target`.
  static Positions make(const std::vector<Tensor>& idx, const Shape& bshape, const Tensor& target) {
    Positions p;
    p.bshape = bshape;
    for (size_t k = 0; k < idx.size(); ++k) {
      p.data.push_back(idx[k].data<int64_t>());
      p.strides.push_back(broadcast_strides(idx[k], bshape));
      p.sizes.push_back(target.shape()[k]);
      p.steps.push_back(target.strides()[k]);
    }
    return p;
  }

  // One element offset per position of B (negative indices wrapped); throws IndexError on a bad one.
  std::vector<int64_t> offsets() const {
    std::vector<int64_t> out(static_cast<size_t>(shape_numel(bshape)));
    const size_t nd = bshape.size(), k = data.size();
    std::vector<int64_t> at(k, 0), counter(nd, 0);
    for (size_t b = 0; b < out.size(); ++b) {
      int64_t off = 0;
      for (size_t j = 0; j < k; ++j) {
        int64_t v = data[j][at[j]];
        if (v < -sizes[j] || v >= sizes[j])
          throw std::out_of_range("index " + std::to_string(v) + " is out of bounds for dimension " +
                                  std::to_string(j) + " with size " + std::to_string(sizes[j]));
        off += (v < 0 ? v + sizes[j] : v) * steps[j];
      }
      out[b] = off;
      for (size_t d = nd; d-- > 0;) {
        for (size_t j = 0; j < k; ++j) at[j] += strides[j][d];
        if (++counter[d] < bshape[d]) break;
        for (size_t j = 0; j < k; ++j) at[j] -= strides[j][d] * bshape[d];
        counter[d] = 0;
      }
    }
    return out;
  }
};

}  // namespace gdcore::detail
