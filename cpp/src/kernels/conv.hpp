// Loops behind 2-d convolution and max pooling on one (C, H, W) image in NCHW layout:
// im2col/col2im (which turn a convolution into a GEMM) and the max-pool window scan.
// Pointers and sizes in, nothing else; every array is contiguous.
#pragma once
#include <cstdint>

namespace gdcore::kernels {

// The geometry of a 2-d window sliding over an (H, W) plane with zero/-inf padding.
struct Window2d {
  int64_t height, width;        // input plane
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t pad_h, pad_w;
  int64_t out_h, out_w;         // number of window positions
};

// Unfolds `image` (channels, H, W) into columns: entry (row, l) with row = (c, p, q) and
// l = (i, j) the output position holds image[c, i*sh - ph + p, j*sw - pw + q] (0 in the padding).
// It is written at cols[row * row_stride + l] (row_stride >= L, so the columns of several
// images can sit side by side in one wider matrix).
template <typename T>
void im2col(const T* image, int64_t channels, const Window2d& w, T* cols, int64_t row_stride);

// The adjoint of im2col: adds every column entry back onto the pixel it was read from.
// Entry (row, l) is read at cols[row * row_stride + l] (row_stride >= L, so the columns of
// one image may sit inside a wider matrix holding several). `image` must be zeroed (or
// hold values to add to) beforehand.
template <typename T>
void col2im(const T* cols, int64_t row_stride, int64_t channels, const Window2d& w, T* image);

// Max over each window of one plane: out[i, j] = max of the window, arg[i, j] = its flat
// index h*W + w in the plane (the first maximum wins; NaN propagates, as in torch).
template <typename T>
void max_pool_plane(const T* plane, const Window2d& w, T* out, int64_t* arg);

// Mean over each window of one plane: out[i, j] = sum of the window's pixels / divisor, where the
// divisor is kernel_h * kernel_w (count_include_pad) or the number of pixels inside the plane.
template <typename T>
void avg_pool_plane(const T* plane, const Window2d& w, bool count_include_pad, T* out);

// The adjoint of avg_pool_plane: adds grad[i, j] / divisor onto every pixel of window (i, j).
// `plane` must be zeroed (or hold values to add to) beforehand.
template <typename T>
void avg_pool_plane_adjoint(const T* grad, const Window2d& w, bool count_include_pad, T* plane);

// The bias gradient of a convolution: out[c] = sum over n and l of g[n, c, l] for g (N, C, L), in
// double with four running sums per channel (elements l = 0, 4, 8, ...; 1, 5, 9, ...; and so on) so the
// additions do not wait on each other; the order is fixed, so every call gives the same bits.
template <typename T>
void channel_sums(const T* g, int64_t batch, int64_t channels, int64_t positions, T* out);

}  // namespace gdcore::kernels
