// The worker threads behind parallel.hpp: a fixed set of workers woken per call through a
// generation counter. One parallel call runs at a time; a call that finds the workers
// busy (two Python threads with the GIL released) simply runs all its parts itself,
// which gives the same results.
#include "kernels/simd/parallel.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gdcore::kernels::simd {

namespace {

int default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw >= 2 ? 2 : 1;
}

std::atomic<int> g_threads{default_threads()};

class Workers {
 public:
  explicit Workers(int count) : count_(count) {
    for (int i = 1; i <= count; ++i) std::thread([this, i] { loop(i); }).detach();
  }
  int count() const { return count_; }

  // Runs parts 1..parts-1 on the workers and part 0 here. False when another call holds them.
  bool try_run(int parts, void (*fn)(void*, int), void* ctx) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(m_);
      fn_ = fn;
      ctx_ = ctx;
      parts_ = parts;
      pending_ = count_;
      ++generation_;
    }
    start_.notify_all();
    fn(ctx, 0);
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, [this] { return pending_ == 0; });
    return true;
  }

 private:
  void loop(int index) {
    uint64_t seen = 0;
    for (;;) {
      void (*fn)(void*, int);
      void* ctx;
      int parts;
      {
        std::unique_lock<std::mutex> lock(m_);
        start_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        fn = fn_;
        ctx = ctx_;
        parts = parts_;
      }
      if (index < parts) fn(ctx, index);
      std::lock_guard<std::mutex> lock(m_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  const int count_;
  std::mutex busy_, m_;
  std::condition_variable start_, done_;
  uint64_t generation_ = 0;
  int pending_ = 0, parts_ = 0;
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
};

// The workers of this process, created at first use with enough threads for `want` parts.
// Never destroyed (they block in wait() until the process exits); a forked child, which has
// none of its parent's threads, makes its own instead of waiting on them forever.
Workers* workers_for(int want) {
  static std::mutex guard;
  static Workers* current = nullptr;
  static pid_t owner = 0;
  std::lock_guard<std::mutex> lock(guard);
  if (!current || owner != getpid() || current->count() < want - 1) {
    current = new Workers(want - 1);
    owner = getpid();
  }
  return current;
}

}  // namespace

int kernel_threads() { return g_threads.load(std::memory_order_relaxed); }

void set_kernel_threads(int n) {
  if (n < 1 || n > 64)
    throw std::invalid_argument("kernel threads must be in 1..64, got " + std::to_string(n));
  g_threads.store(n, std::memory_order_relaxed);
}

void run_parts(int parts, void (*fn)(void*, int), void* ctx) {
  if (parts > 1 && workers_for(parts)->try_run(parts, fn, ctx)) return;
  for (int part = 0; part < parts; ++part) fn(ctx, part);
}

double chunked_sum(int64_t n, double (*chunk_sum)(void* ctx, int64_t begin, int64_t end), void* ctx) {
  const int64_t chunks = (n + kSumChunk - 1) / kSumChunk;
  if (chunks <= 1) return n > 0 ? chunk_sum(ctx, 0, n) : 0.0;
  std::vector<double> partial(static_cast<size_t>(chunks));
  parallel_ranges(chunks * kSumChunk, [&](int64_t begin, int64_t end) {
    // begin and end are multiples of 64; map them to whole chunks (each chunk to exactly one piece)
    const int64_t c0 = (begin + kSumChunk - 1) / kSumChunk, c1 = (end + kSumChunk - 1) / kSumChunk;
    for (int64_t c = c0; c < std::min(c1, chunks); ++c)
      partial[static_cast<size_t>(c)] = chunk_sum(ctx, c * kSumChunk, std::min(n, (c + 1) * kSumChunk));
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace gdcore::kernels::simd
