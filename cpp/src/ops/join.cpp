// cat and stack. The backward of cat hands each input its slice of the gradient.
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

// A differentiable narrow along `dim`, expressed as a basic index so that it records.
Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length) {
  std::vector<IndexItem> items(static_cast<size_t>(dim + 1));
  for (int64_t d = 0; d <= dim; ++d) {
    items[d].kind = IndexItem::Slice;
    if (d == dim) {
      items[d].start = start;
      items[d].stop = start + length;
    }
  }
  return index(t, items);
}

std::vector<Tensor> cat_backward(Node& n, const Tensor& g) {
  const int64_t dim = n.attrs.ints[0];
  std::vector<Tensor> grads(n.inputs.size());
  int64_t start = 0;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const int64_t len = n.input_shapes[i][dim];
    if (n.needs_input_grad(i)) grads[i] = narrow(g, dim, start, len);
    start += len;
  }
  return grads;
}
const OpDef kCat{"CatBackward", cat_backward};

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw std::invalid_argument("cat: expected a non-empty list of tensors");
  const Tensor& first = tensors[0];
  if (first.dim() == 0) throw std::invalid_argument("cat: zero-dimensional tensor (at position 0) cannot be concatenated; use stack");
  const int64_t d = wrap_dim(dim, first.dim(), "cat");
  DType dt = first.dtype();
  int64_t total = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (t.dim() != first.dim())
      throw std::invalid_argument("cat: tensors must have the same number of dimensions: entry 0 has shape " +
                                  shape_str(first.shape()) + " but entry " + std::to_string(i) + " has shape " + shape_str(t.shape()));
    for (int64_t k = 0; k < t.dim(); ++k)
      if (k != d && t.shape()[k] != first.shape()[k])
        throw std::invalid_argument("cat: sizes must match except in dimension " + std::to_string(d) + ": entry 0 has shape " +
                                    shape_str(first.shape()) + " but entry " + std::to_string(i) + " has shape " + shape_str(t.shape()));
    total += t.shape()[d];
    dt = promote(dt, t.dtype());
  }
  Shape shape = first.shape();
  shape[d] = total;
  Tensor out = Tensor::empty(shape, dt);
  int64_t start = 0;
  for (const Tensor& t : tensors) {
    Shape sh = shape;
    sh[d] = t.shape()[d];
    copy_into(make_view(out, sh, out.strides(), start * out.strides()[d]), t);
    start += t.shape()[d];
  }
  if (auto node = record(kCat, tensors, out)) node->attrs.ints = {d};
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw std::invalid_argument("stack: expected a non-empty list of tensors");
  for (size_t i = 1; i < tensors.size(); ++i)
    if (tensors[i].shape() != tensors[0].shape())
      throw std::invalid_argument("stack: expects each tensor to be equal size, but got " + shape_str(tensors[0].shape()) +
                                  " at entry 0 and " + shape_str(tensors[i].shape()) + " at entry " + std::to_string(i));
  const int64_t d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (const Tensor& t : tensors) parts.push_back(unsqueeze(t, d));
  return cat(parts, d);
}

}  // namespace gdcore
