// sort, argsort, topk and unique. The order is computed as int64 indices by one primitive,
// sort_indices (no gradient); the values are then gather(a, dim, indices), so their gradient
// is gather's (scattered back to where each value came from) with no rule of their own.
// sort_indices is recorded for gdcore.compile as a gradient-free op (its indices feed the
// gather), and its loop runs through trace::launch, so a step using sort or topk is lowered.
// NaN sorts as larger than every number, as in torch. unique's output size depends on the
// values, so it refuses capture and marks the trace.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "gdcore/capture.hpp"
#include "ops/index_positions.hpp"

namespace gdcore {
using namespace detail;

namespace {

std::vector<Tensor> no_backward(Node&, const Tensor&) {
  throw std::logic_error("sort_indices has no gradient (its output is int64)");
}
const OpDef kSortIndices{"SortIndices", no_backward};

template <typename T>
bool nan_aware_less(T x, T y) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(y)) return !std::isnan(x);
    if (std::isnan(x)) return false;
  }
  return x < y;
}

}  // namespace

// The first k (all when k < 0) positions along `dim` of each row, in sorted order; ties keep
// their input order (a stable sort), which is one of the orders torch allows when stable=False.
Tensor sort_indices(const Tensor& a, int64_t dim, bool descending, int64_t k) {
  const int64_t nd = a.dim() == 0 ? 1 : a.dim();
  const int64_t d = wrap_dim(dim, nd, "sort");
  const Tensor x = a.dim() == 0 ? reshape(a.detach(), {1}) : a.contiguous();
  const int64_t size = x.shape()[d];
  const int64_t take = k < 0 ? size : k;
  int64_t outer = 1, inner = 1;
  for (int64_t j = 0; j < d; ++j) outer *= x.shape()[j];
  for (int64_t j = d + 1; j < x.dim(); ++j) inner *= x.shape()[j];
  Shape shape = a.shape();
  if (a.dim() > 0) shape[d] = take;
  Tensor out = Tensor::empty(shape, DType::Int64);
  GD_DISPATCH_ALL(a.dtype(), "sort", [&] {
    trace::launch([src = x.data<scalar_t>(), o = out.data<int64_t>(), outer, inner, size, take, descending] {
      std::vector<int64_t> order(static_cast<size_t>(size));
      for (int64_t p = 0; p < outer; ++p)
        for (int64_t q = 0; q < inner; ++q) {
          const scalar_t* row = src + p * size * inner + q;
          std::iota(order.begin(), order.end(), int64_t{0});
          auto by_value = [row, inner, descending](int64_t i, int64_t j) {
            return descending ? nan_aware_less(row[j * inner], row[i * inner])
                              : nan_aware_less(row[i * inner], row[j * inner]);
          };
          std::stable_sort(order.begin(), order.end(), by_value);
          for (int64_t j = 0; j < take; ++j) o[(p * take + j) * inner + q] = order[j];
        }
    });
  });
  // No gradient: recorded only for gdcore.compile (a replay recomputes the order from new values).
  if (trace::active()) trace::on_op(kSortIndices);
  if (capture::is_capturing())
    capture::on_record(kSortIndices, {a}, out, nullptr)->attrs.ints = {d, descending ? 1 : 0, k};
  return out;
}

ValuesIndices sort(const Tensor& a, int64_t dim, bool descending, bool /*stable: always*/) {
  Tensor idx = sort_indices(a, dim, descending, -1);
  if (a.dim() == 0) return {clone(a), idx};
  return {gather(a, dim, idx), idx};
}

Tensor argsort(const Tensor& a, int64_t dim, bool descending, bool /*stable*/) {
  return sort_indices(a, dim, descending, -1);
}

ValuesIndices topk(const Tensor& a, int64_t k, int64_t dim, bool largest, bool /*sorted: always*/) {
  const int64_t d = wrap_dim(dim, a.dim() == 0 ? 1 : a.dim(), "topk");
  const int64_t size = a.dim() == 0 ? 1 : a.shape()[d];
  if (k < 0 || k > size)
    throw std::runtime_error("topk: selected index k out of range: k = " + std::to_string(k) + " for a dimension of size " +
                             std::to_string(size));
  Tensor idx = sort_indices(a, d, largest, k);
  if (a.dim() == 0) return {k == 1 ? clone(a) : reshape(a, {0}), idx};
  return {gather(a, d, idx), idx};
}

UniqueResult unique(const Tensor& a, bool /*sorted: always*/, bool return_inverse, bool return_counts,
                    std::optional<int64_t> dim) {
  // Its output sizes depend on the values: gdcore.compile records one entry that runs unique again at each
  // replay (the inverse has the input's shape; the values and counts are value-sized).
  if (capture::is_capturing()) {
    std::vector<Tensor> r = capture::value_sized_op("unique", {a}, [=](const std::vector<Tensor>& x) {
      UniqueResult u = unique(x[0], true, return_inverse, return_counts, dim);
      return std::vector<Tensor>{u.values, u.inverse, u.counts};
    }, {false, true, false});
    return {r[0], r[1], r[2]};
  }
  trace::unsupported("unique");
  // Slices along `dim` (single elements when dim is None) compared lexicographically.
  const int64_t d = dim ? wrap_dim(*dim, a.dim() == 0 ? 1 : a.dim(), "unique") : 0;
  if (dim && a.dim() == 0) throw std::out_of_range("unique: dim given for a 0-d tensor");
  // (dim moved to the front with the others in order, as numpy's moveaxis: slices compare in that order)
  std::vector<int64_t> front{d};
  for (int64_t j = 0; j < a.dim(); ++j)
    if (j != d) front.push_back(j);
  Tensor moved = dim ? permute(a.detach(), front) : reshape(a.detach(), {-1});
  const Tensor rows = contiguous(reshape(moved, {moved.shape().empty() ? 1 : moved.shape()[0], -1}));
  const int64_t n = rows.shape()[0], width = rows.shape()[1];
  std::vector<int64_t> order(static_cast<size_t>(n)), inverse(static_cast<size_t>(n)), firsts, counts;
  std::iota(order.begin(), order.end(), int64_t{0});
  GD_DISPATCH_ALL(a.dtype(), "unique", [&] {
    const scalar_t* x = rows.data<scalar_t>();
    auto less = [x, width](int64_t i, int64_t j) {
      for (int64_t c = 0; c < width; ++c) {
        if (nan_aware_less(x[i * width + c], x[j * width + c])) return true;
        if (nan_aware_less(x[j * width + c], x[i * width + c])) return false;
      }
      return false;
    };
    std::stable_sort(order.begin(), order.end(), less);
    for (int64_t j = 0; j < n; ++j) {
      if (j == 0 || less(order[j - 1], order[j])) {
        firsts.push_back(order[j]);
        counts.push_back(0);
      }
      ++counts.back();
      inverse[order[j]] = static_cast<int64_t>(firsts.size()) - 1;
    }
  });
  auto long_tensor = [](const std::vector<int64_t>& v) {
    Tensor t = Tensor::empty({static_cast<int64_t>(v.size())}, DType::Int64);
    std::copy(v.begin(), v.end(), t.data<int64_t>());
    return t;
  };
  UniqueResult r;
  Tensor picked = index_select(rows, 0, long_tensor(firsts));
  if (!dim) {
    r.values = reshape(picked, {-1});
  } else {
    Shape s = moved.shape();
    s[0] = static_cast<int64_t>(firsts.size());
    std::vector<int64_t> inverse_perm(front.size());
    for (size_t j = 0; j < front.size(); ++j) inverse_perm[front[j]] = static_cast<int64_t>(j);
    r.values = contiguous(permute(reshape(picked, s), inverse_perm));
  }
  if (return_inverse) r.inverse = reshape(long_tensor(inverse), dim ? Shape{n} : a.shape());
  if (return_counts) r.counts = long_tensor(counts);
  return r;
}

}  // namespace gdcore
