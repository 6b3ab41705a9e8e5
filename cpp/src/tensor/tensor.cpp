// Tensor construction, layout queries, aliases and the strided copy.
#include "gdcore/tensor.hpp"

#include <cstring>
#include <stdexcept>

#include "gdcore/autograd.hpp"
#include "gdcore/kernel_trace.hpp"
#include "kernels/strided_loop.hpp"
#include "gdcore/object_pool.hpp"

namespace gdcore {

namespace {
std::shared_ptr<std::atomic<uint64_t>> new_version() { return make_pooled<std::atomic<uint64_t>>(0); }
}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, bool zero) {
  const int64_t n = shape_numel(shape);
  if (n > static_cast<int64_t>(SIZE_MAX / 8))
    throw std::length_error("tensor of shape " + shape_str(shape) + " is too large to allocate");
  auto impl = make_pooled<TensorImpl>();
  impl->storage = make_pooled<Storage>(static_cast<size_t>(n) * itemsize(dtype), zero);
  if (trace::KernelTrace* t = trace::active()) {  // gdcore.compile is lowering a step
    t->held.push_back(impl->storage);
    if (zero && n > 0) {  // zero-filled at allocation: a replay fills it again
      void* p = impl->storage->data();
      const size_t bytes = impl->storage->nbytes();
      t->steps.emplace_back([p, bytes] { std::memset(p, 0, bytes); });
    }
  }
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  impl->version = new_version();
  return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t d) const {
  // wrap_dim lets a 0-d tensor's reductions name dim 0 or -1, but such a tensor has no size to read (torch raises).
  if (dim() == 0)
    throw std::out_of_range("size: dimension " + std::to_string(d) +
                            " specified, but a 0-d tensor has no dimensions; use .shape (an empty Size)");
  return shape()[wrap_dim(d, dim(), "size")];
}

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // nothing to lay out (numpy gives empty arrays zero strides)
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (shape()[d] == 1) continue;
    if (strides()[d] != expected) return false;
    expected *= shape()[d];
  }
  return true;
}

void Tensor::set_requires_grad(bool flag) {
  if (!is_leaf()) {
    if (!flag)
      throw std::runtime_error(
          "you can only change requires_grad flags of leaf tensors; use .detach() to get a tensor without history");
    return;
  }
  if (flag && !is_floating(dtype()))
    throw std::runtime_error(std::string("only floating point tensors can require gradients, got ") +
                             dtype_name(dtype()) + "; convert with .float() or .double() first");
  impl_->requires_grad = flag;
}

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = make_pooled<TensorImpl>();
  impl->storage = base.impl()->storage;
  impl->offset = offset;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->dtype = base.dtype();
  impl->version = base.impl()->version;
  impl->is_view = true;
  return Tensor(std::move(impl));
}

Tensor Tensor::detach() const {
  Tensor t = make_view(*this, shape(), strides(), impl_->offset);
  t.impl()->is_view = impl_->is_view;
  return t;
}

Tensor Tensor::data_alias() const {
  Tensor t = detach();
  t.impl()->version = new_version();
  return t;
}

Tensor Tensor::clone_data() const {
  Tensor out = Tensor::empty(shape(), dtype());
  copy_into(out, *this);
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone_data(); }

double Tensor::item() const {
  if (numel() != 1)
    throw std::invalid_argument("a tensor with " + std::to_string(numel()) + " elements (shape " + shape_str(shape()) +
                                ") cannot be converted to a Python number; only one-element tensors can");
  trace::unsupported("a tensor's value read in C++ (item)");  // a replay would reuse this value
  return GD_DISPATCH_ALL(dtype(), "item", [&] { return static_cast<double>(*data<scalar_t>()); });
}

void copy_into(const Tensor& dst, const Tensor& src) {
  if (dst.shape() != src.shape())
    throw std::invalid_argument("copy: shapes " + shape_str(dst.shape()) + " and " + shape_str(src.shape()) +
                                " differ");
  GD_DISPATCH_ALL(dst.dtype(), "copy", [&] {
    using dst_t = scalar_t;
    dst_t* out = static_cast<dst_t*>(dst.impl()->storage->data());
    GD_DISPATCH_ALL(src.dtype(), "copy", [&] {
      const scalar_t* in = static_cast<const scalar_t*>(src.impl()->storage->data());
      if (dst.is_contiguous() && src.is_contiguous()) {
        dst_t* o = out + dst.impl()->offset;
        const scalar_t* i = in + src.impl()->offset;
        const int64_t n = dst.numel();
        if (trace::launch_unary(o, i, false, n, [](scalar_t v) { return cast_value<dst_t>(v); })) return;
        trace::launch([o, i, n] {
          for (int64_t k = 0; k < n; ++k) o[k] = cast_value<dst_t>(i[k]);
        });
        return;
      }
      trace::launch([out, in, shape = dst.shape(), sd = dst.strides(), ss = src.strides(), od = dst.impl()->offset,
                     os = src.impl()->offset] {
        kernels::strided_loop<2>(shape, {sd.data(), ss.data()}, {od, os},
                                 [&](std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> st) {
                                   for (int64_t k = 0; k < n; ++k)
                                     out[off[0] + k * st[0]] = cast_value<dst_t>(in[off[1] + k * st[1]]);
                                 });
      });
    });
  });
}

void check_no_internal_overlap(const Tensor& t, const char* name) {
  if (t.numel() == 0) return;
  for (size_t d = 0; d < t.shape().size(); ++d) {
    if (t.shape()[d] > 1 && t.strides()[d] == 0)
      throw std::runtime_error(std::string(name) + ": more than one element of the written-to tensor refers to the same "
                               "memory (dimension " + std::to_string(d) + " of shape " + shape_str(t.shape()) +
                               " has stride 0, as expand() makes); clone() it before changing it in place");
  }
}

}  // namespace gdcore
