// Pooled allocation for the small objects every op creates: a TensorImpl, its Storage
// header and version counter, a graph Node (each with its shared_ptr control block, via
// std::allocate_shared). A replayed training step of a small model creates ~150 of them,
// and malloc/free was a third of its time; here a freed object goes onto a per-thread free
// list of its size class and the next allocation of that size pops it. An object freed on
// another thread joins that thread's list (plain malloc'd memory either way).
#pragma once
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace gdcore {

// `bytes` from 1 to any size; sizes up to kPooledBytes are recycled, larger ones use malloc.
void* pool_allocate(size_t bytes);
void pool_release(void* p, size_t bytes);

template <typename T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <typename U>
  PoolAllocator(const PoolAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(pool_allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { pool_release(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const PoolAllocator<U>&) const { return true; }
};

// std::make_shared, with the object and its control block from the pool.
template <typename T, typename... Args>
std::shared_ptr<T> make_pooled(Args&&... args) {
  return std::allocate_shared<T>(PoolAllocator<T>{}, std::forward<Args>(args)...);
}

// A std::vector whose buffer comes from the pool (a graph node's per-input lists).
template <typename T>
using PoolVector = std::vector<T, PoolAllocator<T>>;

}  // namespace gdcore
