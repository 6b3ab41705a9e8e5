// A collective on a tensor's memory, as one step of eager code, of a captured program and of
// its lowered form (see gdcore/collective.hpp).
#include "gdcore/collective.hpp"

#include <stdexcept>

#include "gdcore/capture.hpp"
#include "gdcore/grad_mode.hpp"
#include "gdcore/kernel_trace.hpp"
#include "gdcore/storage.hpp"

namespace gdcore {

namespace {

// x / divisor, one correctly rounded IEEE division per element: the same bytes as numpy's
// `array /= world_size`, whatever the loop's vector width (no reciprocal, no fast-math).
template <typename T>
void divide(T* x, int64_t n, int64_t divisor) {
  const T d = static_cast<T>(divisor);
  for (int64_t i = 0; i < n; ++i) x[i] /= d;
}

[[noreturn]] void throw_closed(const std::string& name) {
  throw std::runtime_error(name + ": its process group was destroyed (destroy_process_group), so this collective "
                           "(of a DistributedDataParallel model, or a step compiled with one) can no longer run; "
                           "build the model's DistributedDataParallel again after init_process_group");
}

}  // namespace

void collective_(const Tensor& t, const std::shared_ptr<const Collective>& collective, int64_t divisor) {
  if (!collective || !collective->run) throw std::invalid_argument("collective_: no collective given");
  const std::string& name = collective->name;
  if (!t.defined()) throw std::invalid_argument(name + ": the tensor is None");
  if (!t.is_contiguous())
    throw std::invalid_argument(name + ": the tensor must be contiguous (the collective works in place on its "
                                "memory); pass t.contiguous() and copy the result back");
  if (!t.impl()->storage->writable())
    throw std::invalid_argument(name + ": the tensor is read-only (it shares memory with a read-only numpy array); "
                                "clone() it first");
  if (GradMode::is_enabled() && t.requires_grad())
    throw std::runtime_error(name + ": the tensor requires grad; run the collective under gdcore.no_grad() or on "
                             "its .detach() (an in-place change is not differentiable)");
  if (divisor < 1) throw std::invalid_argument(name + ": divisor must be >= 1, got " + std::to_string(divisor));
  if (divisor > 1 && !is_floating(t.dtype()))
    throw std::invalid_argument(name + ": averaging needs a floating-point tensor, got " + dtype_name(t.dtype()));
  if (collective->closed->load()) throw_closed(name);
  if (capture::is_capturing())
    capture::on_inplace(name.c_str(), {t}, [collective, divisor](const std::vector<Tensor>& ts) {
      collective_(ts[0], collective, divisor);
    });
  void* data = t.raw_data();
  const int64_t n = t.numel();
  const DType dtype = t.dtype();
  // The closure holds the collective (not the tensor): a lowered replay keeps it as a step on this memory.
  if (trace::KernelTrace* k = trace::active()) k->calls_out = true;
  trace::launch([collective, data, n, dtype] {
    if (collective->closed->load()) throw_closed(collective->name);
    collective->run(data, n, dtype);
  });
  if (divisor > 1) {
    if (dtype == DType::Float64)
      trace::launch([x = static_cast<double*>(data), n, divisor] { divide(x, n, divisor); });
    else
      trace::launch([x = static_cast<float*>(data), n, divisor] { divide(x, n, divisor); });
  }
  t.bump_version();
}

}  // namespace gdcore
