// In-place ops. Without autograd history they run a kernel over the target (views
// included) and bump its version counter, so a graph that saved the old values
// refuses to backward through them. With history (a non-leaf that requires grad)
// the out-of-place result is written back and becomes the tensor's history.
#include <functional>
#include "gdcore/capture.hpp"
#include "gdcore/grad_mode.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

void check_writable(const Tensor& self, const char* name) {
  if (!self.impl()->storage->writable())
    throw std::invalid_argument(std::string(name) +
                                ": the tensor is read-only (it shares memory with a read-only numpy array or DLPack producer); "
                                "clone() it or pass a writable array");
  check_no_internal_overlap(self, name);
}

bool needs_history(const Tensor& self, const Tensor& other) {
  return GradMode::is_enabled() && (self.requires_grad() || (other.defined() && other.requires_grad()));
}

// `self`'s current values with its current history, to be the input of the recorded op. A copy,
// not an alias: the op may save its input for backward, and `self` is overwritten right after
// (torch saves the original self in the same way), so `a.mul_(x)` backpropagates correctly.
Tensor history_snapshot(const Tensor& self) {
  Tensor old = self.clone_data();
  old.impl()->requires_grad = self.requires_grad();
  old.impl()->grad_fn = self.grad_fn();
  old.impl()->output_nr = self.impl()->output_nr;
  return old;
}

template <typename OutOfPlace>
void rebase(const Tensor& self, const char* name, OutOfPlace compute) {
  if (self.is_leaf() && self.requires_grad())
    throw std::runtime_error(std::string("a leaf tensor that requires grad is being used in an in-place operation (") +
                             name + "); do the update under gdcore.no_grad() or on .data (p.data -= lr * p.grad)");
  if (self.impl()->is_view)
    throw std::runtime_error(std::string(name) +
                             ": in-place change of a view that takes part in autograd is not supported; "
                             "use the out-of-place op (x = x + y) instead");
  Tensor result = to_dtype(compute(history_snapshot(self)), self.dtype());
  if (result.shape() != self.shape())
    throw std::invalid_argument(std::string(name) + ": the result has shape " + shape_str(result.shape()) +
                                " but the in-place target has shape " + shape_str(self.shape()));
  copy_into(self, result);
  self.bump_version();
  self.impl()->grad_fn = result.grad_fn();
  self.impl()->output_nr = result.impl()->output_nr;
  self.impl()->requires_grad = result.requires_grad();
}

// self[i] = f(self[i], other[i]) with `other` broadcast to self's shape.
template <typename F>
void apply_inplace(const Tensor& self, const Tensor& other, const char* name, F f) {
  Shape b = broadcast_shapes(self.shape(), other.shape(), name);
  if (b != self.shape())
    throw std::invalid_argument(std::string(name) + ": shape " + shape_str(other.shape()) +
                                " cannot be broadcast to the in-place target's shape " + shape_str(self.shape()));
  // torch's canCast: a float result never goes into an integer tensor, nor a number into a bool one.
  const DType result = result_dtype(self, other);
  if ((is_floating(result) && !is_floating(self.dtype())) || (result != DType::Bool && self.dtype() == DType::Bool))
    throw std::runtime_error(std::string(name) + ": result type " + dtype_name(result) + " can't be cast to the desired "
                             "output type " + dtype_name(self.dtype()) + " of the in-place target; convert the target "
                             "first (e.g. x = x.float())");
  Tensor y = cast_data(other, self.dtype());
  GD_DISPATCH_ALL(self.dtype(), name, [&] {
    scalar_t* x = static_cast<scalar_t*>(self.impl()->storage->data());
    const scalar_t* v = static_cast<const scalar_t*>(y.impl()->storage->data());
    auto fn = f.template operator()<scalar_t>();
    if (self.is_contiguous() && y.is_contiguous() && y.shape() == self.shape()) {
      scalar_t* xs = x + self.impl()->offset;
      const scalar_t* vs = v + y.impl()->offset;
      const int64_t n = self.numel();
      trace::launch([xs, vs, n, fn] {
        for (int64_t k = 0; k < n; ++k) xs[k] = fn(xs[k], vs[k]);
      });
      return;
    }
    // A contiguous target times one number from other memory (cross_entropy's gradient times the
    // upstream gradient): the same fn per element as the strided loop below, without its set-up.
    // The number is read inside the closure (a replay must see the new value), once: it cannot
    // change during the loop, as it lies outside the elements the loop writes.
    const scalar_t* one = v + y.impl()->offset;
    scalar_t* first = x + self.impl()->offset;
    if (self.is_contiguous() && y.numel() == 1 &&
        (std::less<const scalar_t*>()(one, first) || !std::less<const scalar_t*>()(one, first + self.numel()))) {
      scalar_t* xs = first;
      const scalar_t* vs = one;
      const int64_t n = self.numel();
      trace::launch([xs, vs, n, fn] {
        const scalar_t value = *vs;
        for (int64_t k = 0; k < n; ++k) xs[k] = fn(xs[k], value);
      });
      return;
    }
    trace::launch([x, v, fn, shape = self.shape(), sx = self.strides(), sy = broadcast_strides(y, self.shape()),
                   ox = self.impl()->offset, oy = y.impl()->offset] {
      kernels::strided_loop<2>(shape, {sx.data(), sy.data()}, {ox, oy},
                               [&](std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> st) {
                                 for (int64_t k = 0; k < n; ++k) {
                                   scalar_t& t = x[off[0] + k * st[0]];
                                   t = fn(t, v[off[1] + k * st[1]]);
                                 }
                               });
    });
  });
  self.bump_version();
}

}  // namespace

void add_(const Tensor& self, const Tensor& other, double alpha) {
  if (capture::is_capturing())
    capture::on_inplace("add_", {self, other}, [alpha](const std::vector<Tensor>& t) { add_(t[0], t[1], alpha); });
  check_writable(self, "add_");
  if (needs_history(self, other))
    return rebase(self, "add_", [&](const Tensor& old) { return add(old, alpha == 1.0 ? other : mul(other, alpha)); });
  apply_inplace(self, other, "add_", [alpha]<typename T>() {
    return [a = static_cast<T>(alpha)](T x, T y) { return static_cast<T>(x + a * y); };
  });
}

void mul_(const Tensor& self, const Tensor& other) {
  if (capture::is_capturing()) capture::on_inplace("mul_", {self, other}, [](const std::vector<Tensor>& t) { mul_(t[0], t[1]); });
  check_writable(self, "mul_");
  if (needs_history(self, other)) return rebase(self, "mul_", [&](const Tensor& old) { return mul(old, other); });
  apply_inplace(self, other, "mul_", []<typename T>() { return [](T x, T y) { return static_cast<T>(x * y); }; });
}

void div_(const Tensor& self, const Tensor& other) {
  if (capture::is_capturing()) capture::on_inplace("div_", {self, other}, [](const std::vector<Tensor>& t) { div_(t[0], t[1]); });
  check_writable(self, "div_");
  if (!is_floating(self.dtype()))
    throw std::runtime_error(std::string("div_: true division in place of an integer or bool tensor (") +
                             dtype_name(self.dtype()) + ") would give floats; use .float() first");
  if (needs_history(self, other)) return rebase(self, "div_", [&](const Tensor& old) { return div(old, other); });
  apply_inplace(self, other, "div_", []<typename T>() { return [](T x, T y) { return static_cast<T>(x / y); }; });
}

void fill_(const Tensor& self, double value) {
  if (capture::is_capturing()) capture::on_inplace("fill_", {self}, [value](const std::vector<Tensor>& t) { fill_(t[0], value); });
  check_writable(self, "fill_");
  if (GradMode::is_enabled() && self.requires_grad()) {
    if (self.is_leaf())
      throw std::runtime_error("a leaf tensor that requires grad is being used in an in-place operation (fill_); "
                               "do it under gdcore.no_grad() or on .data");
    // The values no longer depend on anything: drop the history.
    self.impl()->grad_fn.reset();
    self.impl()->requires_grad = false;
  }
  apply_inplace(self, scalar_tensor(value, self.dtype()), "fill_",
                []<typename T>() { return [](T, T y) { return y; }; });
}

void copy_(const Tensor& self, const Tensor& src) {
  if (capture::is_capturing()) capture::on_inplace("copy_", {self, src}, [](const std::vector<Tensor>& t) { copy_(t[0], t[1]); });
  check_writable(self, "copy_");
  if (needs_history(self, src)) return rebase(self, "copy_", [&](const Tensor&) { return clone(expand(src, self.shape())); });
  if (self.dtype() != src.dtype()) {  // copy_ converts any dtype to any other, as torch's does
    Shape b = broadcast_shapes(self.shape(), src.shape(), "copy_");
    if (b != self.shape())
      throw std::invalid_argument("copy_: shape " + shape_str(src.shape()) + " cannot be broadcast to " + shape_str(self.shape()));
    copy_into(self, expand(src.detach(), self.shape()));
    self.bump_version();
    return;
  }
  apply_inplace(self, src, "copy_", []<typename T>() { return [](T, T y) { return y; }; });
}

}  // namespace gdcore
