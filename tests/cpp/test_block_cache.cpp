// The memory under tensor storage (cpp/src/tensor/block_cache.cpp): every block 64-byte
// aligned, large blocks (>= 1 MiB) 2 MiB aligned and advised into transparent huge pages on
// Linux, freed large blocks kept and handed back for the same size, the cache emptied on
// request; and Storage's two kinds (owned, borrowed) on large sizes. Run under the asan preset
// too: a block handed out twice, or written past its end, fails there.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gdcore/storage.hpp"
#include "tensor/block_cache.hpp"

namespace gdcore {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

uintptr_t address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// Writes a pattern over all nbytes (every 4093rd byte and the last) and reads it back: the whole block is ours.
void fill_and_check(void* data, size_t nbytes) {
  auto* bytes = static_cast<unsigned char*>(data);
  auto pattern = [](size_t i) { return static_cast<unsigned char>(i * 7 + 1); };
  for (size_t i = 0; i < nbytes; i += 4093) bytes[i] = pattern(i);
  bytes[nbytes - 1] = pattern(nbytes - 1);
  for (size_t i = 0; i < nbytes; i += 4093) ASSERT_EQ(bytes[i], pattern(i)) << i;
  ASSERT_EQ(bytes[nbytes - 1], pattern(nbytes - 1));
}

TEST(BlockCache, EveryBlockIs64ByteAligned) {
  for (size_t n : {size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{4096}, size_t{4097}, size_t{100000},
                   kMiB - 64, kMiB - 1}) {
    void* p = allocate_block(n);
    ASSERT_NE(p, nullptr) << n;
    EXPECT_EQ(address(p) % 64, 0u) << n;
    fill_and_check(p, n);
    release_block(p, n);
  }
}

TEST(BlockCache, LargeBlocksStartOnA2MiBBoundary) {
  // 2 MiB alignment is what lets the kernel back a block with whole huge pages from its first byte.
  for (size_t n : {kMiB, kMiB + 1, 3 * kMiB, size_t{25600000}}) {
    void* p = allocate_block(n);
    ASSERT_NE(p, nullptr) << n;
    EXPECT_EQ(address(p) % (2 * kMiB), 0u) << n;
    fill_and_check(p, n);
    release_block(p, n);
  }
  empty_block_cache();
}

TEST(BlockCache, ASizeThatRoundsUpTo1MiBIsALargeBlock) {
  // 1 MiB - 63 .. 1 MiB - 1 bytes round to 1 MiB in 64-byte steps: they take the large path, so they
  // must get whole huge pages (a 1 MiB block with 2 MiB alignment is invalid for aligned_alloc).
  empty_block_cache();
  for (size_t n : {kMiB - 63, kMiB - 1}) {
    void* p = allocate_block(n);
    ASSERT_NE(p, nullptr) << n;
    EXPECT_EQ(address(p) % (2 * kMiB), 0u) << n;
    fill_and_check(p, n);
    release_block(p, n);
    EXPECT_EQ(cached_block_bytes(), 2 * kMiB) << n;  // cached under the size it was allocated with
    EXPECT_EQ(allocate_block(n), p) << n;           // and handed back for it
    release_block(p, n);
  }
  EXPECT_EQ(empty_block_cache(), 2 * kMiB);
  void* below = allocate_block(kMiB - 64);  // the last small size: malloc's memory, never cached
  ASSERT_NE(below, nullptr);
  release_block(below, kMiB - 64);
  EXPECT_EQ(cached_block_bytes(), 0u);
}

TEST(BlockCache, ARequestTooLargeToRoundFailsInsteadOfWrapping) {
  EXPECT_EQ(allocate_block(SIZE_MAX), nullptr);
  EXPECT_EQ(allocate_block(SIZE_MAX - 100), nullptr);
  EXPECT_THROW({ Storage s(SIZE_MAX - 1000); }, std::bad_alloc);  // MemoryError in Python
}

TEST(BlockCache, AFreedLargeBlockIsReusedForTheSameSizeAndTheCacheEmpties) {
  empty_block_cache();
  ASSERT_EQ(cached_block_bytes(), 0u);
  const size_t n = 5 * kMiB + 12345;
  void* first = allocate_block(n);
  ASSERT_NE(first, nullptr);
  release_block(first, n);
  EXPECT_EQ(cached_block_bytes(), 6 * kMiB);  // rounded up to whole 2 MiB pages
  void* other = allocate_block(n + 1000);     // the same rounded size: the same block
  EXPECT_EQ(other, first);
  EXPECT_EQ(cached_block_bytes(), 0u);
  fill_and_check(other, n + 1000);
  void* different = allocate_block(9 * kMiB);  // another size never gets it
  EXPECT_NE(different, first);
  release_block(other, n + 1000);
  release_block(different, 9 * kMiB);
  EXPECT_EQ(cached_block_bytes(), 16 * kMiB);
  EXPECT_EQ(empty_block_cache(), 16 * kMiB);
  EXPECT_EQ(cached_block_bytes(), 0u);
}

TEST(BlockCache, BlocksAboveTheCacheLimitAreGivenBackAtOnce) {
  empty_block_cache();
  const size_t n = 300 * kMiB;  // above the 256 MiB the cache may hold
  void* p = allocate_block(n);
  ASSERT_NE(p, nullptr);
  release_block(p, n);
  EXPECT_EQ(cached_block_bytes(), 0u);
}

#if defined(__linux__)
// The VmFlags line of the mapping that holds `p` in /proc/self/smaps ("" when not found).
std::string vm_flags_of(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-' && line.find(':') > line.find(' ')) {
      inside = lo <= address(p) && address(p) < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

TEST(BlockCache, LargeBlocksAreAdvisedIntoHugePagesOnLinux) {
  if (!std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled"))
    GTEST_SKIP() << "this kernel has no transparent huge pages";
  const size_t n = 4 * kMiB;
  void* p = allocate_block(n);
  ASSERT_NE(p, nullptr);
  const std::string flags = vm_flags_of(p);
  ASSERT_NE(flags, "") << "no mapping found for the block in /proc/self/smaps";
  // "hg": the mapping carries MADV_HUGEPAGE (whether huge pages are then free is the kernel's business).
  EXPECT_NE((flags + " ").find(" hg "), std::string::npos) << flags;
  void* small = allocate_block(512 * 1024);  // below 1 MiB: malloc's memory, no advice asked
  release_block(small, 512 * 1024);
  release_block(p, n);
  empty_block_cache();
}
#endif

TEST(Storage, LargeOwnedStorageIsZeroedAndFreedBackToTheCache) {
  empty_block_cache();
  const size_t n = 25600000;  // the per-sample benchmark's 200,000 x 16 float64
  const void* where = nullptr;
  {
    Storage s(n, /*zero=*/true);
    where = s.data();
    EXPECT_EQ(address(s.data()) % (2 * kMiB), 0u);
    const auto* bytes = static_cast<const unsigned char*>(s.data());
    for (size_t i = 0; i < n; i += 4096) ASSERT_EQ(bytes[i], 0) << i;
    ASSERT_EQ(bytes[n - 1], 0);
    std::memset(s.data(), 0x5A, n);  // leave it dirty: the next zeroed storage must not see this
  }
  EXPECT_GE(cached_block_bytes(), n);
  Storage again(n, /*zero=*/true);
  EXPECT_EQ(again.data(), where);  // the same block, from the cache...
  const auto* bytes = static_cast<const unsigned char*>(again.data());
  for (size_t i = 0; i < n; i += 4096) ASSERT_EQ(bytes[i], 0) << i;  // ...zeroed again
  ASSERT_EQ(bytes[n - 1], 0);
}

TEST(Storage, BorrowedLargeMemoryIsNeitherCopiedNorFreedByTheStorage) {
  empty_block_cache();
  const size_t n = 3 * kMiB + 8;
  auto freed = std::make_shared<int>(0);
  std::vector<unsigned char>* buffer = new std::vector<unsigned char>(n, 7);
  void* data = buffer->data();
  {
    std::shared_ptr<void> owner(buffer, [freed](void* b) {
      ++*freed;
      delete static_cast<std::vector<unsigned char>*>(b);
    });
    Storage s(data, n, owner, /*writable=*/true);
    owner.reset();
    EXPECT_EQ(s.data(), data);  // the owner's memory itself
    EXPECT_EQ(s.nbytes(), n);
    static_cast<unsigned char*>(s.data())[n - 1] = 9;
    EXPECT_EQ(*freed, 0);
  }
  EXPECT_EQ(*freed, 1);                  // the owner is released once, with the storage
  EXPECT_EQ(cached_block_bytes(), 0u);  // and the memory never enters gdcore's cache
}

}  // namespace
}  // namespace gdcore
