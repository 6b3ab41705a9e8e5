// The block caches of block_cache.hpp. Small blocks: per-thread free lists of 64-byte
// size classes (tensor/free_lists.hpp). Large blocks: a short shared list of freed blocks,
// matched by exact (rounded) size, most recent first, bounded in bytes so that it never
// holds more than kCacheLimit of memory nobody uses.
#include "tensor/block_cache.hpp"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "tensor/free_lists.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace gdcore {

namespace {

constexpr size_t kSmall = 4096;                    // blocks up to here go through the free lists
constexpr size_t kSmallPerClass = 64;              // at most this many kept per size class and thread
constexpr size_t kLarge = size_t{1} << 20;        // blocks from here on are cached
constexpr size_t kHugePage = size_t{2} << 20;     // large blocks are rounded to whole huge pages
constexpr size_t kCacheLimit = size_t{256} << 20;  // at most this much kept for reuse

struct Cached {
  void* data;
  size_t bytes;
};

struct Cache {
  std::mutex m;
  std::vector<Cached> blocks;  // most recently freed last
  size_t bytes = 0;
};

Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: storages may be freed during exit
  return *c;
}

// Small blocks: 64-byte classes up to kSmall (tensor/free_lists.hpp).
using SmallBlocks = ThreadFreeLists<kSmall / 64, kSmallPerClass>;

// The size a block of nbytes really gets. A request just under kLarge that rounds up to it in
// 64-byte steps is large too: the large path's aligned_alloc needs a whole number of huge pages
// (C11; AddressSanitizer refuses a 1 MiB block with 2 MiB alignment).
size_t rounded(size_t nbytes) {
  const size_t in_lines = nbytes == 0 ? 64 : (nbytes + 63) / 64 * 64;
  if (in_lines >= kLarge) return (nbytes + kHugePage - 1) / kHugePage * kHugePage;
  return in_lines;
}

// Larger requests would wrap around in rounded(): refused as out of memory.
constexpr size_t kMaxBlock = SIZE_MAX - kHugePage;

}  // namespace

void* allocate_block(size_t nbytes) {
  if (nbytes > kMaxBlock) return nullptr;
  const size_t bytes = rounded(nbytes);
  if (bytes <= kSmall)
    if (void* data = SmallBlocks::pop(bytes / 64 - 1)) return data;
  if (bytes < kLarge) return std::aligned_alloc(64, bytes);
  {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.m);
    for (size_t i = c.blocks.size(); i-- > 0;) {
      if (c.blocks[i].bytes != bytes) continue;
      void* data = c.blocks[i].data;
      c.blocks.erase(c.blocks.begin() + static_cast<std::ptrdiff_t>(i));
      c.bytes -= bytes;
      return data;
    }
  }
  void* data = std::aligned_alloc(kHugePage, bytes);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (data) madvise(data, bytes, MADV_HUGEPAGE);  // a hint: fewer, larger page faults on first touch
#endif
  return data;
}

void release_block(void* data, size_t nbytes) {
  const size_t bytes = rounded(nbytes);
  if (data && bytes <= kSmall && SmallBlocks::push(bytes / 64 - 1, data)) return;
  if (data && bytes >= kLarge) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.m);
    if (bytes <= kCacheLimit) {
      // Make room by dropping the oldest blocks; the newest is the likeliest to be asked for again.
      while (c.bytes + bytes > kCacheLimit && !c.blocks.empty()) {
        std::free(c.blocks.front().data);
        c.bytes -= c.blocks.front().bytes;
        c.blocks.erase(c.blocks.begin());
      }
      c.blocks.push_back({data, bytes});
      c.bytes += bytes;
      return;
    }
  }
  std::free(data);
}

size_t empty_block_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.m);
  const size_t freed = c.bytes;
  for (const Cached& b : c.blocks) std::free(b.data);
  c.blocks.clear();
  c.bytes = 0;
  return freed;
}

size_t cached_block_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.m);
  return c.bytes;
}

}  // namespace gdcore
