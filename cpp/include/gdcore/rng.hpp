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
  // The draws are defined here, inline, so that the loops of the random factories inline them: a
  // call to an exported function of the shared library goes through the PLT and is never inlined.
  uint64_t next_u64() {
    state_ = state_ * kMultiplier + kIncrement;
    const uint64_t hi = static_cast<uint64_t>(state_ >> 64), lo = static_cast<uint64_t>(state_);
    const unsigned rot = static_cast<unsigned>(hi >> 58);
    const uint64_t x = hi ^ lo;
    return (x >> rot) | (x << ((64 - rot) & 63));
  }
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal();                                                                   // standard normal
  uint64_t below(uint64_t n) {  // uniform integer in [0, n), unbiased
    // Rejection keeps the result unbiased: a draw below (2^64 - n) mod n is drawn again. That
    // threshold is below n, so a draw of at least n (almost every draw) is taken without computing it.
    while (true) {
      const uint64_t r = next_u64();
      if (r >= n || r >= (0 - n) % n) return r % n;
    }
  }

  // State as two 64-bit halves plus the cached normal, so it can be saved and restored.
  struct State { uint64_t hi, lo; uint64_t seed; bool has_spare; double spare; };
  State get_state() const;
  void set_state(const State& s);

 private:
  static constexpr unsigned __int128 kMultiplier =
      (static_cast<unsigned __int128>(2549297995355413924ULL) << 64) + 4865540595714422341ULL;
  static constexpr unsigned __int128 kIncrement =
      (static_cast<unsigned __int128>(6364136223846793005ULL) << 64) + 1442695040888963407ULL;
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
