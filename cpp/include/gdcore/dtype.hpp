// Element types a tensor can hold, torch's type promotion between them (one table), the
// value conversions between them, and the dispatch macros that turn a runtime dtype into a
// compile-time scalar type for the kernels.
#pragma once
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace gdcore {

// The order is the order of the promotion table below (new dtypes go at the end).
enum class DType : uint8_t { Float32, Float64, Int64, Bool, Int32, UInt8, Int8, Int16 };
inline constexpr int kNumDTypes = 8;

inline size_t itemsize(DType t) {
  constexpr size_t sizes[kNumDTypes] = {4, 8, 8, 1, 4, 1, 1, 2};
  return sizes[static_cast<int>(t)];
}
inline bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }
inline bool is_integral(DType t) { return !is_floating(t) && t != DType::Bool; }  // bool excluded, as in torch

inline const char* dtype_name(DType t) {
  constexpr const char* names[kNumDTypes] = {"float32", "float64", "int64", "bool", "int32", "uint8", "int8", "int16"};
  return static_cast<int>(t) < kNumDTypes ? names[static_cast<int>(t)] : "?";
}

// Type promotion of two tensors of the same priority (both dimensioned, or both 0-d), as torch's
// promoteTypes: bool < integers < floats; among integers the wider wins, and uint8 with int8
// gives int16 (the smallest type holding both ranges); int64 with float32 stays float32.
inline DType promote(DType a, DType b) {
  using D = DType;
  constexpr D f4 = D::Float32, f8 = D::Float64, i8 = D::Int64, b1 = D::Bool, i4 = D::Int32, u1 = D::UInt8, i1 = D::Int8,
              i2 = D::Int16;
  constexpr D table[kNumDTypes][kNumDTypes] = {
      //          f4  f8  i8  b1  i4  u1  i1  i2
      /* f4 */ {f4, f8, f4, f4, f4, f4, f4, f4},
      /* f8 */ {f8, f8, f8, f8, f8, f8, f8, f8},
      /* i8 */ {f4, f8, i8, i8, i8, i8, i8, i8},
      /* b1 */ {f4, f8, i8, b1, i4, u1, i1, i2},
      /* i4 */ {f4, f8, i8, i4, i4, i4, i4, i4},
      /* u1 */ {f4, f8, i8, u1, i4, u1, i2, i2},
      /* i1 */ {f4, f8, i8, i1, i4, i2, i1, i2},
      /* i2 */ {f4, f8, i8, i2, i4, i2, i2, i2},
  };
  return table[static_cast<int>(a)][static_cast<int>(b)];
}

// The dtype of an op between a dimensioned operand of dtype `higher` and a 0-d one (or a
// Python number) of dtype `lower`, as torch's combine_categories: the lower-priority operand
// only counts when it is of a higher category (bool < integer < float) than `higher`.
inline DType combine_categories(DType higher, DType lower) {
  if (is_floating(higher)) return higher;
  if (higher == DType::Bool || is_floating(lower)) return promote(higher, lower);
  return higher;
}

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::UInt8; };
template <> struct dtype_of<int8_t> { static constexpr DType value = DType::Int8; };
template <> struct dtype_of<int16_t> { static constexpr DType value = DType::Int16; };

// One value converted between element types, with the results torch gives on x86 and never
// undefined behaviour: anything to bool is `v != 0` (NaN is true); a float to an integer type
// truncates, through int64 (NaN and values beyond int64 become INT64_MIN, as cvttsd2si gives);
// a wider integer to a narrower one wraps around (uint8(300) == 44).
template <typename Dst, typename Src>
inline Dst cast_value(Src v) {
  if constexpr (std::is_same_v<Dst, Src>) {
    return v;
  } else if constexpr (std::is_same_v<Dst, bool>) {
    return v != Src(0);
  } else if constexpr (std::is_floating_point_v<Dst>) {
    return static_cast<Dst>(v);
  } else if constexpr (std::is_floating_point_v<Src>) {
    const int64_t i = (v >= Src(-9223372036854775808.0) && v < Src(9223372036854775808.0))
                          ? static_cast<int64_t>(v) : std::numeric_limits<int64_t>::min();
    return static_cast<Dst>(i);
  } else {
    return static_cast<Dst>(v);  // integer to integer: modular (C++20)
  }
}

}  // namespace gdcore

// GD_DISPATCH_FLOAT(dtype, "op", [&] { using scalar_t = ...; body }) etc.
#define GD_DISPATCH_CASE(ENUM, TYPE, ...) \
  case ::gdcore::DType::ENUM: {           \
    using scalar_t = TYPE;                \
    return __VA_ARGS__();                 \
  }

#define GD_DISPATCH_FLOAT(DT, NAME, ...)                                                     \
  [&] {                                                                                      \
    switch (DT) {                                                                            \
      GD_DISPATCH_CASE(Float32, float, __VA_ARGS__)                                          \
      GD_DISPATCH_CASE(Float64, double, __VA_ARGS__)                                         \
      default:                                                                               \
        throw std::invalid_argument(std::string(NAME) + ": expected a float32 or float64 "  \
                                    "tensor, got " + ::gdcore::dtype_name(DT) +            \
                                    "; convert with .float() or .double()");                \
    }                                                                                        \
  }()

// The three dtypes arithmetic kernels that widen their input compute in (float32, float64,
// int64): reductions over integers and bools cast to int64 first, as torch's sum does.
#define GD_DISPATCH_FLOAT_INT64(DT, NAME, ...)                                                       \
  [&] {                                                                                              \
    switch (DT) {                                                                                    \
      GD_DISPATCH_CASE(Float32, float, __VA_ARGS__)                                                  \
      GD_DISPATCH_CASE(Float64, double, __VA_ARGS__)                                                 \
      GD_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)                                                  \
      default:                                                                                       \
        throw std::logic_error(std::string(NAME) + ": internal error, dtype " + ::gdcore::dtype_name(DT) + \
                               " reached a float32/float64/int64 kernel");                           \
    }                                                                                                \
  }()

// bool and the integer types: bitwise and logical kernels.
#define GD_DISPATCH_INTEGRAL_AND_BOOL(DT, NAME, ...)                                                 \
  [&] {                                                                                              \
    switch (DT) {                                                                                    \
      GD_DISPATCH_CASE(Bool, bool, __VA_ARGS__)                                                      \
      GD_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)                                                  \
      GD_DISPATCH_CASE(Int32, int32_t, __VA_ARGS__)                                                  \
      GD_DISPATCH_CASE(Int16, int16_t, __VA_ARGS__)                                                  \
      GD_DISPATCH_CASE(Int8, int8_t, __VA_ARGS__)                                                    \
      GD_DISPATCH_CASE(UInt8, uint8_t, __VA_ARGS__)                                                  \
      default:                                                                                       \
        throw std::runtime_error(std::string(NAME) + ": not implemented for " + ::gdcore::dtype_name(DT) + \
                                 " tensors; it takes bool or integer tensors");                     \
    }                                                                                                \
  }()

// Every dtype: copies, fills, creation, elementwise arithmetic and comparisons.
#define GD_DISPATCH_ALL(DT, NAME, ...)                 \
  [&] {                                                \
    switch (DT) {                                      \
      GD_DISPATCH_CASE(Float32, float, __VA_ARGS__)    \
      GD_DISPATCH_CASE(Float64, double, __VA_ARGS__)   \
      GD_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)    \
      GD_DISPATCH_CASE(Bool, bool, __VA_ARGS__)        \
      GD_DISPATCH_CASE(Int32, int32_t, __VA_ARGS__)    \
      GD_DISPATCH_CASE(UInt8, uint8_t, __VA_ARGS__)    \
      GD_DISPATCH_CASE(Int8, int8_t, __VA_ARGS__)      \
      GD_DISPATCH_CASE(Int16, int16_t, __VA_ARGS__)    \
    }                                                  \
    throw std::logic_error(std::string(NAME) + ": unknown dtype"); \
  }()
