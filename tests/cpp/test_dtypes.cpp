// The dtype layer in C++: the promotion table's laws (symmetric, idempotent, never narrower than
// either side, and the category order bool < integers < floats), torch's priority rule for 0-d
// operands, value conversions without undefined behaviour, and bool results of comparisons/where.
#include <gtest/gtest.h>

#include <cmath>

#include "check_grad.hpp"

namespace gdcore {
namespace {

using testing::values;

int category(DType t) { return is_floating(t) ? 2 : (t == DType::Bool ? 0 : 1); }

TEST(DTypes, PromotionTableLaws) {
  for (int i = 0; i < kNumDTypes; ++i) {
    const DType a = static_cast<DType>(i);
    EXPECT_EQ(promote(a, a), a);
    for (int j = 0; j < kNumDTypes; ++j) {
      const DType b = static_cast<DType>(j), r = promote(a, b);
      EXPECT_EQ(r, promote(b, a)) << dtype_name(a) << " " << dtype_name(b);
      EXPECT_EQ(category(r), std::max(category(a), category(b))) << dtype_name(a) << " " << dtype_name(b);
      if (category(a) == category(b) && category(a) == 1)  // integers: wide enough for both (in bytes)
        EXPECT_GE(itemsize(r), std::max(itemsize(a), itemsize(b)));
    }
  }
  EXPECT_EQ(promote(DType::UInt8, DType::Int8), DType::Int16);
  EXPECT_EQ(promote(DType::Int64, DType::Float32), DType::Float32);
}

TEST(DTypes, ZeroDimOperandsWidenOnlyAcrossCategories) {
  EXPECT_EQ(combine_categories(DType::Int8, DType::Int64), DType::Int8);
  EXPECT_EQ(combine_categories(DType::Int8, DType::Float64), DType::Float64);
  EXPECT_EQ(combine_categories(DType::Float32, DType::Float64), DType::Float32);
  EXPECT_EQ(combine_categories(DType::Bool, DType::UInt8), DType::UInt8);
  Tensor x = ones({3}, DType::Int16);
  EXPECT_EQ(add(x, scalar_tensor(2.0, DType::Int64)).dtype(), DType::Int16);
  EXPECT_EQ(add(x, scalar_tensor(0.5, DType::Float32)).dtype(), DType::Float32);
}

TEST(DTypes, CastValueIsDefinedEverywhere) {
  EXPECT_EQ(cast_value<uint8_t>(int64_t{300}), 44);
  EXPECT_EQ(cast_value<int8_t>(int64_t{-129}), 127);
  EXPECT_EQ(cast_value<int32_t>(-2.7), -2);
  EXPECT_EQ(cast_value<int64_t>(std::nan("")), INT64_MIN);
  EXPECT_EQ(cast_value<int64_t>(1e300), INT64_MIN);
  EXPECT_TRUE(cast_value<bool>(std::nan("")));
  EXPECT_FALSE(cast_value<bool>(0.0));
  EXPECT_TRUE(cast_value<bool>(int8_t{-1}));
  EXPECT_EQ(cast_value<double>(true), 1.0);
}

TEST(DTypes, ComparisonsGiveBoolsAndWhereSelects) {
  Tensor a = arange(0, 4, 1, DType::Int32), b = full({1}, 2.0, DType::UInt8);
  Tensor m = lt(a, b);
  EXPECT_EQ(m.dtype(), DType::Bool);
  EXPECT_EQ(values(m), (std::vector<double>{1, 1, 0, 0}));
  Tensor w = where(m, a, scalar_tensor(-1.0, DType::Int64));
  EXPECT_EQ(w.dtype(), DType::Int32);
  EXPECT_EQ(values(w), (std::vector<double>{0, 1, -1, -1}));
  EXPECT_EQ(values(sum(m)), (std::vector<double>{2}));
  EXPECT_EQ(sum(m).dtype(), DType::Int64);
  EXPECT_THROW(where(a, a, a), std::runtime_error);  // the condition must be bool
  EXPECT_THROW(full({1}, 256.0, DType::UInt8), std::runtime_error);
}

}  // namespace
}  // namespace gdcore
