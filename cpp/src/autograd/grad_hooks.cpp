// The hook lists of gdcore/grad_hooks.hpp: registration, removal and the run that checks what a
// hook returned (torch refuses a replacement of another shape or dtype, and so does this).
#include "gdcore/grad_hooks.hpp"

#include <atomic>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "gdcore/autograd.hpp"

namespace gdcore {

int64_t GradHookList::add(uint32_t output_nr, GradHook fn) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.push_back({next_id_, output_nr, std::move(fn)});
  return next_id_++;
}

bool GradHookList::remove(int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->id == id) {
      entries_.erase(it);
      return true;
    }
  return false;
}

bool GradHookList::empty() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.empty();
}

Tensor GradHookList::run(uint32_t output_nr, Tensor g) const {
  std::vector<Entry> hooks;
  {
    std::lock_guard<std::mutex> lock(mutex_);  // a copy: a hook may remove itself (or add one) while it runs
    hooks = entries_;
  }
  for (const Entry& e : hooks) {
    if (e.output_nr != output_nr || !g.defined()) continue;
    Tensor r = e.fn(g);
    if (!r.defined()) continue;
    if (r.shape() != g.shape())
      throw std::runtime_error("hook changed the size of the gradient: it got shape " + shape_str(g.shape()) +
                               " and returned " + shape_str(r.shape()) + "; return a tensor of the same shape");
    if (r.dtype() != g.dtype())
      throw std::runtime_error(std::string("hook changed the type of the gradient: it got ") + dtype_name(g.dtype()) +
                               " and returned " + dtype_name(r.dtype()) + "; return a tensor of the same dtype");
    g = std::move(r);
  }
  return g;
}

namespace {

// The side table: object address -> (the object, weakly; its hooks).
struct Owned {
  std::weak_ptr<void> owner;
  std::shared_ptr<GradHookList> hooks;
};
std::mutex table_mutex;
std::unordered_map<const void*, Owned>& table() {
  static auto* t = new std::unordered_map<const void*, Owned>();  // (never destroyed: hooks may hold Python objects)
  return *t;
}
std::atomic<size_t> table_size{0};

std::shared_ptr<GradHookList> find(const std::shared_ptr<void>& owner) {
  if (table_size.load(std::memory_order_relaxed) == 0) return nullptr;
  std::lock_guard<std::mutex> lock(table_mutex);
  auto& t = table();
  auto it = t.find(owner.get());
  if (it == t.end()) return nullptr;
  if (it->second.owner.lock() != owner || it->second.hooks->empty()) {  // a dead object's entry, or all removed
    t.erase(it);
    table_size.store(t.size(), std::memory_order_relaxed);
    return nullptr;
  }
  return it->second.hooks;
}

std::shared_ptr<GradHookList> find_or_add(const std::shared_ptr<void>& owner) {
  std::lock_guard<std::mutex> lock(table_mutex);
  auto& t = table();
  for (auto it = t.begin(); it != t.end();) it = it->second.owner.expired() ? t.erase(it) : std::next(it);
  Owned& o = t[owner.get()];
  if (o.owner.lock() != owner) o = Owned{owner, std::make_shared<GradHookList>()};
  table_size.store(t.size(), std::memory_order_relaxed);
  return o.hooks;
}

}  // namespace

std::pair<std::shared_ptr<GradHookList>, int64_t> register_grad_hook(const Tensor& t, GradHook fn) {
  if (!t.defined()) throw std::invalid_argument("register_hook: got an undefined tensor");
  if (!t.requires_grad())
    throw std::runtime_error("cannot register a hook on a tensor that doesn't require gradient; call "
                             "requires_grad_() on it first");
  std::shared_ptr<GradHookList> list =
      t.grad_fn() ? find_or_add(std::static_pointer_cast<void>(t.grad_fn())) : find_or_add(t.impl());
  const int64_t id = list->add(t.grad_fn() ? t.impl()->output_nr : 0, std::move(fn));
  return {list, id};
}

std::shared_ptr<GradHookList> leaf_hooks(const std::shared_ptr<TensorImpl>& leaf) { return find(leaf); }
std::shared_ptr<GradHookList> node_hooks(const std::shared_ptr<Node>& node) { return find(node); }

}  // namespace gdcore
