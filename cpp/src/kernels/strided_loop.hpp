// The one N-d loop every elementwise kernel uses: walks a shape with N operands,
// each with its own element strides (0 for a broadcast dim), and hands the innermost
// row to `inner(ptr offsets, length, inner strides)` so that row loops vectorise.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace gdcore::kernels {

// `shape` is any contiguous list of sizes with size() and operator[] (gdcore::Shape or a
// std::vector), taken as it is: a conversion would allocate on every call.
template <size_t N, typename Sizes, typename Inner>
void strided_loop(const Sizes& shape, const std::array<const int64_t*, N>& strides, std::array<int64_t, N> offsets,
                  Inner&& inner) {
  const size_t nd = shape.size();
  if (nd == 0) {
    std::array<int64_t, N> ones{};
    inner(offsets, int64_t{1}, ones);
    return;
  }
  for (int64_t s : shape)
    if (s == 0) return;
  std::array<int64_t, N> inner_strides;
  for (size_t k = 0; k < N; ++k) inner_strides[k] = strides[k][nd - 1];
  const int64_t row = shape[nd - 1];
  // The odometer's digits: on the stack for up to 8 dims (every elementwise op runs this).
  int64_t digits[8] = {};
  std::vector<int64_t> more;
  int64_t* counter = digits;
  if (nd > 8) {
    more.assign(nd, 0);
    counter = more.data();
  }
  while (true) {
    inner(offsets, row, inner_strides);
    // Advance the outer dims like an odometer.
    int64_t d = static_cast<int64_t>(nd) - 2;
    for (; d >= 0; --d) {
      for (size_t k = 0; k < N; ++k) offsets[k] += strides[k][d];
      if (++counter[d] < shape[d]) break;
      for (size_t k = 0; k < N; ++k) offsets[k] -= strides[k][d] * shape[d];
      counter[d] = 0;
    }
    if (d < 0) return;
  }
}

}  // namespace gdcore::kernels
