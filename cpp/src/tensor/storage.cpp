// Owned storage is 64-byte aligned so that SIMD kernels can use aligned loads.
#include "gdcore/storage.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace gdcore {

Storage::Storage(size_t nbytes, bool zero) : nbytes_(nbytes) {
  size_t rounded = (nbytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  data_ = std::aligned_alloc(64, rounded);
  if (!data_) throw std::bad_alloc();
  if (zero) std::memset(data_, 0, rounded);
}

Storage::Storage(void* data, size_t nbytes, std::shared_ptr<void> owner, bool writable)
    : data_(data), nbytes_(nbytes), owner_(std::move(owner)), writable_(writable) {}

Storage::~Storage() {
  if (!owner_) std::free(data_);
}

}  // namespace gdcore
