// The indexing primitives in the core: index_tensors (advanced indexing on leading dims) and
// index_put against hand-computed values, gather/scatter_add as each other's adjoint, and a bad
// index raising before anything is written.
#include <gtest/gtest.h>

#include <cmath>

#include "check_grad.hpp"

namespace gdcore {
namespace {

using testing::make;
using testing::values;

Tensor longs(const Shape& shape, const std::vector<int64_t>& v) {
  Tensor t = Tensor::empty(shape, DType::Int64);
  for (size_t k = 0; k < v.size(); ++k) t.data<int64_t>()[k] = v[k];
  return t;
}

TEST(Indexing, IndexTensorsBroadcastAndKeepTheRest) {
  const Tensor a = make({3, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  // a[rows (2, 1), cols (2,)] -> (2, 2, 2): a[r, c, :]
  const Tensor out = index_tensors(a, {longs({2, 1}, {2, -3}), longs({2}, {1, 0})});
  EXPECT_EQ(out.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(values(out), (std::vector<double>{10, 11, 8, 9, 2, 3, 0, 1}));
}

TEST(Indexing, IndexPutAccumulatesDuplicatesAndChecksFirst) {
  const Tensor a = make({3}, {1, 2, 3});
  EXPECT_EQ(values(index_put(a, {longs({3}, {0, 0, 2})}, make({}, {5}), true)), (std::vector<double>{11, 2, 8}));
  Tensor b = make({3}, {1, 2, 3});
  EXPECT_THROW(index_put_(b, {longs({2}, {1, 3})}, make({}, {9}), false), std::out_of_range);
  EXPECT_EQ(values(b), (std::vector<double>{1, 2, 3}));  // the valid index 1 was not written either
}

TEST(Indexing, GatherAndScatterAddAreAdjoint) {
  // <gather(x, idx), y> == <x, scatter_add(0, idx, y)> for any x, y.
  const Tensor x = testing::uniform({3, 4}, -1, 1, 1, false), y = testing::uniform({2, 4}, -1, 1, 2, false);
  const Tensor idx = longs({2, 4}, {0, 2, 2, 1, 2, 2, 0, 0});
  const double lhs = sum(mul(gather(x, 0, idx), y)).item();
  const double rhs = sum(mul(x, scatter_add(zeros({3, 4}, DType::Float64), 0, idx, y))).item();
  EXPECT_NEAR(lhs, rhs, 1e-12);
  testing::expect_backward_matches_finite_differences([&](const std::vector<Tensor>& in) { return gather(in[0], 1, idx); },
                                                      {testing::uniform({2, 4}, -1, 1, 3)});
}

TEST(Indexing, SortIndicesAreStableWithNanLast) {
  const Tensor a = make({5}, {2, std::nan(""), 1, 2, 0});
  const Tensor idx = sort_indices(a, 0, false, -1);
  std::vector<int64_t> got(idx.data<int64_t>(), idx.data<int64_t>() + 5);
  EXPECT_EQ(got, (std::vector<int64_t>{4, 2, 0, 3, 1}));
}

}  // namespace
}  // namespace gdcore
