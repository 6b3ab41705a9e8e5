// Shape ops. Most return views that alias the input's memory (and share its
// version counter); each backward maps the gradient back to the input's shape.
#include <algorithm>
#include <cstdint>

#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

Shape infer_shape(Shape shape, int64_t numel, const char* name) {
  int64_t infer = -1, known = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      if (infer >= 0) throw std::invalid_argument(std::string(name) + ": only one dimension can be -1, got " + shape_str(shape));
      infer = static_cast<int64_t>(d);
    } else if (shape[d] < 0) {
      throw std::invalid_argument(std::string(name) + ": invalid size " + std::to_string(shape[d]) + " in " + shape_str(shape));
    } else {
      if (shape[d] != 0 && known > INT64_MAX / shape[d])  // (checked: signed overflow is undefined behaviour)
        throw std::length_error(std::string(name) + ": shape " + shape_str(shape) + " has more elements than fit in int64");
      known *= shape[d];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      throw std::invalid_argument(std::string(name) + ": shape " + shape_str(shape) + " is invalid for input of size " +
                                  std::to_string(numel));
    shape[infer] = numel / known;
  }
  if (shape_numel(shape) != numel)
    throw std::invalid_argument(std::string(name) + ": shape " + shape_str(shape) + " is invalid for input of size " +
                                std::to_string(numel));
  return shape;
}

std::vector<Tensor> reshape_backward(Node& n, const Tensor& g) { return {reshape(g, n.input_shapes[0])}; }
const OpDef kReshape{"ReshapeBackward", reshape_backward};
const OpDef kView{"ViewBackward", reshape_backward};
const OpDef kSqueeze{"SqueezeBackward", reshape_backward};
const OpDef kUnsqueeze{"UnsqueezeBackward", reshape_backward};

std::vector<Tensor> permute_backward(Node& n, const Tensor& g) {
  std::vector<int64_t> inverse(n.attrs.ints.size());
  for (size_t k = 0; k < inverse.size(); ++k) inverse[n.attrs.ints[k]] = static_cast<int64_t>(k);
  return {permute(g, inverse)};
}
const OpDef kPermute{"PermuteBackward", permute_backward};

std::vector<Tensor> transpose_backward(Node& n, const Tensor& g) { return {transpose(g, n.attrs.ints[0], n.attrs.ints[1])}; }
const OpDef kTranspose{"TransposeBackward", transpose_backward};

std::vector<Tensor> expand_backward(Node& n, const Tensor& g) { return {sum_to(g, n.input_shapes[0])}; }
const OpDef kExpand{"ExpandBackward", expand_backward};

std::vector<Tensor> identity_backward(Node&, const Tensor& g) { return {g}; }
const OpDef kContiguous{"CloneBackward", identity_backward};

std::vector<Tensor> to_dtype_backward(Node& n, const Tensor& g) { return {to_dtype(g, n.input_dtypes[0])}; }
const OpDef kToDtype{"ToCopyBackward", to_dtype_backward};

Tensor view_of(const Tensor& a, Shape shape, Shape strides, int64_t offset, const OpDef& op) {
  Tensor out = make_view(a, std::move(shape), std::move(strides), offset);
  record(op, {a}, out);
  return out;
}

}  // namespace

Tensor reshape(const Tensor& a, Shape shape) {
  shape = infer_shape(std::move(shape), a.numel(), "reshape");
  if (shape == a.shape()) return a;
  if (a.is_contiguous()) return view_of(a, shape, contiguous_strides(shape), a.impl()->offset, kReshape);
  Tensor copy = a.clone_data();
  Tensor out = make_view(copy, shape, contiguous_strides(shape), 0);
  out.impl()->is_view = false;
  record(kReshape, {a}, out);
  return out;
}

Tensor view(const Tensor& a, Shape shape) {
  shape = infer_shape(std::move(shape), a.numel(), "view");
  if (!a.is_contiguous())
    throw std::invalid_argument("view: the tensor of shape " + shape_str(a.shape()) + " with strides " +
                                shape_str(a.strides()) + " is not contiguous; use reshape() or .contiguous().view()");
  return view_of(a, shape, contiguous_strides(shape), a.impl()->offset, kView);
}

Tensor flatten(const Tensor& a, int64_t start_dim, int64_t end_dim) {
  if (a.dim() == 0) return reshape(a, {1});
  const int64_t s = wrap_dim(start_dim, a.dim(), "flatten"), e = wrap_dim(end_dim, a.dim(), "flatten");
  if (s > e) throw std::invalid_argument("flatten: start_dim " + std::to_string(start_dim) + " comes after end_dim " + std::to_string(end_dim));
  Shape shape(a.shape().begin(), a.shape().begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= a.shape()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), a.shape().begin() + e + 1, a.shape().end());
  return reshape(a, shape);
}

Tensor permute(const Tensor& a, const std::vector<int64_t>& dims) {
  if (static_cast<int64_t>(dims.size()) != a.dim())
    throw std::invalid_argument("permute: got " + std::to_string(dims.size()) + " dims for a " + std::to_string(a.dim()) + "-d tensor");
  std::vector<int64_t> wrapped;
  std::vector<bool> used(a.dim(), false);
  Shape shape, strides;
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, a.dim(), "permute");
    if (used[w]) throw std::invalid_argument("permute: dimension " + std::to_string(d) + " appears more than once");
    used[w] = true;
    wrapped.push_back(w);
    shape.push_back(a.shape()[w]);
    strides.push_back(a.strides()[w]);
  }
  Tensor out = make_view(a, shape, strides, a.impl()->offset);
  if (auto node = record(kPermute, {a}, out)) node->attrs.ints = wrapped;
  return out;
}

Tensor transpose(const Tensor& a, int64_t dim0, int64_t dim1) {
  if (a.dim() < 2 && a.dim() == 0) return a;
  const int64_t d0 = wrap_dim(dim0, a.dim(), "transpose"), d1 = wrap_dim(dim1, a.dim(), "transpose");
  Shape shape = a.shape(), strides = a.strides();
  std::swap(shape[d0], shape[d1]);
  std::swap(strides[d0], strides[d1]);
  Tensor out = make_view(a, shape, strides, a.impl()->offset);
  if (auto node = record(kTranspose, {a}, out)) node->attrs.ints = {d0, d1};
  return out;
}

Tensor expand(const Tensor& a, const Shape& shape) {
  if (shape.size() < a.shape().size())
    throw std::invalid_argument("expand: cannot expand shape " + shape_str(a.shape()) + " to fewer dimensions " + shape_str(shape));
  const size_t lead = shape.size() - a.shape().size();
  Shape out_shape(shape.size()), strides(shape.size(), 0);
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d < lead) {
      if (shape[d] < 0) throw std::invalid_argument("expand: -1 is not allowed in a new leading dimension: " + shape_str(shape));
      out_shape[d] = shape[d];
      continue;
    }
    const int64_t have = a.shape()[d - lead], want = shape[d] == -1 ? have : shape[d];
    if (have != want && have != 1)
      throw std::invalid_argument("expand: shape " + shape_str(a.shape()) + " cannot be expanded to " + shape_str(shape) +
                                  " (dimension " + std::to_string(d) + ": " + std::to_string(have) + " vs " + std::to_string(want) + ")");
    out_shape[d] = want;
    strides[d] = have == want ? a.strides()[d - lead] : 0;
  }
  if (out_shape == a.shape()) return a;
  return view_of(a, out_shape, strides, a.impl()->offset, kExpand);
}

Tensor squeeze(const Tensor& a, std::optional<int64_t> dim) {
  Shape shape, strides;
  const int64_t d = dim ? wrap_dim(*dim, a.dim(), "squeeze") : -1;
  for (int64_t k = 0; k < a.dim(); ++k) {
    const bool drop = a.shape()[k] == 1 && (!dim || k == d);
    if (!drop) {
      shape.push_back(a.shape()[k]);
      strides.push_back(a.strides()[k]);
    }
  }
  if (shape.size() == a.shape().size()) return a;
  return view_of(a, shape, strides, a.impl()->offset, kSqueeze);
}

Tensor unsqueeze(const Tensor& a, int64_t dim) {
  const int64_t d = wrap_dim(dim, a.dim() + 1, "unsqueeze");
  Shape shape = a.shape(), strides = a.strides();
  const int64_t stride = d < a.dim() ? a.strides()[d] * a.shape()[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return view_of(a, shape, strides, a.impl()->offset, kUnsqueeze);
}

Tensor contiguous(const Tensor& a) {
  if (a.is_contiguous()) return a;
  Tensor out = a.clone_data();
  record(kContiguous, {a}, out);
  return out;
}

Tensor clone(const Tensor& a) {
  Tensor out = a.clone_data();
  record(kContiguous, {a}, out);
  return out;
}

Tensor to_dtype(const Tensor& a, DType dtype) {
  if (a.dtype() == dtype) return a;
  Tensor out = cast_data(a, dtype);
  if (is_floating(dtype)) record(kToDtype, {a}, out);
  else record_value(kToDtype, {a}, out);  // no gradient into integers and bools, but replayable
  return out;
}

}  // namespace gdcore
