// Shape, the small vector of sizes and strides (cpp/include/gdcore/shape.hpp): the
// std::vector operations the code uses, on both sides of the inline capacity (6 dims
// inline, deeper shapes on the heap), each checked against std::vector doing the same.
#include <gtest/gtest.h>

#include <vector>

#include "gdcore/object_pool.hpp"
#include "gdcore/shape.hpp"

namespace gdcore {
namespace {

std::vector<int64_t> as_vector(const Shape& s) { return std::vector<int64_t>(s.begin(), s.end()); }

std::vector<int64_t> iota(size_t n) {
  std::vector<int64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int64_t>(i) * 10 + 1;
  return v;
}

TEST(Shape, ConstructsLikeAVector) {
  for (size_t n : {0u, 1u, 5u, 6u, 7u, 12u}) {
    const std::vector<int64_t> v = iota(n);
    const Shape from_vector(v), from_range(v.begin(), v.end());
    EXPECT_EQ(as_vector(from_vector), v);
    EXPECT_EQ(as_vector(from_range), v);
    EXPECT_EQ(from_vector.size(), n);
    EXPECT_EQ(from_vector.empty(), n == 0);
    EXPECT_EQ(static_cast<std::vector<int64_t>>(from_vector), v);
  }
  EXPECT_EQ(as_vector(Shape(3, 7)), (std::vector<int64_t>{7, 7, 7}));
  EXPECT_EQ(as_vector(Shape{2, 3}), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(as_vector(Shape(9)), std::vector<int64_t>(9, 0));
}

TEST(Shape, CopiesAndMovesAcrossTheInlineCapacity) {
  for (size_t n : {0u, 3u, 6u, 7u, 20u}) {
    const std::vector<int64_t> v = iota(n);
    Shape a(v);
    Shape copy(a);
    EXPECT_EQ(as_vector(copy), v);
    Shape moved(std::move(copy));
    EXPECT_EQ(as_vector(moved), v);
    EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from Shape is empty
    for (size_t m : {0u, 2u, 8u}) {  // assignment between every pair of sizes
      Shape target(iota(m));
      target = a;
      EXPECT_EQ(as_vector(target), v);
      Shape source(a), other(iota(m));
      other = std::move(source);
      EXPECT_EQ(as_vector(other), v);
    }
    a = a;  // self-assignment keeps the values
    EXPECT_EQ(as_vector(a), v);
  }
}

TEST(Shape, EditsLikeAVector) {
  for (size_t n : {0u, 4u, 6u, 9u}) {
    std::vector<int64_t> v = iota(n);
    Shape s(v);
    for (int64_t k = 0; k < 5; ++k) {  // grows through the inline capacity
      s.push_back(100 + k);
      v.push_back(100 + k);
    }
    EXPECT_EQ(as_vector(s), v);
    s.insert(s.begin() + 1, 7);
    v.insert(v.begin() + 1, 7);
    s.insert(s.begin(), {8, 9});
    v.insert(v.begin(), {8, 9});
    s.insert(s.end(), 2, 5);
    v.insert(v.end(), 2, 5);
    s.insert(s.begin() + 2, s.begin(), s.begin() + 3);  // a range from the shape itself
    const std::vector<int64_t> head(v.begin(), v.begin() + 3);
    v.insert(v.begin() + 2, head.begin(), head.end());
    EXPECT_EQ(as_vector(s), v);
    s.erase(s.begin() + 1);
    v.erase(v.begin() + 1);
    s.erase(s.begin(), s.begin() + 2);
    v.erase(v.begin(), v.begin() + 2);
    s.pop_back();
    v.pop_back();
    EXPECT_EQ(as_vector(s), v);
    s.resize(3);
    v.resize(3);
    EXPECT_EQ(as_vector(s), v);
    s.resize(11, -1);
    v.resize(11, -1);
    EXPECT_EQ(as_vector(s), v);
    EXPECT_EQ(s.front(), v.front());
    EXPECT_EQ(s.back(), v.back());
    EXPECT_EQ(std::vector<int64_t>(s.rbegin(), s.rend()), std::vector<int64_t>(v.rbegin(), v.rend()));
    s.clear();
    EXPECT_TRUE(s.empty());
  }
}

TEST(Shape, ComparesAndChecksBounds) {
  EXPECT_EQ(Shape({1, 2, 3}), Shape({1, 2, 3}));
  EXPECT_NE(Shape({1, 2, 3}), Shape({1, 2}));
  EXPECT_NE(Shape({1, 2, 3}), Shape({1, 2, 4}));
  EXPECT_EQ(Shape(iota(9)), Shape(iota(9)));
  EXPECT_TRUE(Shape({1, 2}) < Shape({1, 3}));
  const Shape s{4, 5};
  EXPECT_EQ(s.at(1), 5);
  EXPECT_THROW(s.at(2), std::out_of_range);
}

TEST(ObjectPool, ReusesFreedBlocksOfTheSameSize) {
  void* a = pool_allocate(48);
  pool_release(a, 48);
  void* b = pool_allocate(40);  // same 16-byte class: the block just freed
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(a, b);
#endif
  pool_release(b, 40);
  void* big = pool_allocate(4096);  // beyond the pooled sizes: plain malloc, still usable
  static_cast<char*>(big)[4095] = 1;
  pool_release(big, 4096);
  PoolVector<int> v;
  for (int i = 0; i < 1000; ++i) v.push_back(i);
  EXPECT_EQ(v[999], 999);
}

}  // namespace
}  // namespace gdcore
