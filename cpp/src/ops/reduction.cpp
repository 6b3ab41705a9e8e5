// sum, mean, amax, amin (over all dims or a list of dims, with keepdim) and argmax/argmin.
// One strided loop folds each input element into its output slot.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "kernels/sum_rows.hpp"
#include "ops/elementwise.hpp"

namespace gdcore {
using namespace detail;

namespace {

struct ReducePlan {
  std::vector<bool> reduced;  // per input dim
  Shape keep_shape;           // output shape with reduced dims kept as 1
  Shape out_shape;            // output shape as returned (keepdim or not)
  int64_t count = 1;          // elements folded into each output
};

ReducePlan plan_reduction(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim, const char* name) {
  ReducePlan p;
  const int64_t nd = a.dim();
  p.reduced.assign(nd, dims.empty());
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, nd, name);
    if (nd == 0) continue;
    if (p.reduced[w])
      throw std::invalid_argument(std::string(name) + ": dimension " + std::to_string(d) + " appears more than once");
    p.reduced[w] = true;
  }
  for (int64_t d = 0; d < nd; ++d) {
    if (p.reduced[d]) {
      p.count *= a.shape()[d];
      p.keep_shape.push_back(1);
      if (keepdim) p.out_shape.push_back(1);
    } else {
      p.keep_shape.push_back(a.shape()[d]);
      p.out_shape.push_back(a.shape()[d]);
    }
  }
  return p;
}

// True when every reduced dim comes before every kept one (a contiguous input is then
// (rows, kept elements) reduced over its rows), with at least one of each.
bool reduces_leading_dims(const ReducePlan& p) {
  size_t d = 0;
  while (d < p.reduced.size() && p.reduced[d]) ++d;
  if (d == 0 || d == p.reduced.size()) return false;
  for (; d < p.reduced.size(); ++d)
    if (p.reduced[d]) return false;
  return true;
}

// r + v in double: the fold of sum (floating types) and of mean. fold_to_tensor knows it by its
// type and hands a reduction over leading dims to the vector kernel that keeps its chains.
template <typename T>
struct AddInDouble {
  double operator()(double r, T v) const { return r + static_cast<double>(v); }
};

// Folds every element of `a` into its output slot (starting from `init`) and returns the
// slots, times `scale` when it is not 1, as a tensor of p.out_shape and dtype T. The loop is
// one trace::launch closure (its accumulator vector is its own, reused by a replay).
template <typename T, typename Acc, typename Fold>
Tensor fold_to_tensor(const Tensor& a, const ReducePlan& p, Acc init, Fold fold, double scale = 1.0) {
  Tensor out = Tensor::empty(p.out_shape, a.dtype());
  T* o = out.data<T>();
  const int64_t n_out = shape_numel(p.keep_shape);
  auto store = [scale](Acc v) { return static_cast<T>(scale == 1.0 ? v : v * scale); };
  if (a.is_contiguous() && n_out == 1) {
    const T* xs = a.data<T>();
    const int64_t n = a.numel();
    // One element (a per-sample loss): the same fold as an element loop, which a lowered step
    // runs fused with the elementwise ops around it (autograd/lowered_fusion.cpp).
    if constexpr (std::is_empty_v<Fold> && std::is_default_constructible_v<Fold>)
      if (n == 1 && trace::launch_unary(o, xs, false, 1, [init, scale](T v) {
            const Acc r = Fold{}(init, v);
            return static_cast<T>(scale == 1.0 ? r : r * scale);
          }))
        return out;
    trace::launch([o, xs, n, init, fold, store] {
      Acc r = init;
      for (int64_t k = 0; k < n; ++k) r = fold(r, xs[k]);
      o[0] = store(r);
    });
    return out;
  }
  if (a.is_contiguous() && reduces_leading_dims(p)) {
    // (rows, n_out) folded over its rows, e.g. a Linear layer's bias gradient g.sum(0): row by
    // row into every slot, the generic loop's order (same bits) without its call per row.
    const T* xs = a.data<T>();
    const int64_t rows = n_out ? a.numel() / n_out : 0;
    if constexpr (std::is_same_v<Fold, AddInDouble<T>>) {
      // A sum from +0.0 (sum's and mean's init): the same chains, vectorised across the columns.
      trace::launch([o, xs, rows, n_out, scale, acc = std::vector<double>(static_cast<size_t>(n_out))]() mutable {
        kernels::sum_rows<T>(xs, rows, n_out, acc.data(), o, scale);
      });
      return out;
    }
    trace::launch([o, xs, rows, n_out, init, fold, store, acc = std::vector<Acc>(static_cast<size_t>(n_out))]() mutable {
      std::fill(acc.begin(), acc.end(), init);
      Acc* c = acc.data();
      for (int64_t r = 0; r < rows; ++r) {
        const T* row = xs + r * n_out;
        for (int64_t k = 0; k < n_out; ++k) c[k] = fold(c[k], row[k]);
      }
      for (int64_t k = 0; k < n_out; ++k) o[k] = store(c[k]);
    });
    return out;
  }
  Shape out_st = contiguous_strides(p.keep_shape);
  for (size_t d = 0; d < p.reduced.size(); ++d)
    if (p.reduced[d]) out_st[d] = 0;
  const T* x = static_cast<const T*>(a.impl()->storage->data());
  trace::launch([o, x, init, fold, store, out_st, shape = a.shape(), st_a = a.strides(), offset = a.impl()->offset,
                 acc = std::vector<Acc>(static_cast<size_t>(n_out))]() mutable {
    std::fill(acc.begin(), acc.end(), init);
    Acc* c = acc.data();
    kernels::strided_loop<2>(shape, {out_st.data(), st_a.data()}, {0, offset},
                             [&](std::array<int64_t, 2> off, int64_t len, std::array<int64_t, 2> st) {
                               if (st[0] == 0) {
                                 Acc r = c[off[0]];
                                 for (int64_t k = 0; k < len; ++k) r = fold(r, x[off[1] + k * st[1]]);
                                 c[off[0]] = r;
                               } else {
                                 for (int64_t k = 0; k < len; ++k)
                                   c[off[0] + k * st[0]] = fold(c[off[0] + k * st[0]], x[off[1] + k * st[1]]);
                               }
                             });
    for (size_t k = 0; k < acc.size(); ++k) o[k] = store(acc[k]);
  });
  return out;
}

// The gradient of a reduction, broadcast back over the reduced dims.
Tensor expand_back(const Tensor& g, const Node& n) {
  return expand(reshape(g, n.attrs.shape), n.input_shapes[0]);
}

std::vector<Tensor> sum_backward(Node& n, const Tensor& g) { return {expand_back(g, n)}; }
const OpDef kSum{"SumBackward", sum_backward};

std::vector<Tensor> mean_backward(Node& n, const Tensor& g) { return {mul(expand_back(g, n), 1.0 / n.attrs.reals[0])}; }
const OpDef kMean{"MeanBackward", mean_backward};

// amax/amin: the gradient is shared evenly among the elements equal to the extreme.
std::vector<Tensor> extreme_backward(Node& n, const Tensor& g) {
  Tensor a = n.saved_tensor(0);
  Tensor hit = compare(a, expand_back(n.saved_tensor(1), n), CompareOp::Eq);
  std::vector<int64_t> dims(n.attrs.ints.begin(), n.attrs.ints.end());
  Tensor ties = dims.empty() ? sum(hit) : sum(hit, dims, true);
  return {mul(div(hit, expand(reshape(ties, n.attrs.shape), a.shape())), expand_back(g, n))};
}
const OpDef kAmax{"AmaxBackward", extreme_backward};
const OpDef kAmin{"AminBackward", extreme_backward};

std::vector<int64_t> reduced_dims(const ReducePlan& p) {
  std::vector<int64_t> dims;
  for (size_t d = 0; d < p.reduced.size(); ++d)
    if (p.reduced[d]) dims.push_back(static_cast<int64_t>(d));
  return dims;
}

Tensor record_reduction(const OpDef& op, const Tensor& a, Tensor out, const ReducePlan& p) {
  if (auto node = record(op, {a}, out)) {
    node->attrs.shape = p.keep_shape;
    node->attrs.reals = {static_cast<double>(p.count)};
    std::vector<int64_t> dims = reduced_dims(p);
    node->attrs.ints = dims;
    if (&op == &kAmax || &op == &kAmin) {
      save(*node, a);
      save(*node, out, /*is_output=*/true);
    }
  }
  return out;
}

Tensor extreme(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim, bool is_max) {
  const char* name = is_max ? "max" : "min";
  ReducePlan p = plan_reduction(a, dims, keepdim, name);
  // Reducing over an empty dim has no answer (no identity for max/min) unless the result is empty too.
  if (p.count == 0 && shape_numel(p.keep_shape) > 0)
    throw std::invalid_argument(std::string(name) + ": cannot reduce over an empty dimension of the tensor of shape " +
                                shape_str(a.shape()) + " (there is no identity for max/min)");
  Tensor out = GD_DISPATCH_ALL(a.dtype(), name, [&] {
    // (bools fold in uint8: a std::vector<bool> accumulator would be bit-packed)
    using A = std::conditional_t<std::is_same_v<scalar_t, bool>, uint8_t, scalar_t>;
    const A init = is_max ? std::numeric_limits<scalar_t>::lowest() : std::numeric_limits<scalar_t>::max();
    return is_max ? fold_to_tensor<scalar_t, A>(a, p, init, [](A r, scalar_t v) { return (v > r || v != v) ? A(v) : r; })
                  : fold_to_tensor<scalar_t, A>(a, p, init, [](A r, scalar_t v) { return (v < r || v != v) ? A(v) : r; });
  });
  return record_reduction(is_max ? kAmax : kAmin, a, out, p);
}

template <typename T> using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

std::vector<Tensor> no_backward(Node&, const Tensor&) {
  throw std::logic_error("argmax/argmin have no gradient (their output is int64)");
}
const OpDef kArgmax{"Argmax", no_backward};
const OpDef kArgmin{"Argmin", no_backward};

Tensor arg_extreme(const Tensor& a, int64_t dim, bool keepdim, bool is_max) {
  const char* name = is_max ? "argmax" : "argmin";
  const int64_t d = wrap_dim(dim, a.dim(), name);
  if (a.dim() == 0) return scalar_tensor(0, DType::Int64);
  const int64_t len = a.shape()[d];
  trace::unsupported("argmax/argmin");  // its row scan is a plain loop
  if (len == 0) throw std::invalid_argument(std::string(name) + ": cannot reduce an empty dimension");
  // Move `dim` last and make rows contiguous, then scan each row.
  std::vector<int64_t> perm;
  for (int64_t k = 0; k < a.dim(); ++k)
    if (k != d) perm.push_back(k);
  perm.push_back(d);
  Tensor rows = permute(a.detach(), perm).clone_data();
  Shape out_shape = a.shape();
  if (keepdim) out_shape[d] = 1;
  else out_shape.erase(out_shape.begin() + d);
  Tensor out = Tensor::empty(out_shape, DType::Int64);
  int64_t* o = out.data<int64_t>();
  const int64_t n_rows = a.numel() / len;
  GD_DISPATCH_ALL(a.dtype(), name, [&] {
    const scalar_t* x = rows.data<scalar_t>();
    for (int64_t r = 0; r < n_rows; ++r) {
      const scalar_t* row = x + r * len;
      int64_t best = 0;
      // The first NaN wins, as in torch (max/min propagate NaN, so its index is the answer);
      // v != v is false for integers and bools.
      for (int64_t k = 1; k < len && row[best] == row[best]; ++k)
        if (row[k] != row[k] || (is_max ? row[k] > row[best] : row[k] < row[best])) best = k;
      o[r] = best;
    }
  });
  // No gradient: recorded only for gdcore.compile, so that a replay finds the extremes of the new values
  // (max(dim) gathers its values at these indices).
  if (capture::is_capturing())
    capture::on_record(is_max ? kArgmax : kArgmin, {a}, out, nullptr)->attrs.ints = {d, keepdim ? 1 : 0};
  return out;
}

}  // namespace

Tensor sum(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  ReducePlan p = plan_reduction(a, dims, keepdim, "sum");
  // Bools and integers sum in int64 (as torch's sum does): one kernel per compute type.
  const Tensor x = is_floating(a.dtype()) ? a : cast_data(a, DType::Int64);
  Tensor out = GD_DISPATCH_FLOAT_INT64(x.dtype(), "sum", [&] {
    using A = acc_t<scalar_t>;
    if constexpr (std::is_floating_point_v<scalar_t>) return fold_to_tensor<scalar_t, A>(x, p, 0.0, AddInDouble<scalar_t>{});
    else return fold_to_tensor<scalar_t, A>(x, p, A(0), [](A r, scalar_t v) { return r + static_cast<A>(v); });
  });
  return record_reduction(kSum, a, out, p);
}

Tensor mean(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  if (!is_floating(a.dtype()))
    throw std::invalid_argument(std::string("mean: expected a float32 or float64 tensor, got ") + dtype_name(a.dtype()) +
                                "; convert with .float() first");
  ReducePlan p = plan_reduction(a, dims, keepdim, "mean");
  Tensor out = GD_DISPATCH_FLOAT(a.dtype(), "mean", [&] {
    return fold_to_tensor<scalar_t, double>(a, p, 0.0, AddInDouble<scalar_t>{},
                                            p.count ? 1.0 / static_cast<double>(p.count) : NAN);
  });
  return record_reduction(kMean, a, out, p);
}

Tensor amax(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) { return extreme(a, dims, keepdim, true); }
Tensor amin(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) { return extreme(a, dims, keepdim, false); }
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) { return arg_extreme(a, dim, keepdim, true); }
Tensor argmin(const Tensor& a, int64_t dim, bool keepdim) { return arg_extreme(a, dim, keepdim, false); }

// max(dim)/min(dim) return the input gathered at the returned indices, so the values' gradient
// goes to that one element, as torch's MaxBackward0 does; amax/amin (and max() over all
// elements) share it evenly among ties instead, as torch's do.
std::pair<Tensor, Tensor> extreme_with_index(const Tensor& a, int64_t dim, bool keepdim, bool is_max) {
  const char* name = is_max ? "max" : "min";
  const int64_t d = wrap_dim(dim, a.dim(), name);
  if (a.dim() == 0) return {clone(a), scalar_tensor(0, DType::Int64)};
  if (a.shape()[d] == 0)
    throw std::invalid_argument(std::string(name) + ": cannot reduce over the empty dimension " + std::to_string(dim) +
                                " of the tensor of shape " + shape_str(a.shape()) + " (there is no identity for max/min)");
  Tensor index = arg_extreme(a, d, /*keepdim=*/true, is_max);
  Tensor values = gather(a, d, index);
  if (keepdim) return {values, index};
  return {squeeze(values, d), squeeze(index, d)};
}
std::pair<Tensor, Tensor> max_dim(const Tensor& a, int64_t dim, bool keepdim) {
  return extreme_with_index(a, dim, keepdim, true);
}
std::pair<Tensor, Tensor> min_dim(const Tensor& a, int64_t dim, bool keepdim) {
  return extreme_with_index(a, dim, keepdim, false);
}

}  // namespace gdcore
