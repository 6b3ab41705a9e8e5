// Splitting one bandwidth-bound kernel call over a few threads. Arrays shorter than
// kParallelMin elements run on the calling thread: waking a worker costs 30-100 us when
// the other core is busy, more than the split saves below about 2^19 elements (measured
// on a 2-core EPYC: Adam / mse_loss 0.3-0.9x at 2^16-2^19, 1.2-2x at 2^20-2^21).
// The split never changes a result:
//  - elementwise loops: every element gets the same arithmetic wherever the cut falls
//    (cuts are at multiples of 64 elements, tails are masked);
//  - sums: always computed as fixed chunks of kSumChunk elements whose partial sums are
//    added in chunk order, whichever thread computed them, so a sum is the same bits
//    with 1 or 2 threads and from run to run.
// The workers are started at the first large call and live for the whole process
// (a forked child starts its own).
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>

namespace gdcore::kernels::simd {

inline constexpr int64_t kParallelMin = int64_t{1} << 20;
inline constexpr int64_t kSumChunk = int64_t{1} << 14;

// Threads a large kernel call is split over: min(2, hardware threads) by default.
int kernel_threads();
// For tests and benchmarks: 1 disables the split. Throws std::invalid_argument outside 1..64.
void set_kernel_threads(int n);

// Runs fn(ctx, part) for part in [0, parts), part 0 on the calling thread, the others on
// the workers; returns when all are done. parts <= kernel_threads().
void run_parts(int parts, void (*fn)(void*, int), void* ctx);

// Calls body(begin, end) on contiguous pieces covering [0, n), in parallel when n is large.
template <class Body>
void parallel_ranges(int64_t n, Body&& body) {
  // (The size first: a small call, the per-sample step's, then never asks for the thread count.)
  const int threads = n < kParallelMin ? 1 : kernel_threads();
  if (threads < 2) {
    body(int64_t{0}, n);
    return;
  }
  struct Ctx {
    Body* body;
    int64_t n;
    int parts;
  } ctx{&body, n, threads};
  run_parts(threads, [](void* p, int part) {
    const Ctx& c = *static_cast<Ctx*>(p);
    auto cut = [&](int k) { return k == c.parts ? c.n : (c.n * k / c.parts) / 64 * 64; };
    const int64_t begin = cut(part), end = cut(part + 1);
    if (begin < end) (*c.body)(begin, end);
  }, &ctx);
}

// Calls body(begin, end) on contiguous runs of the items [0, items) (planes, channels: units whose
// results do not depend on each other), one run per kernel thread when the call touches at least
// kParallelMin elements in all (`elements`) and there are two items or more.
template <class Body>
void parallel_items(int64_t items, int64_t elements, Body&& body) {
  const int threads = elements < kParallelMin || items < 2 ? 1 : static_cast<int>(std::min<int64_t>(kernel_threads(), items));
  if (threads < 2) {
    body(int64_t{0}, items);
    return;
  }
  struct Ctx {
    Body* body;
    int64_t items;
    int parts;
  } ctx{&body, items, threads};
  run_parts(threads, [](void* p, int part) {
    const Ctx& c = *static_cast<Ctx*>(p);
    const int64_t begin = c.items * part / c.parts, end = c.items * (part + 1) / c.parts;
    if (begin < end) (*c.body)(begin, end);
  }, &ctx);
}

// The sum over the chunks [c * kSumChunk, ...) of [0, n) of chunk_sum(begin, end), the
// partials added in chunk order (see the top of this file).
double chunked_sum(int64_t n, double (*chunk_sum)(void* ctx, int64_t begin, int64_t end), void* ctx);

}  // namespace gdcore::kernels::simd
