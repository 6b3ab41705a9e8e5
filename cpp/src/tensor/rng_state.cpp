// A generator's state as bytes: the 1-D uint8 tensor that gdcore.get_rng_state() and
// Generator.get_state() return (as torch's do) and set_rng_state() / set_state() take back.
// The layout is gdcore's own and versioned, so that a tensor from elsewhere (torch's 5056-byte
// state, a truncated or edited file) is refused with a message instead of silently seeding the
// generator with garbage. All fields little-endian, whatever the machine:
//   0-3 "gdRS" | 4 version (1) | 5-12 state hi | 13-20 state lo | 21-28 seed | 29 has_spare (0/1) | 30-37 spare (double)
#include <cstring>
#include <stdexcept>
#include <string>

#include "gdcore/rng.hpp"

namespace gdcore {

namespace {
constexpr char kMagic[4] = {'g', 'd', 'R', 'S'};
constexpr uint8_t kVersion = 1;
constexpr int64_t kStateBytes = 38;

void put_u64(uint8_t* p, uint64_t v) {
  for (int k = 0; k < 8; ++k) p[k] = static_cast<uint8_t>(v >> (8 * k));
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int k = 0; k < 8; ++k) v |= static_cast<uint64_t>(p[k]) << (8 * k);
  return v;
}
}  // namespace

Tensor state_to_bytes(const Generator::State& s) {
  Tensor out = Tensor::empty({kStateBytes}, DType::UInt8);
  uint8_t* p = out.data<uint8_t>();
  std::memcpy(p, kMagic, 4);
  p[4] = kVersion;
  put_u64(p + 5, s.hi);
  put_u64(p + 13, s.lo);
  put_u64(p + 21, s.seed);
  p[29] = s.has_spare ? 1 : 0;
  uint64_t spare_bits;
  std::memcpy(&spare_bits, &s.spare, 8);
  put_u64(p + 30, spare_bits);
  return out;
}

Generator::State state_from_bytes(const Tensor& bytes) {
  const std::string what = "set_state: expected the uint8 tensor of " + std::to_string(kStateBytes) +
                           " bytes that get_state() / get_rng_state() returned";
  if (bytes.dtype() != DType::UInt8)
    throw std::invalid_argument(what + ", got a " + dtype_name(bytes.dtype()) + " tensor");
  if (bytes.dim() != 1 || bytes.numel() != kStateBytes)
    throw std::runtime_error(what + ", got one of shape " + shape_str(bytes.shape()) +
                             " (not a gdcore generator state; torch's, for one, has 5056 bytes)");
  const Tensor c = bytes.is_contiguous() ? bytes : bytes.clone_data();
  const uint8_t* p = c.data<uint8_t>();
  if (std::memcmp(p, kMagic, 4) != 0)
    throw std::runtime_error(what + "; these bytes do not start with \"gdRS\": not a gdcore generator state, or corrupted");
  if (p[4] != kVersion)
    throw std::runtime_error(what + "; this one has format version " + std::to_string(p[4]) + ", this gdcore reads version " +
                             std::to_string(kVersion) + " (written by another gdcore version, or corrupted)");
  if (p[29] > 1)
    throw std::runtime_error(what + "; byte 29 (has_spare) is " + std::to_string(p[29]) + ", not 0 or 1: corrupted");
  Generator::State s{get_u64(p + 5), get_u64(p + 13), get_u64(p + 21), p[29] == 1, 0.0};
  const uint64_t spare_bits = get_u64(p + 30);
  std::memcpy(&s.spare, &spare_bits, 8);
  return s;
}

}  // namespace gdcore
