// The tensor: a strided view of a Storage plus the autograd fields a torch user
// expects (requires_grad, grad, grad_fn, a version counter for in-place checks).
// `Tensor` is a cheap handle (a shared_ptr to TensorImpl); copies alias.
#pragma once
#include <atomic>
#include <memory>
#include <string>

#include "gdcore/dtype.hpp"
#include "gdcore/kernel_trace.hpp"
#include "gdcore/shape.hpp"
#include "gdcore/storage.hpp"

namespace gdcore {

struct Node;
class Tensor;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Shape strides;  // in elements
  DType dtype = DType::Float32;

  // Autograd state.
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;           // null for leaves
  uint32_t output_nr = 0;                  // which output of grad_fn this is (custom Functions have several)
  std::shared_ptr<TensorImpl> grad;        // accumulated gradient of a leaf
  std::shared_ptr<std::atomic<uint64_t>> version;  // shared by views of one base
  bool is_view = false;  // aliases another tensor's memory (in-place on it + autograd is refused)
  std::string name;      // optional label used by graph drawings
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // A fresh contiguous tensor (uninitialised unless zero is set).
  static Tensor empty(const Shape& shape, DType dtype, bool zero = false);

  bool defined() const { return impl_ != nullptr; }
  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }
  TensorImpl* get() const { return impl_.get(); }

  DType dtype() const { return impl_->dtype; }
  const Shape& shape() const { return impl_->shape; }
  const Shape& strides() const { return impl_->strides; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  // The product of the sizes, unchecked: every tensor's shape was checked when it was made.
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t s : impl_->shape) n *= s;
    return n;
  }
  int64_t size(int64_t d) const;
  bool is_contiguous() const;

  template <typename T> T* data() const {
    return static_cast<T*>(impl_->storage->data()) + impl_->offset;
  }
  void* raw_data() const {
    return static_cast<char*>(impl_->storage->data()) + impl_->offset * itemsize(dtype());
  }

  // Autograd accessors.
  bool requires_grad() const { return impl_->requires_grad; }
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  Tensor grad() const { return Tensor(impl_->grad); }
  void set_grad(const Tensor& g) { impl_->grad = g.impl_; }
  uint64_t version() const { return impl_->version->load(); }
  // (A lowered replay of gdcore.compile repeats the bump: versions catch in-place changes.)
  void bump_version() const {
    impl_->version->fetch_add(1);
    if (trace::KernelTrace* t = trace::active()) {
      t->version_bumps.push_back({t->steps.size(), impl_->version});
      t->steps.emplace_back([v = impl_->version] { v->fetch_add(1); });
    }
  }
  // Sets requires_grad on a leaf; refuses on a non-leaf (as torch does).
  void set_requires_grad(bool flag);

  // Views and copies that never record autograd history.
  Tensor detach() const;         // alias, no history, same version counter (torch semantics)
  Tensor data_alias() const;     // `.data`: alias, no history, its own version counter
  Tensor contiguous() const;     // self if already contiguous, else a copy (recorded by ops)
  Tensor clone_data() const;     // contiguous copy, no history
  double item() const;           // value of a one-element tensor as double

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// A view of `base`'s storage with a new layout (no autograd recording).
Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset);

// Copies src into dst elementwise (shapes must match, dtypes may differ).
void copy_into(const Tensor& dst, const Tensor& src);

// Throws (std::runtime_error -> RuntimeError) when several elements of `t` share one memory
// location (a stride-0 dimension of size > 1, as expand() makes): an in-place op `name` on it
// would write each location several times and give a silently wrong result.
void check_no_internal_overlap(const Tensor& t, const char* name);

}  // namespace gdcore
