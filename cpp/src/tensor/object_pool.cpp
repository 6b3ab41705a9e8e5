// The allocation behind object_pool.hpp: sizes up to kPooledBytes, in 16-byte classes,
// go through per-thread free lists (tensor/free_lists.hpp); larger ones use malloc.
#include "gdcore/object_pool.hpp"

#include <cstdlib>
#include <new>

#include "tensor/free_lists.hpp"

namespace gdcore {

namespace {

constexpr size_t kGrain = 16;
constexpr size_t kPooledBytes = 512;
using Pool = ThreadFreeLists<kPooledBytes / kGrain, /*PerClass=*/256>;

size_t size_class(size_t bytes) { return (bytes + kGrain - 1) / kGrain; }  // 1-based

}  // namespace

void* pool_allocate(size_t bytes) {
  const size_t c = size_class(bytes);
  if (c * kGrain <= kPooledBytes)
    if (void* p = Pool::pop(c - 1)) return p;
  void* p = std::malloc(c * kGrain);
  if (!p) throw std::bad_alloc();
  return p;
}

void pool_release(void* p, size_t bytes) {
  const size_t c = size_class(bytes);
  if (c * kGrain <= kPooledBytes && Pool::push(c - 1, p)) return;
  std::free(p);
}

}  // namespace gdcore
