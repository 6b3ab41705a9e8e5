// Tensor.register_hook: functions of a tensor's gradient that the engine runs when that gradient
// is complete, before it is used (torch's tensor hooks). A hook returns a replacement gradient of
// the same shape and dtype, or an undefined tensor to keep it. A leaf's hooks belong to its
// TensorImpl (they run once per backward on the leaf's summed gradient, before .grad is
// accumulated); a non-leaf's to its grad_fn node, for its output. They are kept in a side table
// keyed by that object (checked through a weak pointer, so a new object at a freed address gets
// none), which costs the engine nothing while no hook is registered; the entries of dead objects are
// dropped when the engine meets them or at the next registration. The core stores plain function
// objects; the bindings (cpp/bindings/grad_hooks.cpp) make them call Python with the GIL.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "gdcore/tensor.hpp"

namespace gdcore {

using GradHook = std::function<Tensor(const Tensor& grad)>;

struct GradHookList {
  struct Entry {
    int64_t id;
    uint32_t output_nr;  // which output of a node (0 for leaves)
    GradHook fn;
  };
  int64_t add(uint32_t output_nr, GradHook fn);
  bool remove(int64_t id);
  bool empty() const;
  // g passed through the hooks of `output_nr`, in registration order.
  Tensor run(uint32_t output_nr, Tensor g) const;

 private:
  mutable std::mutex mutex_;  // (registration holds the GIL; backward may run on another thread without it)
  std::vector<Entry> entries_;
  int64_t next_id_ = 0;
};

// Registers `fn` on `t`, which must require grad. Returns the list it went into and its id (for removal).
std::pair<std::shared_ptr<GradHookList>, int64_t> register_grad_hook(const Tensor& t, GradHook fn);
// The hooks of a leaf / of a node's outputs, or null (fast when no hook was ever registered).
std::shared_ptr<GradHookList> leaf_hooks(const std::shared_ptr<TensorImpl>& leaf);
std::shared_ptr<GradHookList> node_hooks(const std::shared_ptr<Node>& node);

}  // namespace gdcore
