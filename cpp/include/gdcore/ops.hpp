// The differentiable ops of the core. Each records a Node when grad mode is on and
// an input requires grad; its backward rule lives beside its forward in ops/<family>.cpp.
// Binary ops broadcast as numpy does and promote dtypes as torch does.
#pragma once
#include <array>
#include <optional>
#include <utility>
#include <vector>

#include "gdcore/tensor.hpp"

namespace gdcore {

// ---- creation (tensor/creation.cpp) -------------------------------------------------
Tensor scalar_tensor(double value, DType dtype);
Tensor zeros(const Shape& shape, DType dtype = DType::Float32);
Tensor ones(const Shape& shape, DType dtype = DType::Float32);
Tensor full(const Shape& shape, double value, DType dtype = DType::Float32);
Tensor arange(double start, double end, double step, DType dtype);
Tensor linspace(double start, double end, int64_t steps, DType dtype = DType::Float32);
Tensor eye(int64_t n, int64_t m, DType dtype = DType::Float32);

// ---- arithmetic (ops/arithmetic.cpp) ------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, double exponent);
Tensor neg(const Tensor& a);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// Scalar conveniences (the scalar takes the tensor's dtype, as a Python number does in torch).
Tensor add(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);

// ---- comparisons, no gradient (ops/compare.cpp): 1.0/0.0 in the input's float dtype ----
enum class CompareOp { Gt, Ge, Lt, Le, Eq, Ne };
Tensor compare(const Tensor& a, const Tensor& b, CompareOp op);
Tensor sign(const Tensor& a);

// ---- unary (ops/unary.cpp) ----------------------------------------------------------
Tensor abs(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor sin(const Tensor& a);
Tensor cos(const Tensor& a);
Tensor tan(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sinh(const Tensor& a);
Tensor cosh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor relu(const Tensor& a);
Tensor clamp(const Tensor& a, std::optional<double> min, std::optional<double> max);

// ---- reductions (ops/reduction.cpp); empty dims = all dims ---------------------------
Tensor sum(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor amax(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim = false);  // int64, no gradient
Tensor argmin(const Tensor& a, int64_t dim, bool keepdim = false);
// (values, indices) of max(dim)/min(dim); the gradient goes to the returned index only (ties
// are not shared, unlike amax/amin's), as in torch.
std::pair<Tensor, Tensor> max_dim(const Tensor& a, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min_dim(const Tensor& a, int64_t dim, bool keepdim = false);

// ---- matrix products (ops/matmul.cpp) -----------------------------------------------
Tensor mm(const Tensor& a, const Tensor& b);   // (n, k) @ (k, m)
Tensor bmm(const Tensor& a, const Tensor& b);  // (B, n, k) @ (B, k, m)
Tensor matmul(const Tensor& a, const Tensor& b);  // numpy matmul semantics

// ---- losses (ops/loss.cpp) ----------------------------------------------------------
enum class Reduction { None, Mean, Sum };
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

// ---- views and shape (ops/views.cpp) ------------------------------------------------
Tensor reshape(const Tensor& a, Shape shape);  // one -1 allowed; a view when strides allow
Tensor view(const Tensor& a, Shape shape);     // must be expressible as a view
Tensor flatten(const Tensor& a, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor transpose(const Tensor& a, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& a, const std::vector<int64_t>& dims);
Tensor expand(const Tensor& a, const Shape& shape);
Tensor squeeze(const Tensor& a, std::optional<int64_t> dim = std::nullopt);
Tensor unsqueeze(const Tensor& a, int64_t dim);
Tensor contiguous(const Tensor& a);  // differentiable copy when not contiguous
Tensor clone(const Tensor& a);       // differentiable copy, always
Tensor to_dtype(const Tensor& a, DType dtype);  // differentiable cast

// ---- indexing and joining (ops/indexing.cpp, ops/join.cpp) --------------------------
struct IndexItem {
  enum Kind { Int, Slice, NewAxis, Ellipsis, Tensor_ } kind = Int;
  int64_t index = 0;                     // Int
  std::optional<int64_t> start, stop;    // Slice
  int64_t step = 1;                      // Slice
  Tensor tensor;                         // Tensor_ (int64 indices)
};
Tensor index(const Tensor& a, const std::vector<IndexItem>& items);
// Rows of `a` along `dim` picked by an int64 index tensor (any shape): the batch gather.
Tensor index_select(const Tensor& a, int64_t dim, const Tensor& indices);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);

// ---- advanced indexing (ops/advanced_index.cpp) ---------------------------------------
// out[b..., r...] = a[i0[b], ..., ik-1[b], r...]: k int64 index tensors, broadcast together to a
// shape B, pick along the first k dims of `a` (numpy's advanced indexing on leading dims).
Tensor index_tensors(const Tensor& a, const std::vector<Tensor>& indices);
// A copy of `self` with self[i0[b], ..., r...] set to (accumulate: increased by) values[b..., r...];
// `values` broadcasts to B + the remaining dims. Differentiable in self and values.
Tensor index_put(const Tensor& self, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate);
void index_put_(const Tensor& self, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate);
// `self` with its basic-indexed region (the encoded items of IndexBackward) replaced by `value`.
Tensor copy_slices(const Tensor& self, const std::vector<int64_t>& encoded, const Tensor& value);
// The int64 positions of the non-zero elements of `mask`, one tensor per dim (as nonzero(as_tuple=True)).
std::vector<Tensor> mask_positions(const Tensor& mask, const char* op);

// ---- gather and scatter (ops/gather_scatter.cpp) ---------------------------------------
enum class ScatterReduce { None, Add, Multiply };
Tensor gather(const Tensor& a, int64_t dim, const Tensor& index);
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
               ScatterReduce reduce = ScatterReduce::None);
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
// (negative_indices: -1 is the last row, as in index_select, whose backward this is; torch's index_add refuses them.)
Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, double alpha = 1.0,
                 bool negative_indices = false);
Tensor take_along_dim(const Tensor& a, const Tensor& indices, std::optional<int64_t> dim);
Tensor masked_select(const Tensor& a, const Tensor& mask);
// `self` replaced by `result` in place: with autograd history, result's history becomes self's.
void write_back(const Tensor& self, const Tensor& result, const char* name);

// ---- sorting (ops/sort.cpp) ----------------------------------------------------------
struct ValuesIndices {
  Tensor values;
  Tensor indices;
};
// The order along dim as int64 positions (the first k of it when k >= 0); no gradient.
Tensor sort_indices(const Tensor& a, int64_t dim, bool descending, int64_t k = -1);
ValuesIndices sort(const Tensor& a, int64_t dim = -1, bool descending = false, bool stable = false);
Tensor argsort(const Tensor& a, int64_t dim = -1, bool descending = false, bool stable = false);
ValuesIndices topk(const Tensor& a, int64_t k, int64_t dim = -1, bool largest = true, bool sorted = true);
struct UniqueResult {
  Tensor values, inverse, counts;
};
UniqueResult unique(const Tensor& a, bool sorted, bool return_inverse, bool return_counts, std::optional<int64_t> dim);

// ---- in-place (ops/inplace.cpp); each bumps the version counter ----------------------
void add_(const Tensor& self, const Tensor& other, double alpha = 1.0);
void mul_(const Tensor& self, const Tensor& other);
void div_(const Tensor& self, const Tensor& other);
void fill_(const Tensor& self, double value);
void copy_(const Tensor& self, const Tensor& src);
// `self[items] = value` (no autograd through it).
void index_put_(const Tensor& self, const std::vector<IndexItem>& items, const Tensor& value);

// ---- convolution and pooling (ops/conv.cpp, ops/pool.cpp); NCHW layout ---------------
// (height, width) pairs for kernel sizes, strides and paddings.
using Size2 = std::array<int64_t, 2>;
// out[n, o, i, j] = bias[o] + sum_{c, p, q} input[n, c, i*sh - ph + p, j*sw - pw + q] * weight[o, c, p, q]
// (zero padding). input (N, C, H, W), weight (O, C, kh, kw), bias (O,) or undefined.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 stride = {1, 1},
              Size2 padding = {0, 0});
// The two adjoints of conv2d, themselves differentiable (so create_graph works through a conv):
// the gradient w.r.t. the input, a transposed convolution of grad_output (N, O, OH, OW) giving
// `input_shape`, and the gradient w.r.t. the weight, correlating input with grad_output.
Tensor conv2d_input_grad(const Tensor& grad_output, const Tensor& weight, const Shape& input_shape, Size2 stride,
                         Size2 padding);
Tensor conv2d_weight_grad(const Tensor& input, const Tensor& grad_output, const Shape& weight_shape, Size2 stride,
                          Size2 padding);
// Max over kh x kw windows (padding counts as -inf). values (N, C, OH, OW) and int64 indices
// of the same shape holding each maximum's flat position h*W + w in its input plane (as torch).
struct MaxPool2dResult {
  Tensor values;
  Tensor indices;
};
MaxPool2dResult max_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding = {0, 0});
// out[n, c, k] = input[n, c].flat[indices[n, c, k]], and its adjoint, which adds grad[n, c, k] onto
// position indices[n, c, k] of a zero tensor of `input_shape`. Each is the other's backward.
Tensor pool2d_gather(const Tensor& input, const Tensor& indices);
Tensor pool2d_scatter_add(const Tensor& grad, const Tensor& indices, const Shape& input_shape);
// Mean over kh x kw windows (N, C, H, W) -> (N, C, OH, OW); padding counts as zeros and, with
// count_include_pad, in the divisor. avg_pool2d_backward is its adjoint (the gradient w.r.t. the
// input, shape input_shape); each is the other's backward.
Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding, bool count_include_pad);
Tensor avg_pool2d_backward(const Tensor& grad_output, const Shape& input_shape, Size2 kernel_size, Size2 stride,
                           Size2 padding, bool count_include_pad);

// ---- bool results, dtypes (ops/compare.cpp, ops/logical.cpp, ops/where.cpp) ------------
// Throws (RuntimeError) unless `value` is a number `dtype` can hold (nan/inf/out of range for integers).
void check_fits(double value, DType dtype, const char* name);
// Comparisons as the user sees them: bool tensors, torch's promotion and broadcasting.
Tensor compare_bool(const Tensor& a, const Tensor& b, CompareOp op);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor isnan(const Tensor& a);
Tensor isinf(const Tensor& a);
Tensor isfinite(const Tensor& a);
// logical_*: any dtype in (nonzero is true), bool out. bitwise_*: bool or integer tensors.
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& a);
Tensor bitwise_and(const Tensor& a, const Tensor& b);
Tensor bitwise_or(const Tensor& a, const Tensor& b);
Tensor bitwise_xor(const Tensor& a, const Tensor& b);
Tensor bitwise_not(const Tensor& a);
// Reductions to bool (uint8 for uint8 input, as torch); empty dims = all dims.
Tensor any(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor all(const Tensor& a, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor count_nonzero(const Tensor& a, const std::vector<int64_t>& dims = {});  // int64
Tensor nonzero(const Tensor& a);  // (count, ndim) int64 indices in row-major order
// cond ? x : y elementwise with broadcasting; differentiable in x and y. cond must be bool.
Tensor where(const Tensor& cond, const Tensor& x, const Tensor& y);
// self with `value` (a 0-d tensor, converted to self's dtype) where `mask` (bool) is true.
Tensor masked_fill(const Tensor& self, const Tensor& mask, const Tensor& value);
Tensor clamp_min(const Tensor& a, const Tensor& min);
Tensor clamp_max(const Tensor& a, const Tensor& max);

}  // namespace gdcore
