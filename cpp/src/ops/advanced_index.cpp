// Advanced indexing: several int64 index tensors at once, broadcast together (numpy's rule),
// and its adjoint index_put. `x[range(n), target]`, `x[rows, cols]`, `x[mask]` and their
// assignments all come down to these two ops on the leading dims of a (permuted) view; the
// parsing of a Python key into that form lives in indexing.cpp.
// index_tensors and index_put are each other's backward (gather <-> scatter-add), so second
// derivatives work. Their loops run through trace::launch with the index tensors as op inputs,
// so gdcore.compile replays them and lowers them with new index values: every index is checked
// (inside the loop, before any element moves) at each run, never read out of bounds.
#include "ops/index_positions.hpp"

#include "gdcore/capture.hpp"
#include "gdcore/grad_mode.hpp"

namespace gdcore {
using namespace detail;

namespace {

// Index tensors as int64 (int32 ones are converted by a recorded cast, so a replay sees new values).
std::vector<Tensor> as_long(const std::vector<Tensor>& indices, const char* op) {
  std::vector<Tensor> out;
  out.reserve(indices.size());
  for (const Tensor& t : indices) {
    if (!t.defined()) throw std::invalid_argument(std::string(op) + ": an index tensor is undefined (None)");
    out.push_back(as_index_dtype(t, op));
  }
  return out;
}

Shape broadcast_all(const std::vector<Tensor>& indices, const char* op) {
  Shape b = indices[0].shape();
  for (size_t k = 1; k < indices.size(); ++k) {
    try {
      b = broadcast_shapes(b, indices[k].shape(), op);
    } catch (const std::invalid_argument&) {
      std::string shapes;
      for (const Tensor& t : indices) shapes += (shapes.empty() ? "" : ", ") + shape_str(t.shape());
      throw std::out_of_range(std::string("shape mismatch: indexing tensors could not be broadcast together with shapes ") +
                              shapes);
    }
  }
  return b;
}

void check_count(const Tensor& a, size_t k, const char* op) {
  if (k == 0) throw std::invalid_argument(std::string(op) + ": expected at least one index tensor");
  if (static_cast<int64_t>(k) > a.dim())
    throw std::out_of_range(std::string("too many indices for tensor of dimension ") + std::to_string(a.dim()) +
                            " (got " + std::to_string(k) + ")");
}

Shape tail(const Tensor& a, size_t k) { return Shape(a.shape().begin() + k, a.shape().end()); }

Tensor put_impl(const Tensor& self, const std::vector<Tensor>& idx, const Tensor& values, bool accumulate);

std::vector<Tensor> index_tensors_backward(Node& n, const Tensor& g) {
  std::vector<Tensor> grads(n.inputs.size());
  std::vector<Tensor> idx;
  for (size_t k = 0; k < n.saved.size(); ++k) idx.push_back(n.saved_tensor(k));
  grads[0] = index_put(Tensor::empty(n.input_shapes[0], g.dtype(), /*zero=*/true), idx, g, /*accumulate=*/true);
  return grads;
}
const OpDef kIndexTensors{"IndexTensorsBackward", index_tensors_backward};

std::vector<Tensor> index_put_backward(Node& n, const Tensor& g) {
  std::vector<Tensor> grads(n.inputs.size());
  std::vector<Tensor> idx;
  for (size_t k = 0; k < n.saved.size(); ++k) idx.push_back(n.saved_tensor(k));
  const bool accumulate = n.attrs.ints[0] != 0;
  if (n.needs_input_grad(0))  // overwritten positions got nothing from self
    grads[0] = accumulate ? g : index_put(g, idx, scalar_tensor(0.0, g.dtype()), false);
  if (n.needs_input_grad(1)) grads[1] = sum_to(index_tensors(g, idx), n.input_shapes[1]);
  return grads;
}
const OpDef kIndexPut{"IndexPutBackward", index_put_backward};

// Writes values (broadcast to B + rest) into `dst` (any strides) at the positions; no recording.
void put_into(const Tensor& dst, const std::vector<Tensor>& idx, const Shape& bshape, const Tensor& values,
              bool accumulate) {
  const size_t k = idx.size();
  const Shape rest = tail(dst, k);
  Shape full = bshape;
  full.insert(full.end(), rest.begin(), rest.end());
  check_value_shape(values.shape(), full);
  const Tensor v = cast_data(values, dst.dtype());
  const Shape vst = broadcast_strides(v, full);
  const size_t nb = bshape.size();
  const Positions pos = Positions::make(idx, bshape, dst);
  const std::vector<int64_t> vb = element_offsets(bshape, Shape(vst.begin(), vst.begin() + nb));
  const std::vector<int64_t> vr = element_offsets(rest, Shape(vst.begin() + nb, vst.end()));
  const std::vector<int64_t> dr = element_offsets(rest, Shape(dst.strides().begin() + k, dst.strides().end()));
  GD_DISPATCH_ALL(dst.dtype(), "index_put", [&] {
    scalar_t* d = static_cast<scalar_t*>(dst.impl()->storage->data()) + dst.impl()->offset;
    const scalar_t* s = static_cast<const scalar_t*>(v.impl()->storage->data()) + v.impl()->offset;
    trace::launch([pos, d, s, vb, vr, dr, accumulate] {
      const std::vector<int64_t> at = pos.offsets();  // all checked before anything is written
      const size_t inner = dr.size();
      for (size_t b = 0; b < at.size(); ++b) {
        scalar_t* row = d + at[b];
        const scalar_t* from = s + vb[b];
        if (accumulate)
          for (size_t j = 0; j < inner; ++j) row[dr[j]] += from[vr[j]];
        else
          for (size_t j = 0; j < inner; ++j) row[dr[j]] = from[vr[j]];
      }
    });
  });
}

Tensor put_impl(const Tensor& self, const std::vector<Tensor>& idx, const Tensor& values, bool accumulate) {
  const Shape bshape = broadcast_all(idx, "index_put");
  Tensor out = self.clone_data();
  put_into(out, idx, bshape, values, accumulate);
  return out;
}

}  // namespace

Tensor index_tensors(const Tensor& a, const std::vector<Tensor>& indices) {
  check_count(a, indices.size(), "index");
  const std::vector<Tensor> idx = as_long(indices, "index");
  const Shape bshape = broadcast_all(idx, "index");
  const size_t k = idx.size();
  const Shape rest = tail(a, k);
  Shape shape = bshape;
  shape.insert(shape.end(), rest.begin(), rest.end());
  for (size_t d = 0; d < k; ++d)  // (numpy and torch: indexing an empty dim is an error unless B is empty too)
    if (a.shape()[d] == 0 && shape_numel(bshape) > 0)
      throw std::out_of_range("index is out of bounds for dimension " + std::to_string(d) + " with size 0");
  Tensor out = Tensor::empty(shape, a.dtype());
  const Positions pos = Positions::make(idx, bshape, a);
  const Shape rest_strides(a.strides().begin() + k, a.strides().end());
  const bool rest_contiguous = rest_strides == contiguous_strides(rest);
  const std::vector<int64_t> rest_off = rest_contiguous ? std::vector<int64_t>() : element_offsets(rest, rest_strides);
  const int64_t inner = shape_numel(rest);
  const size_t item = itemsize(a.dtype());
  const char* src = static_cast<const char*>(a.impl()->storage->data()) + a.impl()->offset * item;
  char* dst = static_cast<char*>(out.raw_data());
  trace::launch([pos, src, dst, rest_off, inner, item, rest_contiguous] {
    const std::vector<int64_t> at = pos.offsets();  // all checked before anything is read
    for (size_t b = 0; b < at.size(); ++b) {
      const char* from = src + at[b] * static_cast<int64_t>(item);
      char* to = dst + static_cast<int64_t>(b) * inner * static_cast<int64_t>(item);
      if (rest_contiguous) {
        std::memcpy(to, from, static_cast<size_t>(inner) * item);
      } else {
        for (int64_t j = 0; j < inner; ++j) std::memcpy(to + j * item, from + rest_off[j] * item, item);
      }
    }
  });
  std::vector<Tensor> inputs{a};
  inputs.insert(inputs.end(), idx.begin(), idx.end());
  if (auto node = record(kIndexTensors, inputs, out))
    for (const Tensor& t : idx) save(*node, t);
  return out;
}

Tensor index_put(const Tensor& self, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate) {
  check_count(self, indices.size(), "index_put");
  const std::vector<Tensor> idx = as_long(indices, "index_put");
  if (values.dtype() != self.dtype() && !is_floating(self.dtype()) && is_floating(values.dtype()) &&
      values.requires_grad())
    throw std::invalid_argument("index_put: cannot write float values that require grad into an integer tensor");
  const Tensor v = values.dtype() == self.dtype() || !is_floating(self.dtype()) ? values : to_dtype(values, self.dtype());
  Tensor out = put_impl(self, idx, v, accumulate);
  std::vector<Tensor> inputs{self, v};
  inputs.insert(inputs.end(), idx.begin(), idx.end());
  if (auto node = record(kIndexPut, inputs, out)) {
    node->attrs.ints = {accumulate ? 1 : 0};
    for (const Tensor& t : idx) save(*node, t);
  }
  return out;
}

void index_put_(const Tensor& self, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate) {
  check_count(self, indices.size(), "index_put_");
  if (GradMode::is_enabled() && (self.requires_grad() || values.requires_grad())) {
    write_back(self, index_put(self, indices, values, accumulate), "index_put_");
    return;
  }
  if (!self.impl()->storage->writable())
    throw std::invalid_argument("index_put_: the tensor is read-only (it shares memory with a read-only numpy array); "
                                "clone() it first");
  check_no_internal_overlap(self, "index_put_");
  const std::vector<Tensor> idx = as_long(indices, "index_put_");
  put_into(self, idx, broadcast_all(idx, "index_put_"), values, accumulate);
  self.bump_version();
}

Tensor masked_select(const Tensor& a, const Tensor& mask) {
  if (capture::is_capturing())  // gdcore.compile: one entry that selects again at each replay (its size varies)
    return capture::value_sized_op("masked_select", {a, mask}, [](const std::vector<Tensor>& x) {
      return std::vector<Tensor>{masked_select(x[0], x[1])};
    })[0];
  if (!is_mask_dtype(mask.dtype()))
    throw std::runtime_error(std::string("masked_select: expected a bool mask, got ") + dtype_name(mask.dtype()) +
                             "; make one with a comparison (x > 0) or .bool()");
  const Shape b = broadcast_shapes(a.shape(), mask.shape(), "masked_select");
  Tensor ab = a.shape() == b ? a : expand(a, b);
  Tensor mb = mask.shape() == b ? mask : expand(mask.detach(), b);
  if (b.empty()) {  // 0-d: one element or none
    ab = reshape(ab, {1});
    mb = reshape(mb, {1});
  }
  return index_tensors(ab, mask_positions(mb, "masked_select"));
}

std::vector<Tensor> mask_positions(const Tensor& mask, const char* op) {
  if (!is_mask_dtype(mask.dtype()))
    throw std::invalid_argument(std::string(op) + ": expected a bool mask, got " + dtype_name(mask.dtype()));
  // Its result's shape depends on the values: a lowered step cannot repeat it, and gdcore.compile records
  // the callers (index, masked_select) as entries that run again at each replay; reached while recording
  // only through a C++ caller that has no such entry, which is refused.
  capture::on_unsupported("a boolean mask (x[mask], masked_select, nonzero: the result's size depends on the values)");
  trace::unsupported("a boolean mask");
  const Tensor m = mask.contiguous();
  const int64_t n = m.numel(), nd = m.dim();
  const uint8_t* p = static_cast<const uint8_t*>(m.raw_data());
  int64_t count = 0;
  for (int64_t j = 0; j < n; ++j) count += p[j] != 0;
  std::vector<Tensor> out;
  std::vector<int64_t*> w;
  for (int64_t d = 0; d < nd; ++d) {
    out.push_back(Tensor::empty({count}, DType::Int64));
    w.push_back(out.back().data<int64_t>());
  }
  std::vector<int64_t> at(nd, 0);
  for (int64_t j = 0, c = 0; j < n; ++j) {
    if (p[j]) {
      for (int64_t d = 0; d < nd; ++d) w[d][c] = at[d];
      ++c;
    }
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++at[d] < m.shape()[d]) break;
      at[d] = 0;
    }
  }
  return out;
}

}  // namespace gdcore
