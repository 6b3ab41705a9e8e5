// The test hook of gdcore/cross_entropy_rows.hpp: cross_entropy's row kernels on given logits,
// either the path the op takes or every row through the one-row kernels.
#include "gdcore/cross_entropy_rows.hpp"

#include <stdexcept>
#include <string>

#include "kernels/cross_entropy.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {

std::pair<Tensor, Tensor> cross_entropy_rows_for_tests(const Tensor& x, const Tensor& target,
                                                       const std::optional<Tensor>& weight, int64_t ignore_index,
                                                       double eps, double scale, bool with_grad, bool one_by_one) {
  const char* op = "_cross_entropy_rows";
  if (x.dim() != 2 || !is_floating(x.dtype()) || !x.is_contiguous())
    throw std::invalid_argument(std::string(op) + ": x must be a contiguous 2-d float tensor, got shape " +
                                shape_str(x.shape()) + " of " + dtype_name(x.dtype()));
  const int64_t m = x.shape()[0], c = x.shape()[1];
  if (target.dtype() != DType::Int64 || target.shape() != Shape{m} || !target.is_contiguous())
    throw std::invalid_argument(std::string(op) + ": target must be contiguous int64 of shape (" + std::to_string(m) +
                                ",), got shape " + shape_str(target.shape()) + " of " + dtype_name(target.dtype()));
  if (weight && (weight->dtype() != x.dtype() || weight->shape() != Shape{c} || !weight->is_contiguous()))
    throw std::invalid_argument(std::string(op) + ": weight must be contiguous of x's dtype and shape (" +
                                std::to_string(c) + ",), got shape " + shape_str(weight->shape()));
  kernels::check_class_targets(target.data<int64_t>(), m, c, ignore_index, op);
  Tensor loss = Tensor::empty({m}, DType::Float64);
  Tensor grad = with_grad ? Tensor::empty({m, c}, x.dtype()) : Tensor();
  GD_DISPATCH_FLOAT(x.dtype(), op, [&] {
    using T = scalar_t;
    const T* w = weight ? weight->data<T>() : nullptr;
    T* g = with_grad ? grad.data<T>() : nullptr;
    auto run = one_by_one ? &kernels::cross_entropy_rows_one_by_one<T> : &kernels::cross_entropy_rows<T>;
    run(x.data<T>(), target.data<int64_t>(), w, m, c, ignore_index, eps, loss.data<double>(), g, static_cast<T>(scale));
  });
  return {loss, grad};
}

}  // namespace gdcore
