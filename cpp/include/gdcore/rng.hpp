// gdcore's own random number generator, so that one seed gives the same numbers on
// every run and machine: PCG64-style 128-bit LCG with XSL-RR output (O'Neill 2014),
// uniforms from the top 53 (float64) or 24 (float32) bits, normals by Box-Muller.
#pragma once
#include <cstdint>

#include "gdcore/tensor.hpp"

namespace gdcore {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x853c49e6748fea9bULL) { manual_seed(seed); }
  void manual_seed(uint64_t seed);
  uint64_t initial_seed() const { return seed_; }
  uint64_t next_u64();
  double uniform();            // [0, 1)
  double normal();             // standard normal
  uint64_t below(uint64_t n);  // uniform integer in [0, n), unbiased

  // State as two 64-bit halves plus the cached normal, so it can be saved and restored.
  struct State { uint64_t hi, lo; uint64_t seed; bool has_spare; double spare; };
  State get_state() const;
  void set_state(const State& s);

 private:
  unsigned __int128 state_ = 0;
  uint64_t seed_ = 0;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

Generator& default_generator();  // per thread

// The state as the 1-D uint8 tensor get_rng_state() returns (layout in rng_state.cpp) and back;
// bytes that are not such a state (wrong size, magic or version) raise instead of being used.
Tensor state_to_bytes(const Generator::State& s);
Generator::State state_from_bytes(const Tensor& bytes);

Tensor rand(const Shape& shape, DType dtype, Generator* gen = nullptr);
Tensor randn(const Shape& shape, DType dtype, Generator* gen = nullptr);
Tensor normal(double mean, double std, const Shape& shape, DType dtype, Generator* gen = nullptr);
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator* gen = nullptr);
Tensor randperm(int64_t n, DType dtype, Generator* gen = nullptr);
// In-place fills used by nn.init.
void uniform_(const Tensor& t, double low, double high, Generator* gen = nullptr);
void normal_(const Tensor& t, double mean, double std, Generator* gen = nullptr);

}  // namespace gdcore
