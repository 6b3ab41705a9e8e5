// Indexing: ints, slices, None and Ellipsis give views (recorded as one IndexBackward);
// one integer index tensor gathers with index_select (the batch gather of the DataLoader).
// Each backward scatters the gradient into zeros of the input's shape.
#include <cstring>

#include "gdcore/grad_mode.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

// A basic index in normalised form, four ints per item: {kind, a, b, c} with
// kind 0 = int (a = index), 1 = slice (a = start, b = length, c = step), 2 = new axis.
using Encoded = std::vector<int64_t>;

struct Layout {
  Shape shape, strides;
  int64_t offset;
};

Layout apply_encoded(const Shape& shape, const Shape& strides, int64_t offset, const Encoded& enc) {
  Layout out{{}, {}, offset};
  size_t dim = 0;
  for (size_t i = 0; i < enc.size(); i += 4) {
    switch (enc[i]) {
      case 0:
        out.offset += enc[i + 1] * strides[dim++];
        break;
      case 1:
        out.offset += enc[i + 1] * strides[dim];
        out.shape.push_back(enc[i + 2]);
        out.strides.push_back(strides[dim++] * enc[i + 3]);
        break;
      default:
        out.shape.push_back(1);
        out.strides.push_back(0);
    }
  }
  for (; dim < shape.size(); ++dim) {
    out.shape.push_back(shape[dim]);
    out.strides.push_back(strides[dim]);
  }
  return out;
}

Tensor basic_index(const Tensor& a, const Encoded& enc);
Tensor basic_index_scatter(const Tensor& g, const Shape& in_shape, const Encoded& enc);

std::vector<Tensor> index_backward(Node& n, const Tensor& g) {
  return {basic_index_scatter(g, n.input_shapes[0], n.attrs.ints)};
}
const OpDef kIndex{"IndexBackward", index_backward};

std::vector<Tensor> index_scatter_backward(Node& n, const Tensor& g) { return {basic_index(g, n.attrs.ints)}; }
const OpDef kIndexScatter{"IndexScatterBackward", index_scatter_backward};

Tensor basic_index(const Tensor& a, const Encoded& enc) {
  Layout l = apply_encoded(a.shape(), a.strides(), a.impl()->offset, enc);
  Tensor out = make_view(a, l.shape, l.strides, l.offset);
  if (auto node = record(kIndex, {a}, out)) node->attrs.ints = enc;
  return out;
}

Tensor basic_index_scatter(const Tensor& g, const Shape& in_shape, const Encoded& enc) {
  Tensor out = Tensor::empty(in_shape, g.dtype(), /*zero=*/true);
  Layout l = apply_encoded(out.shape(), out.strides(), 0, enc);
  copy_into(make_view(out, l.shape, l.strides, l.offset), g);
  if (auto node = record(kIndexScatter, {g}, out)) node->attrs.ints = enc;
  return out;
}

// Rows scattered back: out[.., idx[j], ..] += g[.., j, ..] (the backward of index_select).
Tensor index_add_scatter(const Tensor& g, const Shape& in_shape, int64_t dim, const Tensor& idx);

std::vector<Tensor> index_select_backward(Node& n, const Tensor& g) {
  return {index_add_scatter(g, n.input_shapes[0], n.attrs.ints[0], n.saved_tensor(0))};
}
const OpDef kIndexSelect{"IndexSelectBackward", index_select_backward};

std::vector<Tensor> index_add_backward(Node& n, const Tensor& g) {
  return {index_select(g, n.attrs.ints[0], n.saved_tensor(0))};
}
const OpDef kIndexAdd{"IndexAddBackward", index_add_backward};

struct Blocks {
  int64_t outer = 1, size = 1, inner = 1;
};
Blocks blocks_of(const Shape& shape, int64_t dim) {
  Blocks b;
  for (int64_t d = 0; d < dim; ++d) b.outer *= shape[d];
  b.size = shape[dim];
  for (size_t d = dim + 1; d < shape.size(); ++d) b.inner *= shape[d];
  return b;
}

Tensor index_add_scatter(const Tensor& g, const Shape& in_shape, int64_t dim, const Tensor& idx) {
  Tensor out = Tensor::empty(in_shape, g.dtype(), /*zero=*/true);
  Tensor src = g.contiguous();
  const Blocks b = blocks_of(in_shape, dim);
  const int64_t n_idx = idx.numel();
  const int64_t* ix = idx.data<int64_t>();
  GD_DISPATCH_FLOAT(g.dtype(), "index_add", [&] {
    const scalar_t* s = src.data<scalar_t>();
    scalar_t* o = out.data<scalar_t>();
    for (int64_t p = 0; p < b.outer; ++p)
      for (int64_t j = 0; j < n_idx; ++j) {
        const int64_t row = ix[j] < 0 ? ix[j] + b.size : ix[j];
        scalar_t* dst = o + (p * b.size + row) * b.inner;
        const scalar_t* from = s + (p * n_idx + j) * b.inner;
        for (int64_t k = 0; k < b.inner; ++k) dst[k] += from[k];
      }
  });
  if (auto node = record(kIndexAdd, {g}, out)) {
    node->attrs.ints = {dim};
    save(*node, idx);
  }
  return out;
}

Tensor as_index_tensor(const Tensor& t) {
  // int32/int16/int8 indices are widened (torch takes them too); uint8 and bool are masks in torch.
  if (t.dtype() == DType::Int32 || t.dtype() == DType::Int16 || t.dtype() == DType::Int8) return cast_data(t, DType::Int64);
  if (t.dtype() != DType::Int64)
    throw std::out_of_range(std::string("tensors used as indices must be int64 (long) or int32 (int), got ") + dtype_name(t.dtype()) +
                            "; convert with .long() (boolean masks are not supported here)");
  return t.contiguous();
}

}  // namespace

Tensor index_select(const Tensor& a, int64_t dim, const Tensor& indices) {
  const int64_t d = wrap_dim(dim, a.dim(), "index_select");
  if (a.dim() == 0) throw std::out_of_range("index_select: cannot index a 0-d tensor; it has no dimensions");
  Tensor idx = as_index_tensor(indices);
  const Blocks b = blocks_of(a.shape(), d);
  const int64_t n_idx = idx.numel();
  const int64_t* ix = idx.data<int64_t>();
  for (int64_t j = 0; j < n_idx; ++j)
    if (ix[j] < -b.size || ix[j] >= b.size)
      throw std::out_of_range("index " + std::to_string(ix[j]) + " is out of bounds for dimension " + std::to_string(d) +
                              " with size " + std::to_string(b.size));
  Shape shape(a.shape().begin(), a.shape().begin() + d);
  shape.insert(shape.end(), idx.shape().begin(), idx.shape().end());
  shape.insert(shape.end(), a.shape().begin() + d + 1, a.shape().end());
  Tensor src = a.contiguous();
  Tensor out = Tensor::empty(shape, a.dtype());
  const size_t row_bytes = static_cast<size_t>(b.inner) * itemsize(a.dtype());
  const char* s = static_cast<const char*>(src.raw_data());
  char* o = static_cast<char*>(out.raw_data());
  for (int64_t p = 0; p < b.outer; ++p)
    for (int64_t j = 0; j < n_idx; ++j) {
      const int64_t row = ix[j] < 0 ? ix[j] + b.size : ix[j];
      std::memcpy(o + (p * n_idx + j) * row_bytes, s + (p * b.size + row) * row_bytes, row_bytes);
    }
  if (auto node = record(kIndexSelect, {a}, out)) {
    node->attrs.ints = {d};
    save(*node, idx);
  }
  return out;
}

namespace {

// Normalises `items` against `a`: the encoded basic index, and where an index tensor applies.
struct ParsedIndex {
  Encoded enc;
  bool trivial = true;            // every item is a full slice
  int64_t tensor_out_dim = -1;    // output dim that the index tensor gathers along
  Tensor tensor;
};

ParsedIndex parse_index(const Tensor& a, const std::vector<IndexItem>& items) {
  int64_t consumed = 0, ellipses = 0, tensors = 0;
  for (const IndexItem& it : items) {
    if (it.kind == IndexItem::Ellipsis) ++ellipses;
    else if (it.kind != IndexItem::NewAxis) ++consumed;
    if (it.kind == IndexItem::Tensor_) ++tensors;
  }
  if (ellipses > 1) throw std::out_of_range("an index can only have a single ellipsis ('...')");
  if (consumed > a.dim())
    throw std::out_of_range("too many indices for tensor of dimension " + std::to_string(a.dim()) + " (got " +
                            std::to_string(consumed) + ")");
  if (tensors > 1)
    throw std::out_of_range("indexing with more than one index tensor is not supported; index one dimension at a time");
  ParsedIndex p;
  int64_t dim = 0, out_dim = 0;
  auto full_slice = [&]() {
    p.enc.insert(p.enc.end(), {1, 0, a.shape()[dim], 1});
    ++dim;
    ++out_dim;
  };
  for (const IndexItem& it : items) {
    switch (it.kind) {
      case IndexItem::Ellipsis:
        for (int64_t k = 0; k < a.dim() - consumed; ++k) full_slice();
        break;
      case IndexItem::NewAxis:
        p.enc.insert(p.enc.end(), {2, 0, 0, 0});
        p.trivial = false;
        ++out_dim;
        break;
      case IndexItem::Int: {
        const int64_t size = a.shape()[dim];
        if (it.index < -size || it.index >= size)
          throw std::out_of_range("index " + std::to_string(it.index) + " is out of bounds for dimension " +
                                  std::to_string(dim) + " with size " + std::to_string(size));
        p.enc.insert(p.enc.end(), {0, it.index < 0 ? it.index + size : it.index, 0, 0});
        p.trivial = false;
        ++dim;
        break;
      }
      case IndexItem::Slice: {
        if (it.step <= 0) throw std::invalid_argument("slice step must be positive, got " + std::to_string(it.step));
        const int64_t size = a.shape()[dim];
        auto clampi = [size](std::optional<int64_t> v, int64_t dflt) {
          if (!v) return dflt;
          int64_t x = *v < 0 ? *v + size : *v;
          return x < 0 ? int64_t{0} : (x > size ? size : x);
        };
        const int64_t start = clampi(it.start, 0), stop = clampi(it.stop, size);
        const int64_t len = stop > start ? 1 + (stop - start - 1) / it.step : 0;  // (no overflow for huge steps)
        if (!(start == 0 && len == size && it.step == 1)) p.trivial = false;
        p.enc.insert(p.enc.end(), {1, start, len, it.step});
        ++dim;
        ++out_dim;
        break;
      }
      case IndexItem::Tensor_:
        p.tensor = as_index_tensor(it.tensor);
        p.tensor_out_dim = out_dim;
        full_slice();
        break;
    }
  }
  return p;
}

// Copies `value` (broadcast) into `view` without recording.
void assign(const Tensor& view, const Tensor& value) {
  Shape b = broadcast_shapes(view.shape(), value.shape(), "setitem");
  if (b != view.shape())
    throw std::invalid_argument("setitem: value of shape " + shape_str(value.shape()) +
                                " cannot be broadcast to the indexed shape " + shape_str(view.shape()));
  copy_into(view, value.shape() == view.shape() ? value : expand(value.detach(), view.shape()));
}

}  // namespace

Tensor index(const Tensor& a, const std::vector<IndexItem>& items) {
  if (a.dim() == 0 && !items.empty()) {
    for (const IndexItem& it : items)
      if (it.kind != IndexItem::Ellipsis && it.kind != IndexItem::NewAxis)
        throw std::out_of_range("invalid index of a 0-d tensor; use .item() to get its value");
  }
  ParsedIndex p = parse_index(a, items);
  Tensor view = p.trivial ? a : basic_index(a, p.enc);
  if (p.tensor_out_dim < 0) return view;
  return index_select(view, p.tensor_out_dim, p.tensor);
}

void index_put_(const Tensor& self, const std::vector<IndexItem>& items, const Tensor& value) {
  if (GradMode::is_enabled() && (self.requires_grad() || value.requires_grad()))
    throw std::runtime_error(
        "assigning into a tensor with autograd history (x[...] = v) is not supported; do it under gdcore.no_grad(), "
        "on .data, or build the tensor with cat/stack instead");
  if (!self.impl()->storage->writable())
    throw std::invalid_argument("setitem: the tensor is read-only (it shares memory with a read-only numpy array or DLPack producer); clone() it first");
  check_no_internal_overlap(self, "setitem");
  NoGradGuard guard;
  ParsedIndex p = parse_index(self, items);
  Layout l = apply_encoded(self.shape(), self.strides(), self.impl()->offset, p.enc);
  Tensor view = make_view(self, l.shape, l.strides, l.offset);
  Tensor v = value.dtype() == self.dtype() ? value : cast_data(value, self.dtype());
  if (p.tensor_out_dim < 0) {
    assign(view, v);
  } else {
    // Gathered positions: assign one index at a time along the gathered dim.
    if (p.tensor.dim() != 1) throw std::out_of_range("setitem: only a 1-d index tensor is supported for assignment");
    const int64_t d = p.tensor_out_dim, size = view.shape()[d];
    Shape target = view.shape();
    target[d] = p.tensor.numel();
    Shape bshape = broadcast_shapes(target, v.shape(), "setitem");
    if (bshape != target)
      throw std::invalid_argument("setitem: value of shape " + shape_str(v.shape()) + " cannot be broadcast to " + shape_str(target));
    Tensor vexp = expand(v.detach(), target);
    const int64_t* ix = p.tensor.data<int64_t>();
    for (int64_t j = 0; j < p.tensor.numel(); ++j) {
      if (ix[j] < -size || ix[j] >= size)
        throw std::out_of_range("index " + std::to_string(ix[j]) + " is out of bounds for dimension " + std::to_string(d) +
                                " with size " + std::to_string(size));
      const int64_t row = ix[j] < 0 ? ix[j] + size : ix[j];
      Shape sh = view.shape(), st = view.strides(), vst = vexp.strides();
      sh.erase(sh.begin() + d);
      st.erase(st.begin() + d);
      Tensor dst = make_view(view, sh, st, view.impl()->offset + row * view.strides()[d]);
      vst.erase(vst.begin() + d);
      Tensor src = make_view(vexp, sh, vst, vexp.impl()->offset + j * vexp.strides()[d]);
      copy_into(dst, src);
    }
  }
  self.bump_version();
}

}  // namespace gdcore
