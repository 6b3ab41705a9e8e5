// The free lists of object_pool.hpp: per thread, one list per 16-byte size class up to
// kPooledBytes, each bounded in count so that a burst of frees does not pin memory for
// good. Builds with AddressSanitizer bypass the pool, so that a use after free is reported.
#include "gdcore/object_pool.hpp"

#include <cstdlib>
#include <new>

namespace gdcore {

namespace {

constexpr size_t kGrain = 16;
constexpr size_t kPooledBytes = 512;
constexpr size_t kPerClass = 256;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPool = false;
#else
constexpr bool kPool = true;
#endif

// A singly linked list threaded through the free blocks themselves (each holds the next).
struct FreeList {
  void* head = nullptr;
  size_t count = 0;
};

struct FreeLists {
  FreeList lists[kPooledBytes / kGrain];
  ~FreeLists() {
    for (FreeList& list : lists)
      while (list.head) {
        void* next = *static_cast<void**>(list.head);
        std::free(list.head);
        list.head = next;
      }
  }
};

// One trivially destructible thread_local, so that the hot path costs a single TLS lookup
// (in a shared library each thread_local access is a call); the lists live on the heap and
// are freed by a second thread_local when the thread exits.
struct PoolState {
  FreeLists* lists = nullptr;
  bool exited = false;
};
thread_local PoolState pool_state;

struct PoolOwner {
  ~PoolOwner() {
    delete pool_state.lists;
    pool_state.lists = nullptr;
    pool_state.exited = true;
  }
};

// Null while the thread is exiting (its lists already freed): plain malloc/free then.
FreeLists* free_lists() {
  PoolState& state = pool_state;
  if (state.lists || !kPool || state.exited) return state.lists;
  thread_local PoolOwner owner;
  (void)owner;
  state.lists = new FreeLists;
  return state.lists;
}

size_t size_class(size_t bytes) { return (bytes + kGrain - 1) / kGrain; }  // 1-based

}  // namespace

void* pool_allocate(size_t bytes) {
  const size_t c = size_class(bytes);
  if (c * kGrain <= kPooledBytes) {
    if (FreeLists* f = free_lists()) {
      FreeList& list = f->lists[c - 1];
      if (void* p = list.head) {
        list.head = *static_cast<void**>(p);
        --list.count;
        return p;
      }
    }
  }
  void* p = std::malloc(c * kGrain);
  if (!p) throw std::bad_alloc();
  return p;
}

void pool_release(void* p, size_t bytes) {
  const size_t c = size_class(bytes);
  if (c * kGrain <= kPooledBytes) {
    if (FreeLists* f = free_lists()) {
      FreeList& list = f->lists[c - 1];
      if (list.count < kPerClass) {
        *static_cast<void**>(p) = list.head;
        list.head = p;
        ++list.count;
        return;
      }
    }
  }
  std::free(p);
}

}  // namespace gdcore
