// A block of memory that tensors view. It either owns an aligned allocation or
// borrows memory kept alive by an opaque owner (a numpy array, from the bindings).
#pragma once
#include <cstddef>
#include <memory>

namespace gdcore {

class Storage {
 public:
  // Owned, 64-byte aligned, zero-filled when `zero` is set. Throws std::bad_alloc.
  explicit Storage(size_t nbytes, bool zero = false);
  // Borrowed memory: `owner` keeps it alive; `writable` says whether in-place writes are allowed.
  Storage(void* data, size_t nbytes, std::shared_ptr<void> owner, bool writable);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  bool writable() const { return writable_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  std::shared_ptr<void> owner_;  // null when owned
  bool writable_ = true;
};

}  // namespace gdcore
