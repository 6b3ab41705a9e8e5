// im2col/col2im and the max-pool window scan. The loops run row by row of the unfolded
// matrix; the padding is worked out once per kernel column (the range of output columns
// that read real pixels), so with stride 1 each row is a zero fill and a plain copy.
#include "kernels/conv.hpp"
#include "kernels/simd/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gdcore::kernels {

namespace {
// The output columns j whose input column j*stride_w - pad_w + q lies inside [0, width):
// the range [lo, hi) (empty when lo >= hi).
struct ColumnRange {
  int64_t lo, hi;
};
ColumnRange valid_columns(const Window2d& w, int64_t q) {
  const int64_t first = w.pad_w - q;  // first >= 0 x: j * stride_w >= first
  const int64_t lo = first <= 0 ? 0 : (first + w.stride_w - 1) / w.stride_w;
  const int64_t last = w.width - 1 + w.pad_w - q;  // last x < width: j * stride_w <= last
  const int64_t hi = last < 0 ? 0 : std::min(w.out_w, last / w.stride_w + 1);
  return {std::min(lo, w.out_w), std::max(hi, std::min(lo, w.out_w))};
}
}  // namespace

namespace {
// im2col for stride 1 and no padding (LeNet-5's layers, the d2l LeNet's second): every window lies
// inside the plane, so row (c, p, q) is out_h runs of out_w pixels with no fill and no bounds to
// work out. LeNet's widths (28 and 10) copy with a fixed-length loop that the compiler unrolls,
// instead of a runtime-length loop with a scalar tail per run; other widths take that plain loop.
template <typename T, int64_t Width>
void unfold_unpadded_rows(const T* src, int64_t width, int64_t out_h, int64_t out_w, T* dst) {
  for (int64_t i = 0; i < out_h; ++i) {
    const T* __restrict line = src + i * width;
    T* __restrict out = dst + i * out_w;
    if constexpr (Width > 0)
      for (int64_t j = 0; j < Width; ++j) out[j] = line[j];
    else
      for (int64_t j = 0; j < out_w; ++j) out[j] = line[j];
  }
}

template <typename T>
bool im2col_unpadded_stride1(const T* image, int64_t channels, const Window2d& w, T* cols, int64_t row_stride) {
  if (w.stride_h != 1 || w.stride_w != 1 || w.pad_h != 0 || w.pad_w != 0) return false;
  auto run = [&](auto unfold) {
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t p = 0; p < w.kernel_h; ++p)
        for (int64_t q = 0; q < w.kernel_w; ++q)
          unfold(image + (c * w.height + p) * w.width + q, w.width, w.out_h, w.out_w,
                 cols + ((c * w.kernel_h + p) * w.kernel_w + q) * row_stride);
  };
  switch (w.out_w) {
    case 10: run(unfold_unpadded_rows<T, 10>); break;
    case 28: run(unfold_unpadded_rows<T, 28>); break;
    default: run(unfold_unpadded_rows<T, 0>); break;
  }
  return true;
}

// Stride 1 with padding (the d2l LeNet's first layer, padding 2): the image is copied once into a
// zero-bordered plane, a 1/(kh*kw) of the columns' size, and unfolded by the unpadded path; the
// per-row bounds and fills of the generic loop cost more than that copy.
template <typename T>
bool im2col_padded_stride1(const T* image, int64_t channels, const Window2d& w, T* cols, int64_t row_stride) {
  if (w.stride_h != 1 || w.stride_w != 1) return false;
  // Large planes take the generic loop, without a big scratch (each side checked first: with padding
  // near the 2**60 limit the product would overflow).
  if (w.height + 2 * w.pad_h > 4096 || w.width + 2 * w.pad_w > 4096) return false;
  const int64_t ph = w.height + 2 * w.pad_h, pw = w.width + 2 * w.pad_w;
  if (ph * pw > (int64_t{1} << 16)) return false;
  std::vector<T> padded(static_cast<size_t>(channels * ph * pw), T(0));
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t h = 0; h < w.height; ++h)
      std::copy_n(image + (c * w.height + h) * w.width, w.width, padded.data() + (c * ph + h + w.pad_h) * pw + w.pad_w);
  Window2d inner = w;
  inner.height = ph;
  inner.width = pw;
  inner.pad_h = inner.pad_w = 0;
  return im2col_unpadded_stride1(padded.data(), channels, inner, cols, row_stride);
}
}  // namespace

template <typename T>
void im2col(const T* image, int64_t channels, const Window2d& w, T* cols, int64_t row_stride) {
  if (im2col_unpadded_stride1(image, channels, w, cols, row_stride)) return;
  if (im2col_padded_stride1(image, channels, w, cols, row_stride)) return;
  const int64_t plane = w.height * w.width;
  for (int64_t c = 0; c < channels; ++c) {
    const T* src = image + c * plane;
    for (int64_t p = 0; p < w.kernel_h; ++p) {
      for (int64_t q = 0; q < w.kernel_w; ++q) {
        T* row = cols + ((c * w.kernel_h + p) * w.kernel_w + q) * row_stride;
        const auto [lo, hi] = valid_columns(w, q);
        for (int64_t i = 0; i < w.out_h; ++i) {
          const int64_t h = i * w.stride_h - w.pad_h + p;
          T* dst = row + i * w.out_w;
          if (h < 0 || h >= w.height) {
            std::fill(dst, dst + w.out_w, T(0));
            continue;
          }
          // Columns [lo, hi) read pixels x = j * stride_w - pad_w + q of line h; the rest is padding.
          const T* line = src + h * w.width;
          const int64_t x0 = q - w.pad_w;
          std::fill(dst, dst + lo, T(0));
          // (A plain loop for stride 1, not std::copy: rows are short, 10-30 pixels in LeNet, and
          // a memmove call per row cost more than the copy.)
          if (w.stride_w == 1)
            for (int64_t j = lo; j < hi; ++j) dst[j] = line[x0 + j];
          else
            for (int64_t j = lo; j < hi; ++j) dst[j] = line[x0 + j * w.stride_w];
          std::fill(dst + hi, dst + w.out_w, T(0));
        }
      }
    }
  }
}

namespace {
// The adjoint of unfold_unpadded_rows: adds out_h runs of out_w column entries back onto the plane.
template <typename T, int64_t Width>
void fold_unpadded_rows(const T* src, int64_t width, int64_t out_h, int64_t out_w, T* dst) {
  for (int64_t i = 0; i < out_h; ++i) {
    const T* __restrict in = src + i * out_w;
    T* __restrict line = dst + i * width;
    if constexpr (Width > 0)
      for (int64_t j = 0; j < Width; ++j) line[j] += in[j];
    else
      for (int64_t j = 0; j < out_w; ++j) line[j] += in[j];
  }
}

// col2im for stride 1 and no padding, the adjoint of im2col_unpadded_stride1; the additions onto
// each pixel run in the same order as in the generic loop below (c, p, q, then i), so the bits agree.
template <typename T>
bool col2im_unpadded_stride1(const T* cols, int64_t row_stride, int64_t channels, const Window2d& w, T* image) {
  if (w.stride_h != 1 || w.stride_w != 1 || w.pad_h != 0 || w.pad_w != 0) return false;
  auto run = [&](auto fold) {
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t p = 0; p < w.kernel_h; ++p)
        for (int64_t q = 0; q < w.kernel_w; ++q)
          fold(cols + ((c * w.kernel_h + p) * w.kernel_w + q) * row_stride, w.width, w.out_h, w.out_w,
               image + (c * w.height + p) * w.width + q);
  };
  switch (w.out_w) {
    case 10: run(fold_unpadded_rows<T, 10>); break;
    case 28: run(fold_unpadded_rows<T, 28>); break;
    default: run(fold_unpadded_rows<T, 0>); break;
  }
  return true;
}
}  // namespace

template <typename T>
void col2im(const T* cols, int64_t row_stride, int64_t channels, const Window2d& w, T* image) {
  if (col2im_unpadded_stride1(cols, row_stride, channels, w, image)) return;
  const int64_t plane = w.height * w.width;
  for (int64_t c = 0; c < channels; ++c) {
    T* dst = image + c * plane;
    for (int64_t p = 0; p < w.kernel_h; ++p) {
      for (int64_t q = 0; q < w.kernel_w; ++q) {
        const T* row = cols + ((c * w.kernel_h + p) * w.kernel_w + q) * row_stride;
        const auto [lo, hi] = valid_columns(w, q);
        for (int64_t i = 0; i < w.out_h; ++i) {
          const int64_t h = i * w.stride_h - w.pad_h + p;
          if (h < 0 || h >= w.height) continue;
          T* __restrict line = dst + h * w.width;
          const T* __restrict src = row + i * w.out_w;
          const int64_t x0 = q - w.pad_w;
          if (w.stride_w == 1)
            for (int64_t j = lo; j < hi; ++j) line[x0 + j] += src[j];
          else
            for (int64_t j = lo; j < hi; ++j) line[x0 + j * w.stride_w] += src[j];
        }
      }
    }
  }
}

namespace {
// Flat index of the largest pixel in rows [hs, he) x columns [xs, xe): the first maximum,
// or the first NaN (a NaN anywhere makes the window's max NaN, as in torch).
template <typename T>
int64_t window_argmax(const T* plane, int64_t width, int64_t hs, int64_t he, int64_t xs, int64_t xe) {
  int64_t best_at = hs * width + xs;
  T best = plane[best_at];
  if (std::isnan(best)) return best_at;
  for (int64_t h = hs; h < he; ++h) {
    for (int64_t x = xs; x < xe; ++x) {
      const T v = plane[h * width + x];
      if (std::isnan(v)) return h * width + x;
      if (v > best) {
        best = v;
        best_at = h * width + x;
      }
    }
  }
  return best_at;
}
}  // namespace

template <typename T>
void max_pool_plane(const T* plane, const Window2d& w, T* out, int64_t* arg) {
  // Windows are clipped to the plane: padding acts as -inf and is never chosen
  // (callers ensure padding <= kernel / 2, so every window holds a pixel).
  for (int64_t i = 0; i < w.out_h; ++i) {
    const int64_t h0 = i * w.stride_h - w.pad_h;
    const int64_t hs = std::max<int64_t>(h0, 0), he = std::min(h0 + w.kernel_h, w.height);
    for (int64_t j = 0; j < w.out_w; ++j) {
      const int64_t x0 = j * w.stride_w - w.pad_w;
      const int64_t xs = std::max<int64_t>(x0, 0), xe = std::min(x0 + w.kernel_w, w.width);
      const int64_t at = window_argmax(plane, w.width, hs, he, xs, xe);
      out[i * w.out_w + j] = plane[at];
      arg[i * w.out_w + j] = at;
    }
  }
}

// Calls f(hs, he, xs, xe, divisor, k) for each window k of the plane, clipped to the plane.
// Callers ensure padding <= kernel / 2, so every window holds a pixel and the padded window
// never reaches past the padded plane: with count_include_pad the divisor is the full kernel.
template <typename T, typename F>
void for_each_avg_window(const Window2d& w, bool count_include_pad, F f) {
  const T full = static_cast<T>(w.kernel_h * w.kernel_w);
  for (int64_t i = 0; i < w.out_h; ++i) {
    const int64_t h0 = i * w.stride_h - w.pad_h;
    const int64_t hs = std::max<int64_t>(h0, 0), he = std::min(h0 + w.kernel_h, w.height);
    for (int64_t j = 0; j < w.out_w; ++j) {
      const int64_t x0 = j * w.stride_w - w.pad_w;
      const int64_t xs = std::max<int64_t>(x0, 0), xe = std::min(x0 + w.kernel_w, w.width);
      const T divisor = count_include_pad ? full : static_cast<T>((he - hs) * (xe - xs));
      f(hs, he, xs, xe, divisor, i * w.out_w + j);
    }
  }
}

// 2x2 windows with stride 2 and no padding (the d2l LeNet's pooling): the windows tile the plane,
// so each output reads two pairs of neighbours in two lines. The sum runs in the generic loop's
// order (0 + top-left + top-right + bottom-left + bottom-right) and gives the same bits; the
// fixed trip counts let the compiler vectorise where the generic window loop cannot.
namespace {
bool tiles_2x2(const Window2d& w) {
  return w.kernel_h == 2 && w.kernel_w == 2 && w.stride_h == 2 && w.stride_w == 2 && w.pad_h == 0 && w.pad_w == 0;
}
}  // namespace

template <typename T>
void avg_pool_plane(const T* plane, const Window2d& w, bool count_include_pad, T* out) {
  if (tiles_2x2(w)) {
    for (int64_t i = 0; i < w.out_h; ++i) {
      const T* __restrict top = plane + 2 * i * w.width;
      const T* __restrict bottom = top + w.width;
      T* __restrict o = out + i * w.out_w;
      for (int64_t j = 0; j < w.out_w; ++j)
        o[j] = ((((T(0) + top[2 * j]) + top[2 * j + 1]) + bottom[2 * j]) + bottom[2 * j + 1]) / T(4);
    }
    return;
  }
  for_each_avg_window<T>(w, count_include_pad, [&](int64_t hs, int64_t he, int64_t xs, int64_t xe, T divisor,
                                                   int64_t k) {
    T total = 0;
    for (int64_t h = hs; h < he; ++h)
      for (int64_t x = xs; x < xe; ++x) total += plane[h * w.width + x];
    out[k] = total / divisor;
  });
}

template <typename T>
void avg_pool_plane_adjoint(const T* grad, const Window2d& w, bool count_include_pad, T* plane) {
  if (tiles_2x2(w)) {  // the windows do not overlap: each pixel gets at most one share
    for (int64_t i = 0; i < w.out_h; ++i) {
      const T* __restrict g = grad + i * w.out_w;
      T* __restrict top = plane + 2 * i * w.width;
      T* __restrict bottom = top + w.width;
      for (int64_t j = 0; j < w.out_w; ++j) {
        const T share = g[j] / T(4);
        top[2 * j] += share;
        top[2 * j + 1] += share;
        bottom[2 * j] += share;
        bottom[2 * j + 1] += share;
      }
    }
    return;
  }
  for_each_avg_window<T>(w, count_include_pad, [&](int64_t hs, int64_t he, int64_t xs, int64_t xe, T divisor,
                                                   int64_t k) {
    const T share = grad[k] / divisor;
    for (int64_t h = hs; h < he; ++h)
      for (int64_t x = xs; x < xe; ++x) plane[h * w.width + x] += share;
  });
}

template <typename T>
void channel_sums(const T* g, int64_t batch, int64_t channels, int64_t positions, T* out) {
  // Channels are independent sums: split over the kernel threads, each channel's bits are the same.
  simd::parallel_items(channels, batch * channels * positions, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (int64_t n = 0; n < batch; ++n) {
        const T* __restrict x = g + (n * channels + c) * positions;
        int64_t l = 0;
        for (; l + 4 <= positions; l += 4) {
          s0 += static_cast<double>(x[l]);
          s1 += static_cast<double>(x[l + 1]);
          s2 += static_cast<double>(x[l + 2]);
          s3 += static_cast<double>(x[l + 3]);
        }
        for (; l < positions; ++l) s0 += static_cast<double>(x[l]);
      }
      out[c] = static_cast<T>((s0 + s1) + (s2 + s3));
    }
  });
}

#define GD_CONV_KERNELS(T)                                                                              \
  template void im2col<T>(const T*, int64_t, const Window2d&, T*, int64_t);                             \
  template void col2im<T>(const T*, int64_t, int64_t, const Window2d&, T*);                             \
  template void max_pool_plane<T>(const T*, const Window2d&, T*, int64_t*);                             \
  template void avg_pool_plane<T>(const T*, const Window2d&, bool, T*);                                 \
  template void avg_pool_plane_adjoint<T>(const T*, const Window2d&, bool, T*);                         \
  template void channel_sums<T>(const T*, int64_t, int64_t, int64_t, T*);
GD_CONV_KERNELS(float)
GD_CONV_KERNELS(double)
#undef GD_CONV_KERNELS

}  // namespace gdcore::kernels
