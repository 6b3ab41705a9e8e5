// Per-thread free lists of memory blocks, one list per size class, shared by the object
// pool (object_pool.cpp) and the small-block cache (block_cache.cpp). A freed block goes
// onto the list of its class and the next request of that class pops it, without malloc
// or a lock; a block freed on another thread joins that thread's lists (the blocks are
// plain malloc/aligned_alloc memory either way). Each list is bounded in count so that a
// burst of frees does not pin memory for good. The lists sit behind one trivially
// destructible thread_local (in a shared library every thread_local access is a call, so
// the hot path makes one) and are freed when the thread exits; after that, pop() finds
// nothing and push() refuses, and callers fall back to malloc/free. Builds with
// AddressSanitizer keep no lists, so that a use after free is still reported.
#pragma once
#include <cstddef>
#include <cstdlib>

namespace gdcore {

template <size_t Classes, size_t PerClass>
class ThreadFreeLists {
 public:
  // A free block of class `c` (0-based), or null.
  static void* pop(size_t c) {
    Lists* lists = get();
    if (!lists) return nullptr;
    List& list = lists->lists[c];
    void* p = list.head;
    if (p) {
      list.head = *static_cast<void**>(p);  // each free block holds the next
      --list.count;
    }
    return p;
  }
  // Keeps `p` for class `c`; false when its list is full or the thread is exiting (then the caller frees it).
  static bool push(size_t c, void* p) {
    Lists* lists = get();
    if (!lists) return false;
    List& list = lists->lists[c];
    if (list.count >= PerClass) return false;
    *static_cast<void**>(p) = list.head;
    list.head = p;
    ++list.count;
    return true;
  }

 private:
  struct List {
    void* head = nullptr;
    size_t count = 0;
  };
  struct Lists {
    List lists[Classes];
    ~Lists() {
      for (List& list : lists)
        while (list.head) {
          void* next = *static_cast<void**>(list.head);
          std::free(list.head);
          list.head = next;
        }
    }
  };
  struct State {
    Lists* lists = nullptr;
    bool exited = false;
  };
  struct Owner {
    ~Owner() {
      delete state.lists;
      state.lists = nullptr;
      state.exited = true;
    }
  };
  static inline thread_local State state;

  static Lists* get() {
#if defined(__SANITIZE_ADDRESS__)
    return nullptr;
#else
    State& s = state;
    if (s.lists || s.exited) return s.lists;
    thread_local Owner owner;  // frees the lists when the thread exits
    (void)owner;
    s.lists = new Lists;
    return s.lists;
#endif
  }
};

}  // namespace gdcore
