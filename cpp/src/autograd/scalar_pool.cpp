// Node memory for the scalar tape. Each thread keeps its own free list, so the hot path
// (take a node, give one back) is a few instructions with no lock and no malloc. Nodes come
// from chunks of kBatch nodes that live until the process ends; the shared state (chunks,
// spare batches, counters of exited threads) is behind one mutex that a thread touches
// only once per kBatch nodes. A node may be given back on another thread than the one
// that took it: it joins that thread's list. A thread that collects more than
// kKeepPerThread free nodes (one thread frees what another builds) hands a batch back, and
// an exiting thread hands back all of its list, so memory stays bounded by the peak
// number of live nodes plus kKeepPerThread per thread.
#include "autograd/scalar_pool.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace gdcore::scalar {
namespace {

constexpr std::int64_t kBatch = 4096;                 // nodes per chunk and per hand-back
constexpr std::int64_t kKeepPerThread = 16 * kBatch;  // a thread's free list stays below this

struct Batch {
  ScalarNode* head;  // linked through ScalarNode::next
  std::int64_t count;
};

enum class ThreadState : std::uint8_t { Unregistered, Active, Exited };

// Per-thread pool. Trivially destructible and constant-initialised, so reaching it costs no
// guard; ExitHook below hands its nodes back when the thread ends.
struct Local {
  ScalarNode* free;
  std::int64_t free_count;
  std::atomic<std::int64_t> taken, given;  // written by the owner, summed by tape_stats()
  ThreadState state;
};
thread_local Local local{};

struct Shared {
  std::mutex mutex;
  std::vector<std::unique_ptr<ScalarNode[]>> chunks;
  std::vector<Batch> spare;  // free nodes handed back by threads
  std::int64_t exited_taken = 0, exited_given = 0;
  std::vector<Local*> threads;  // registered, not exited
};
// Never destroyed: threads (and their exit hooks) may outlive static destruction.
Shared& shared() {
  static Shared* s = new Shared;
  return *s;
}

void bump(std::atomic<std::int64_t>& counter) {
  // Only the owning thread writes, so a relaxed load + store is enough (no locked add).
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

struct ExitHook {
  ~ExitHook() {
    Shared& s = shared();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (local.free) {
      try {
        s.spare.push_back({local.free, local.free_count});
      } catch (...) {  // out of memory while a thread exits: lose these nodes, never crash
      }
    }
    local.free = nullptr;
    local.free_count = 0;
    s.exited_taken += local.taken.load(std::memory_order_relaxed);
    s.exited_given += local.given.load(std::memory_order_relaxed);
    local.taken.store(0, std::memory_order_relaxed);
    local.given.store(0, std::memory_order_relaxed);
    std::erase(s.threads, &local);
    local.state = ThreadState::Exited;
  }
};
thread_local ExitHook exit_hook;  // constructed on first use in a thread, destroyed at its exit

// Links a fresh chunk into a batch. Caller holds the mutex.
Batch new_chunk(Shared& s) {
  auto chunk = std::make_unique<ScalarNode[]>(kBatch);
  for (std::int64_t i = 0; i + 1 < kBatch; ++i) chunk[i].next = &chunk[i + 1];
  chunk[kBatch - 1].next = nullptr;
  Batch b{&chunk[0], kBatch};
  s.chunks.push_back(std::move(chunk));
  return b;
}

void register_thread() {
  Shared& s = shared();
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.threads.push_back(&local);
  }
  (void)&exit_hook;  // first use constructs it, which schedules its destructor at thread exit
  local.state = ThreadState::Active;
}

ScalarNode* take_from_shared() {  // for a thread that is exiting
  Shared& s = shared();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.spare.empty()) s.spare.push_back(new_chunk(s));
  Batch& b = s.spare.back();
  ScalarNode* n = b.head;
  b.head = n->next;
  if (--b.count == 0) s.spare.pop_back();
  ++s.exited_taken;
  return n;
}

[[gnu::noinline]] ScalarNode* take_slow() {
  if (local.state == ThreadState::Unregistered) register_thread();
  if (local.state == ThreadState::Exited) return take_from_shared();
  if (!local.free) {
    Shared& s = shared();
    std::lock_guard<std::mutex> lock(s.mutex);
    Batch b;
    if (s.spare.empty()) {
      b = new_chunk(s);
    } else {
      b = s.spare.back();
      s.spare.pop_back();
    }
    local.free = b.head;
    local.free_count = b.count;
  }
  ScalarNode* n = local.free;
  local.free = n->next;
  --local.free_count;
  bump(local.taken);
  return n;
}

[[gnu::noinline]] void hand_back_batch() {
  ScalarNode* head = local.free;
  ScalarNode* tail = head;
  for (std::int64_t i = 1; i < kBatch; ++i) tail = tail->next;
  local.free = tail->next;
  local.free_count -= kBatch;
  tail->next = nullptr;
  Shared& s = shared();
  std::lock_guard<std::mutex> lock(s.mutex);
  try {
    s.spare.push_back({head, kBatch});
  } catch (...) {  // no memory for the list entry: keep the nodes on this thread instead
    tail->next = local.free;
    local.free = head;
    local.free_count += kBatch;
  }
}

[[gnu::noinline]] void give_slow(ScalarNode* n) {
  if (local.state == ThreadState::Unregistered) register_thread();
  if (local.state == ThreadState::Exited) {
    Shared& s = shared();
    std::lock_guard<std::mutex> lock(s.mutex);
    n->next = nullptr;
    try {
      s.spare.push_back({n, 1});
    } catch (...) {  // lose one node rather than crash in a destructor
    }
    ++s.exited_given;
    return;
  }
  detail::give_node(n);
}

}  // namespace

namespace detail {

ScalarNode* take_node() {
  Local& l = local;  // one TLS lookup
  ScalarNode* n = l.free;
  if (n && l.state == ThreadState::Active) {
    l.free = n->next;
    // The list is in the order nodes were freed, scattered in memory: fetch the next one
    // now, while Python runs, instead of missing the cache on the next op.
    if (l.free) __builtin_prefetch(l.free, 1);
    --l.free_count;
    bump(l.taken);
    return n;
  }
  return take_slow();
}

void give_node(ScalarNode* n) {
  Local& l = local;
  if (l.state != ThreadState::Active) return give_slow(n);
  n->next = l.free;
  l.free = n;
  bump(l.given);
  if (++l.free_count > kKeepPerThread) hand_back_batch();
}

}  // namespace detail

ScalarTapeStats tape_stats() {
  Shared& s = shared();
  std::lock_guard<std::mutex> lock(s.mutex);
  std::int64_t live = s.exited_taken - s.exited_given;
  for (const Local* l : s.threads) live += l->taken.load(std::memory_order_relaxed) - l->given.load(std::memory_order_relaxed);
  return {live, static_cast<std::int64_t>(s.chunks.size()) * kBatch};
}

}  // namespace gdcore::scalar
