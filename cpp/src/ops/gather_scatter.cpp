// gather, scatter, scatter_add, index_add and take_along_dim, as torch defines them along one
// dim: gather reads a[..., index[p], ...] for every position p of `index`; scatter writes there.
// gather and scatter_add are each other's backward, so gradients of gradients work. The index
// tensor is an input of every recorded op (never differentiated), so gdcore.compile replays and
// lowers these ops with new indices; the loops check every index before any value moves.
#include "ops/index_positions.hpp"

#include "gdcore/capture.hpp"
#include "gdcore/grad_mode.hpp"
#include <type_traits>

namespace gdcore {
using namespace detail;

namespace {

std::string out_of_bounds(int64_t v, int64_t dim, int64_t size) {
  return "index " + std::to_string(v) + " is out of bounds for dimension " + std::to_string(dim) + " with size " +
         std::to_string(size);
}

// Checks every index of `idx` (viewed with `shape` and `strides`) against [0, size) before the data loop.
void check_indices(const int64_t* ix, const Shape& shape, const Shape& strides, int64_t size, int64_t dim,
                   bool index_error, bool wrap = false) {
  kernels::strided_loop<1>(shape, {strides.data()}, {0}, [&](std::array<int64_t, 1> off, int64_t n, std::array<int64_t, 1> st) {
    for (int64_t k = 0; k < n; ++k) {
      const int64_t v = ix[off[0] + k * st[0]];
      if (v < (wrap ? -size : 0) || v >= size) {
        if (index_error) throw std::out_of_range(out_of_bounds(v, dim, size));
        throw std::runtime_error(out_of_bounds(v, dim, size));
      }
    }
  });
}

Shape with_zero(Shape s, int64_t dim) {
  s[dim] = 0;
  return s;
}

// out[p] = a[p with dim replaced by idx[p]] over the positions p of `shape`; idx viewed with `ist`.
Tensor gather_data(const Tensor& a, int64_t dim, const Tensor& idx, const Shape& shape, const Shape& ist,
                   bool index_error) {
  Tensor out = Tensor::empty(shape, a.dtype());
  GD_DISPATCH_ALL(a.dtype(), "gather", [&] {
    trace::launch([o = out.data<scalar_t>(), x = a.data<scalar_t>(), ix = idx.data<int64_t>(), shape, ist,
                   ost = out.strides(), ast = with_zero(a.strides(), dim), step = a.strides()[dim],
                   size = a.shape()[dim], dim, index_error] {
      check_indices(ix, shape, ist, size, dim, index_error);
      kernels::strided_loop<3>(shape, {ost.data(), ist.data(), ast.data()}, {0, 0, 0},
                               [&](std::array<int64_t, 3> off, int64_t n, std::array<int64_t, 3> st) {
                                 for (int64_t k = 0; k < n; ++k)
                                   o[off[0] + k * st[0]] = x[off[2] + k * st[2] + ix[off[1] + k * st[1]] * step];
                               });
    });
  });
  return out;
}

// scatter's reduce="multiply"; bool's product is "and" (a plain `*=` on bools warns and means the same).
template <typename T> void multiply_into(T& t, T y) {
  if constexpr (std::is_same_v<T, bool>) t = t && y;
  else t *= y;
}

// A copy of self with, at self[p with dim replaced by idx[p]], src[p] written, added or multiplied in.
// (wrap: negative indices count from the end, as index_select's do.)
Tensor scatter_data(const Tensor& self, int64_t dim, const Tensor& idx, const Tensor& src, const Shape& shape,
                    const Shape& ist, ScatterReduce mode, bool index_error, bool wrap = false) {
  Tensor out = self.clone_data();
  const Tensor s = cast_data(src, self.dtype());
  GD_DISPATCH_ALL(self.dtype(), "scatter", [&] {
    trace::launch([o = out.data<scalar_t>(), v = s.data<scalar_t>(), ix = idx.data<int64_t>(), shape, ist,
                   ost = with_zero(out.strides(), dim), sst = s.strides(), step = out.strides()[dim],
                   size = out.shape()[dim], dim, mode, index_error, wrap] {
      check_indices(ix, shape, ist, size, dim, index_error, wrap);
      kernels::strided_loop<3>(shape, {ost.data(), ist.data(), sst.data()}, {0, 0, 0},
                               [&](std::array<int64_t, 3> off, int64_t n, std::array<int64_t, 3> st) {
                                 for (int64_t k = 0; k < n; ++k) {
                                   const int64_t i = ix[off[1] + k * st[1]];
                                   scalar_t& t = o[off[0] + k * st[0] + (i < 0 ? i + size : i) * step];
                                   const scalar_t y = v[off[2] + k * st[2]];
                                   if (mode == ScatterReduce::None) t = y;
                                   else if (mode == ScatterReduce::Add) t += y;
                                   else multiply_into(t, y);
                                 }
                               });
    });
  });
  return out;
}

// `t` placed at the start of zeros of `shape` (src larger than index in scatter's backward).
Tensor pad_to(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  std::vector<int64_t> enc;
  for (int64_t s : t.shape()) enc.insert(enc.end(), {1, 0, s, 1});
  return copy_slices(Tensor::empty(shape, t.dtype(), /*zero=*/true), enc, t);
}

std::vector<Tensor> gather_backward(Node& n, const Tensor& g) {
  return {scatter_add(Tensor::empty(n.input_shapes[0], g.dtype(), /*zero=*/true), n.attrs.ints[0], n.saved_tensor(0), g),
          Tensor()};
}
const OpDef kGather{"GatherBackward", gather_backward};

std::vector<Tensor> scatter_backward(Node& n, const Tensor& g) {
  const int64_t dim = n.attrs.ints[0];
  const Tensor idx = n.saved_tensor(0);
  Tensor gs, gsrc;
  if (n.needs_input_grad(0))
    gs = n.attrs.ints[1] == 1 ? g : scatter(g, dim, idx, expand(scalar_tensor(0.0, g.dtype()), idx.shape()));
  if (n.needs_input_grad(2)) gsrc = pad_to(gather(g, dim, idx), n.input_shapes[2]);
  return {gs, Tensor(), gsrc};
}
const OpDef kScatter{"ScatterBackward", scatter_backward};
const OpDef kScatterAdd{"ScatterAddBackward", scatter_backward};

std::vector<Tensor> index_add_backward(Node& n, const Tensor& g) {
  return {GD_GRAD_IF(n, 0, g), GD_GRAD_IF(n, 1, index_select(g, n.attrs.ints[0], n.saved_tensor(0))), Tensor()};
}
const OpDef kIndexAdd{"IndexAddBackward", index_add_backward};

int64_t dim_of(const Tensor& a, int64_t dim, const char* op) { return wrap_dim(dim, a.dim() == 0 ? 1 : a.dim(), op); }

// torch's shape rules for gather/scatter: same number of dims; index no larger than `self`
// except along `dim` (and, for scatter, no larger than src anywhere).
void check_shapes(const char* op, const Tensor& self, int64_t dim, const Tensor& index, const Tensor* src) {
  if (index.dim() != self.dim() && !(index.dim() <= 1 && self.dim() <= 1))
    throw std::runtime_error(std::string(op) + "(): index tensor must have the same number of dimensions as " +
                             (src ? "self" : "input") + " tensor (index " + shape_str(index.shape()) + ", " +
                             (src ? "self " : "input ") + shape_str(self.shape()) + ")");
  for (int64_t d = 0; d < index.dim() && self.dim() > 0; ++d)
    if (d != dim && index.shape()[d] > self.shape()[d])
      throw std::runtime_error(std::string(op) + "(): size does not match at dimension " + std::to_string(d) +
                               ": expected index " + shape_str(index.shape()) + " to be no larger than " +
                               (src ? "self " : "input ") + shape_str(self.shape()) + " apart from dimension " +
                               std::to_string(dim));
  if (src) {
    if (src->dim() != index.dim() && !(index.dim() <= 1 && src->dim() <= 1))
      throw std::runtime_error(std::string(op) + "(): index tensor must have the same number of dimensions as src " +
                               "tensor (index " + shape_str(index.shape()) + ", src " + shape_str(src->shape()) + ")");
    for (int64_t d = 0; d < index.dim() && src->dim() > 0; ++d)
      if (index.shape()[d] > src->shape()[d])
        throw std::runtime_error(std::string(op) + "(): expected index " + shape_str(index.shape()) +
                                 " to be no larger than src " + shape_str(src->shape()) + " at dimension " +
                                 std::to_string(d));
  }
}

// 0-d tensors act as 1-d ones of one element (torch allows gather/scatter on them).
Tensor at_least_1d(const Tensor& t) { return t.dim() == 0 ? reshape(t, {1}) : t; }

}  // namespace

Tensor detail::as_index_dtype(const Tensor& t, const char* op, bool index_error) {
  if (t.dtype() == DType::Int64) return t;
  // int32/int16/int8 are widened by a recorded cast (so a compiled step sees new values); bool and uint8 are masks.
  if (t.dtype() == DType::Int32 || t.dtype() == DType::Int16 || t.dtype() == DType::Int8) return to_dtype(t, DType::Int64);
  const std::string message = std::string(op) + ": tensors used as indices must be int64 (long) or int32 (int), got " +
                              dtype_name(t.dtype()) + "; convert with .long()" +
                              (is_mask_dtype(t.dtype()) ? " (a bool mask selects with x[mask] or masked_select)" : "");
  if (index_error) throw std::out_of_range(message);
  throw std::runtime_error(message);
}

Tensor gather(const Tensor& a, int64_t dim, const Tensor& index) {
  const Tensor idx = as_index_dtype(index, "gather", false);
  const int64_t d = dim_of(a, dim, "gather");
  check_shapes("gather", a, d, idx, nullptr);
  if (a.dim() == 0 || idx.dim() == 0) {
    Tensor r = gather(at_least_1d(a), d, at_least_1d(idx));
    return idx.dim() == 0 ? reshape(r, {}) : r;
  }
  Tensor out = gather_data(a, d, idx, idx.shape(), idx.strides(), /*index_error=*/false);
  if (auto node = record(kGather, {a, idx}, out)) {
    node->attrs.ints = {d};
    save(*node, idx);
  }
  return out;
}

Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, ScatterReduce reduce) {
  if (reduce == ScatterReduce::Add) return scatter_add(self, dim, index, src);
  const Tensor idx = as_index_dtype(index, "scatter", false);
  const int64_t d = dim_of(self, dim, "scatter");
  check_shapes("scatter", self, d, idx, &src);
  if (self.dim() == 0 || idx.dim() == 0 || src.dim() == 0) {
    Tensor r = scatter(at_least_1d(self), d, at_least_1d(idx), at_least_1d(src), reduce);
    return self.dim() == 0 ? reshape(r, {}) : r;
  }
  if (reduce == ScatterReduce::Multiply && GradMode::is_enabled() && (self.requires_grad() || src.requires_grad()))
    throw std::runtime_error("scatter(): the derivative of reduce='multiply' is not implemented (as in torch); "
                             "compute it under gdcore.no_grad() or use scatter_reduce-free ops");
  const Tensor s = src.dtype() == self.dtype() || !is_floating(self.dtype()) ? src : to_dtype(src, self.dtype());
  Tensor out = scatter_data(self, d, idx, s, idx.shape(), idx.strides(), reduce, /*index_error=*/false);
  if (auto node = record(kScatter, {self, idx, s}, out)) {
    node->attrs.ints = {d, reduce == ScatterReduce::Multiply ? 2 : 0};
    save(*node, idx);
  }
  return out;
}

Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  const Tensor idx = as_index_dtype(index, "scatter_add", false);
  const int64_t d = dim_of(self, dim, "scatter_add");
  check_shapes("scatter_add", self, d, idx, &src);
  if (self.dim() == 0 || idx.dim() == 0 || src.dim() == 0) {
    Tensor r = scatter_add(at_least_1d(self), d, at_least_1d(idx), at_least_1d(src));
    return self.dim() == 0 ? reshape(r, {}) : r;
  }
  const Tensor s = src.dtype() == self.dtype() || !is_floating(self.dtype()) ? src : to_dtype(src, self.dtype());
  Tensor out = scatter_data(self, d, idx, s, idx.shape(), idx.strides(), ScatterReduce::Add, /*index_error=*/false);
  if (auto node = record(kScatterAdd, {self, idx, s}, out)) {
    node->attrs.ints = {d, 1};
    save(*node, idx);
  }
  return out;
}

Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, double alpha,
                 bool negative_indices) {
  const Tensor idx = as_index_dtype(index, "index_add", false);
  const int64_t d = dim_of(self, dim, "index_add");
  if (idx.dim() > 1)
    throw std::out_of_range("index_add(): index must be a 1-d (or 0-d) tensor, got shape " + shape_str(idx.shape()));
  if (self.dim() == 0 || source.dim() == 0)
    return reshape(index_add(at_least_1d(self), 0, reshape(idx, {-1}), at_least_1d(source), alpha, negative_indices),
                   self.shape());
  Shape expect = self.shape();
  expect[d] = idx.numel();
  if (source.shape() != expect)
    throw std::invalid_argument("index_add(): source of shape " + shape_str(source.shape()) + " does not match: " +
                                "expected " + shape_str(expect) + " (self's shape with dimension " + std::to_string(d) +
                                " the number of indices, " + std::to_string(idx.numel()) + ")");
  Tensor s = source.dtype() == self.dtype() || !is_floating(self.dtype()) ? source : to_dtype(source, self.dtype());
  if (alpha != 1.0) s = mul(s, alpha);
  // index_add is a scatter_add whose index is the 1-d index broadcast over source's other dims.
  Shape ist(source.dim(), 0);
  ist[d] = idx.dim() == 0 ? 0 : idx.strides()[0];
  Tensor out = scatter_data(self, d, idx, s, source.shape(), ist, ScatterReduce::Add, /*index_error=*/true,
                            negative_indices);
  if (auto node = record(kIndexAdd, {self, s, idx}, out)) {
    node->attrs.ints = {d, negative_indices ? 1 : 0};
    save(*node, idx);
  }
  return out;
}

Tensor take_along_dim(const Tensor& a, const Tensor& indices, std::optional<int64_t> dim) {
  const Tensor idx = as_index_dtype(indices, "take_along_dim", false);
  if (!dim) return gather(reshape(a, {-1}), 0, reshape(idx, {-1}));
  if (a.dim() != idx.dim())
    throw std::invalid_argument("take_along_dim(): input and indices should have the same number of dimensions, "
                                "but got " + std::to_string(a.dim()) + " and " + std::to_string(idx.dim()));
  const int64_t d = dim_of(a, *dim, "take_along_dim");
  if (a.dim() == 0) return gather(a, 0, idx);
  Shape self_sizes = a.shape();
  self_sizes[d] = idx.shape()[d];
  const Shape b = broadcast_shapes(self_sizes, idx.shape(), "take_along_dim");
  Shape in_sizes = b;
  in_sizes[d] = a.shape()[d];
  return gather(in_sizes == a.shape() ? a : expand(a, in_sizes), d, b == idx.shape() ? idx : expand(idx, b));
}

void write_back(const Tensor& self, const Tensor& result, const char* name) {
  if (!self.impl()->storage->writable())
    throw std::invalid_argument(std::string(name) + ": the tensor is read-only (it shares memory with a read-only "
                                "numpy array); clone() it first");
  check_no_internal_overlap(self, name);
  const bool history = GradMode::is_enabled() && result.requires_grad();
  if (history) {
    if (self.is_leaf() && self.requires_grad())
      throw std::runtime_error(std::string("a leaf tensor that requires grad is being used in an in-place operation (") +
                               name + "); do it under gdcore.no_grad(), on .data, or on a clone()");
    if (self.impl()->is_view)
      throw std::runtime_error(std::string(name) + ": in-place change of a view that takes part in autograd is not "
                               "supported; use the out-of-place op (or change the base tensor) instead");
  }
  if (result.shape() != self.shape())
    throw std::invalid_argument(std::string(name) + ": the result has shape " + shape_str(result.shape()) +
                                " but the in-place target has shape " + shape_str(self.shape()));
  copy_into(self, result);
  self.bump_version();
  if (history) {
    self.impl()->grad_fn = result.grad_fn();
    self.impl()->requires_grad = true;
  }
}

}  // namespace gdcore
