// Memory for tensor storage. Small blocks (<= 4 KiB: the scalars, biases and mini-batch
// activations of small models) are recycled through per-thread free lists, one per 64-byte
// size class: a training step frees and re-allocates the same sizes every step, and
// aligned_alloc/free of them was a third of a replayed step's time. Large blocks
// (>= 1 MiB) are where the time goes: on a fresh block every 4 KiB page faults on first
// touch, which costs more than the kernel that writes it (about 45 ms for 64 MiB on a VM,
// against 4 ms to write it). So large blocks are asked for in transparent huge pages
// (madvise), and a freed large block is kept in a small bounded cache and handed to the
// next request of the same size: a training loop that frees and re-allocates the same
// gradient every step touches warm memory. empty_block_cache() returns the cache to the OS.
#pragma once
#include <cstddef>

namespace gdcore {

// A 64-byte aligned block of at least nbytes bytes (nbytes > 0), or null when out of memory.
void* allocate_block(size_t nbytes);
// Gives back a block from allocate_block(nbytes) (same nbytes).
void release_block(void* data, size_t nbytes);
// Frees every cached block; returns the number of bytes given back.
size_t empty_block_cache();
// Bytes currently held by the cache.
size_t cached_block_bytes();

}  // namespace gdcore
