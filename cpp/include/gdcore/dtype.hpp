// Element types a tensor can hold, and the dispatch macros that turn a runtime
// dtype into a compile-time scalar type for the kernels.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace gdcore {

enum class DType : uint8_t { Float32, Float64, Int64 };

inline size_t itemsize(DType t) { return t == DType::Float32 ? 4 : 8; }
inline bool is_floating(DType t) { return t != DType::Int64; }

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
  }
  return "?";
}

// Type promotion of two tensors, as torch does for float32/float64/int64.
inline DType promote(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::Float64 || b == DType::Float64) return DType::Float64;
  return DType::Float32;  // int64 with float32
}

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };

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

#define GD_DISPATCH_ALL(DT, NAME, ...)                 \
  [&] {                                                \
    switch (DT) {                                      \
      GD_DISPATCH_CASE(Float32, float, __VA_ARGS__)    \
      GD_DISPATCH_CASE(Float64, double, __VA_ARGS__)   \
      GD_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)    \
    }                                                  \
    throw std::logic_error(std::string(NAME) + ": unknown dtype"); \
  }()
