// Indexing: ints, slices, None and Ellipsis give views (recorded as one IndexBackward);
// one integer index tensor gathers with index_select (the batch gather of the DataLoader).
// Each backward scatters the gradient into zeros of the input's shape.
#include <cstring>

#include "gdcore/capture.hpp"
#include "gdcore/grad_mode.hpp"
#include "ops/index_positions.hpp"

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

std::vector<Tensor> index_select_backward(Node& n, const Tensor& g) {
  // The gathered rows added back: index_add on zeros, with the index flattened to 1-d.
  const int64_t d = n.attrs.ints[0];
  const Tensor idx = n.saved_tensor(0);
  const Shape& in = n.input_shapes[0];
  Shape flat(in.begin(), in.begin() + d);
  flat.push_back(idx.numel());
  flat.insert(flat.end(), in.begin() + d + 1, in.end());
  return {index_add(Tensor::empty(in, g.dtype(), /*zero=*/true), d, reshape(idx, {-1}), reshape(g, flat), 1.0, true),
          Tensor()};
}
const OpDef kIndexSelect{"IndexSelectBackward", index_select_backward};

std::vector<Tensor> copy_slices_backward(Node& n, const Tensor& g) {
  const std::vector<int64_t>& enc = n.attrs.ints;
  Tensor gs, gv;
  if (n.needs_input_grad(0)) gs = copy_slices(g, enc, scalar_tensor(0.0, g.dtype()));  // the replaced region got nothing
  if (n.needs_input_grad(1)) gv = sum_to(basic_index(g, enc), n.input_shapes[1]);
  return {gs, gv};
}
const OpDef kCopySlices{"CopySlicesBackward", copy_slices_backward};

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

Tensor as_index_tensor(const Tensor& t) { return contiguous(as_index_dtype(t, "index")); }  // (recorded: compile replays it)

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
  // (Checked again inside the loop: a lowered replay of gdcore.compile brings new index values.)
  trace::launch([s = static_cast<const char*>(src.raw_data()), o = static_cast<char*>(out.raw_data()), ix, n_idx, b,
                 row_bytes] {
    for (int64_t j = 0; j < n_idx; ++j)
      if (ix[j] < -b.size || ix[j] >= b.size)
        throw std::out_of_range("index " + std::to_string(ix[j]) + " is out of range for a dimension of size " +
                                std::to_string(b.size));
    for (int64_t p = 0; p < b.outer; ++p)
      for (int64_t j = 0; j < n_idx; ++j) {
        const int64_t row = ix[j] < 0 ? ix[j] + b.size : ix[j];
        std::memcpy(o + (p * n_idx + j) * row_bytes, s + (p * b.size + row) * row_bytes, row_bytes);
      }
  });
  if (auto node = record(kIndexSelect, {a, idx}, out)) {
    node->attrs.ints = {d};
    save(*node, idx);
  }
  return out;
}

namespace {

// Normalises `items` against `a`: the encoded basic index, and the index tensors (advanced
// indices) with the dims of the basic view they apply to. Ints are applied first as basic
// indices (torch's rule, unlike numpy's), so `x[0, :, idx]` keeps the gathered dim in place.
struct ParsedIndex {
  Encoded enc;
  bool trivial = true;              // every item is a full slice
  std::vector<Tensor> tensors;      // int64 index tensors
  std::vector<int64_t> dims;        // the dim of the basic view each one indexes
  std::vector<int64_t> source_dims; // ... and the dim of `a` it came from (for messages)
};

ParsedIndex parse_index(const Tensor& a, const std::vector<IndexItem>& items) {
  int64_t consumed = 0, ellipses = 0;
  for (const IndexItem& it : items) {
    if (it.kind == IndexItem::Ellipsis) ++ellipses;
    else if (it.kind == IndexItem::Tensor_ && is_mask_dtype(it.tensor.dtype())) consumed += std::max<int64_t>(it.tensor.dim(), 0);
    else if (it.kind != IndexItem::NewAxis) ++consumed;
  }
  if (ellipses > 1) throw std::out_of_range("an index can only have a single ellipsis ('...')");
  if (consumed > a.dim())
    throw std::out_of_range("too many indices for tensor of dimension " + std::to_string(a.dim()) + " (got " +
                            std::to_string(consumed) + ")");
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
        for (int64_t k = 0, n = a.dim() - consumed; k < n; ++k) full_slice();
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
        if (it.step <= 0) throw std::invalid_argument("step must be greater than zero (negative slice steps are not "
                                                      "supported, as in torch; use .flip() instead), got " +
                                                      std::to_string(it.step));
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
      case IndexItem::Tensor_: {
        if (is_mask_dtype(it.tensor.dtype())) {
          // A mask over the next k dims: their shapes must match, then it is k index tensors.
          const Tensor& m = it.tensor;
          for (int64_t k = 0; k < m.dim(); ++k)
            if (m.shape()[k] != a.shape()[dim + k])
              throw std::out_of_range("the shape of the mask " + shape_str(m.shape()) + " at index " + std::to_string(k) +
                                      " does not match the shape of the indexed tensor " + shape_str(a.shape()) +
                                      " at index " + std::to_string(dim + k));
          if (m.dim() == 0) {  // x[True] adds a dim of size 1, x[False] one of size 0 (as torch)
            capture::on_unsupported("a 0-d boolean mask (x[True], x[flag]: the result's size depends on its value)");
            p.enc.insert(p.enc.end(), {2, 0, 0, 0});
            p.trivial = false;
            p.tensors.push_back(Tensor::empty({m.item() != 0.0 ? 1 : 0}, DType::Int64, /*zero=*/true));
            p.dims.push_back(out_dim++);
            p.source_dims.push_back(-1);
            break;
          }
          for (const Tensor& t : mask_positions(m, "index")) {
            p.tensors.push_back(t);
            p.dims.push_back(out_dim);
            p.source_dims.push_back(dim);
            full_slice();
          }
          break;
        }
        p.tensors.push_back(as_index_dtype(it.tensor, "index"));
        p.dims.push_back(out_dim);
        p.source_dims.push_back(dim);
        full_slice();
        break;
      }
    }
  }
  return p;
}

// The basic view of `a` (without recording).
Tensor basic_view(const Tensor& a, const Encoded& enc) {
  Layout l = apply_encoded(a.shape(), a.strides(), a.impl()->offset, enc);
  return make_view(a, l.shape, l.strides, l.offset);
}

// Where the advanced dims go: the view permuted so that they lead (in order), and, for the
// result, the permutation that moves the broadcast dims back to where the first advanced dim
// was when the advanced dims are adjacent (numpy's and torch's rule; otherwise they stay first).
struct AdvancedLayout {
  std::vector<int64_t> to_front;   // view dims: advanced ones first
  std::vector<int64_t> to_result;  // result dims (B first) to the indexing result; empty = identity
  Shape bshape;
};

AdvancedLayout advanced_layout(int64_t view_dim, const std::vector<int64_t>& dims, const Shape& bshape) {
  AdvancedLayout l;
  l.bshape = bshape;
  std::vector<bool> adv(view_dim, false);
  for (int64_t d : dims) adv[d] = true;
  l.to_front = dims;
  for (int64_t d = 0; d < view_dim; ++d)
    if (!adv[d]) l.to_front.push_back(d);
  bool adjacent = true;
  for (size_t k = 1; k < dims.size(); ++k) adjacent = adjacent && dims[k] == dims[k - 1] + 1;
  const int64_t first = dims[0], nb = static_cast<int64_t>(bshape.size()), others = view_dim - static_cast<int64_t>(dims.size());
  if (adjacent && first > 0) {
    for (int64_t j = 0; j < first; ++j) l.to_result.push_back(nb + j);
    for (int64_t j = 0; j < nb; ++j) l.to_result.push_back(j);
    for (int64_t j = first; j < others; ++j) l.to_result.push_back(nb + j);
  }
  return l;
}

bool is_identity(const std::vector<int64_t>& perm) {
  for (size_t k = 0; k < perm.size(); ++k)
    if (perm[k] != static_cast<int64_t>(k)) return false;
  return true;
}

std::vector<int64_t> inverse(const std::vector<int64_t>& perm) {
  std::vector<int64_t> inv(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) inv[perm[k]] = static_cast<int64_t>(k);
  return inv;
}

// Checks the index tensors against the view's sizes (naming the dim of the indexed tensor),
// before any op runs; the ops check again inside their loops.
void check_index_values(const Tensor& view, const ParsedIndex& p) {
  for (size_t k = 0; k < p.tensors.size(); ++k) {
    const Tensor t = p.tensors[k].contiguous();
    const int64_t size = view.shape()[p.dims[k]], n = t.numel();
    const int64_t* ix = t.data<int64_t>();
    for (int64_t j = 0; j < n; ++j)
      if (ix[j] < -size || ix[j] >= size)
        throw std::out_of_range("index " + std::to_string(ix[j]) + " is out of bounds for dimension " +
                                std::to_string(p.source_dims[k] < 0 ? p.dims[k] : p.source_dims[k]) + " with size " +
                                std::to_string(size));
  }
}

Shape broadcast_indices(const ParsedIndex& p) {
  Shape b = p.tensors[0].shape();
  for (size_t k = 1; k < p.tensors.size(); ++k) {
    try {
      b = broadcast_shapes(b, p.tensors[k].shape(), "index");
    } catch (const std::invalid_argument&) {
      std::string shapes;
      for (const Tensor& t : p.tensors) shapes += (shapes.empty() ? "" : ", ") + shape_str(t.shape());
      throw std::out_of_range("shape mismatch: indexing tensors could not be broadcast together with shapes " + shapes);
    }
  }
  return b;
}

// The shape x[items] has, from the view's shape and the layout.
Shape result_shape(const Shape& view_shape, const AdvancedLayout& l, size_t k) {
  Shape front = l.bshape;
  for (size_t j = k; j < l.to_front.size(); ++j) front.push_back(view_shape[l.to_front[j]]);
  if (l.to_result.empty()) return front;
  Shape out;
  for (int64_t j : l.to_result) out.push_back(front[j]);
  return out;
}

}  // namespace

Tensor copy_slices(const Tensor& self, const std::vector<int64_t>& encoded, const Tensor& value) {
  Tensor out = self.clone_data();
  const Tensor view = basic_view(out, encoded);
  check_value_shape(value.shape(), view.shape());
  const Tensor v = value.dtype() == self.dtype() || !is_floating(self.dtype()) ? value : to_dtype(value, self.dtype());
  copy_into(view, v.shape() == view.shape() ? v.detach() : expand(v.detach(), view.shape()));
  if (auto node = record(kCopySlices, {self, v}, out)) node->attrs.ints = encoded;
  return out;
}

namespace {

bool has_mask(const std::vector<IndexItem>& items) {
  for (const IndexItem& it : items)
    if (it.kind == IndexItem::Tensor_ && it.tensor.defined() && is_mask_dtype(it.tensor.dtype())) return true;
  return false;
}

// gdcore.compile: x[mask] (whose size depends on the mask's values) and any index of a tensor whose size
// does (its ints and slices are normalised against that size) are recorded as one entry that indexes again
// with the same key at each replay, so every replay normalises and checks the key against its own sizes.
Tensor index_value_sized(const Tensor& a, const std::vector<IndexItem>& items) {
  std::vector<Tensor> inputs{a};
  std::vector<IndexItem> key = items;
  for (IndexItem& it : key)
    if (it.kind == IndexItem::Tensor_) {
      inputs.push_back(it.tensor);
      it.tensor = Tensor();  // (the replayed tensors take its place: the entry keeps none of the capture's alive)
    }
  auto again = [key](const std::vector<Tensor>& x) {
    std::vector<IndexItem> replayed = key;
    size_t j = 1;
    for (IndexItem& it : replayed)
      if (it.kind == IndexItem::Tensor_) it.tensor = x[j++];
    return std::vector<Tensor>{index(x[0], replayed)};
  };
  return capture::value_sized_op("index", inputs, again)[0];
}

}  // namespace

Tensor index(const Tensor& a, const std::vector<IndexItem>& items) {
  if (capture::is_capturing() && (has_mask(items) || capture::is_value_sized(a))) return index_value_sized(a, items);
  if (a.dim() == 0 && !items.empty()) {
    for (const IndexItem& it : items)
      if (it.kind != IndexItem::Ellipsis && it.kind != IndexItem::NewAxis &&
          !(it.kind == IndexItem::Tensor_ && is_mask_dtype(it.tensor.dtype()) && it.tensor.dim() == 0))
        throw std::out_of_range("invalid index of a 0-d tensor; use .item() to get its value");
  }
  ParsedIndex p = parse_index(a, items);
  Tensor view = p.trivial ? a : basic_index(a, p.enc);
  if (p.tensors.empty()) return view;
  check_index_values(view, p);
  const AdvancedLayout l = advanced_layout(view.dim(), p.dims, broadcast_indices(p));
  const Tensor front = is_identity(l.to_front) ? view : permute(view, l.to_front);
  const Tensor r = index_tensors(front, p.tensors);
  return l.to_result.empty() ? r : permute(r, l.to_result);
}

void index_put_(const Tensor& self, const std::vector<IndexItem>& items, const Tensor& value) {
  if (!self.impl()->storage->writable())
    throw std::invalid_argument("setitem: the tensor is read-only (it shares memory with a read-only numpy array or DLPack producer); clone() it first");
  check_no_internal_overlap(self, "setitem");
  if (self.dim() == 0)
    for (const IndexItem& it : items)
      if (it.kind == IndexItem::Int || it.kind == IndexItem::Slice)
        throw std::out_of_range("invalid index of a 0-d tensor; assign to it with t.fill_(value) or t[...] = value");
  ParsedIndex p = parse_index(self, items);
  const Tensor view = basic_view(self, p.enc);
  if (!p.tensors.empty()) check_index_values(view, p);
  const bool history = GradMode::is_enabled() && (self.requires_grad() || value.requires_grad());
  if (p.tensors.empty()) {
    if (history) return write_back(self, copy_slices(self, p.enc, value), "setitem");
    check_value_shape(value.shape(), view.shape());
    copy_into(view, value.shape() == view.shape() ? value : expand(value.detach(), view.shape()));
    self.bump_version();
    return;
  }
  const AdvancedLayout l = advanced_layout(view.dim(), p.dims, broadcast_indices(p));
  const size_t k = p.tensors.size();
  // The value as it would be read back from x[items], then laid out like index_put's (B + rest).
  const Shape shape = result_shape(view.shape(), l, k);
  check_value_shape(value.shape(), shape);
  const bool value_is_full = value.shape() == shape;
  Tensor v = value;
  if (!l.to_result.empty()) {
    v = permute(value_is_full ? value : expand(value, shape), inverse(l.to_result));
  }
  if (!history) {
    NoGradGuard guard;
    Shape fs, fst;  // the view with the advanced dims first (a view of self: written in place)
    for (int64_t d : l.to_front) {
      fs.push_back(view.shape()[d]);
      fst.push_back(view.strides()[d]);
    }
    index_put_(make_view(self, fs, fst, view.impl()->offset), p.tensors, v, /*accumulate=*/false);
    return;
  }
  // With history: the same, out of place on a snapshot of self, written back (torch's IndexPut/CopySlices).
  const Tensor basic = p.trivial ? self : basic_index(self, p.enc);
  const Tensor front = is_identity(l.to_front) ? basic : permute(basic, l.to_front);
  Tensor put = index_put(front, p.tensors, v, /*accumulate=*/false);
  if (!is_identity(l.to_front)) put = permute(put, inverse(l.to_front));
  write_back(self, p.trivial ? put : copy_slices(self, p.enc, put), "setitem");
}

}  // namespace gdcore
