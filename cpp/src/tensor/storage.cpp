// Owned storage is 64-byte aligned so that SIMD kernels can use aligned loads.
#include "gdcore/storage.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "tensor/block_cache.hpp"

namespace gdcore {

namespace {
// std::bad_alloc (MemoryError in Python) that says how much memory was asked for.
class AllocationFailed : public std::bad_alloc {
 public:
  explicit AllocationFailed(size_t nbytes) {
    char gib[32];
    std::snprintf(gib, sizeof gib, "%.1f", static_cast<double>(nbytes) / (1024.0 * 1024.0 * 1024.0));
    message_ = std::string("out of memory: could not allocate ") + gib +
               " GiB for a tensor; use smaller tensors (or smaller batches)";
  }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};
}  // namespace

Storage::Storage(size_t nbytes, bool zero) : nbytes_(nbytes) {
  data_ = allocate_block(nbytes);  // 64-byte aligned; large blocks reused (tensor/block_cache.hpp)
  if (!data_) throw AllocationFailed(nbytes);
  if (zero) std::memset(data_, 0, nbytes);
}

Storage::Storage(void* data, size_t nbytes, std::shared_ptr<void> owner, bool writable)
    : data_(data), nbytes_(nbytes), owner_(std::move(owner)), writable_(writable) {}

Storage::~Storage() {
  if (!owner_) release_block(data_, nbytes_);
}

}  // namespace gdcore
