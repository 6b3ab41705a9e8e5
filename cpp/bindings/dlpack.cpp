// DLPack, the zero-copy exchange protocol between array libraries: Tensor.__dlpack__ and
// __dlpack_device__ (producer) and gdcore.from_dlpack (consumer of any producer: numpy,
// torch, jax, ...). Memory is shared both ways and strides are kept. The ABI structs are
// declared here from the DLPack specification (v1.0); they are plain C layouts.
// Read-only memory: gdcore has read-only tensors (Storage::writable), so a producer's
// read-only flag gives a read-only tensor, and a read-only gdcore tensor is exported with
// the flag set; the legacy (unversioned) capsule cannot carry the flag, so exporting a
// read-only tensor through it raises BufferError, as numpy does.
#include <cstring>

#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {

// ---- the DLPack ABI (dlpack.h, v1.0) ----
enum : int32_t { kDLCPU = 1 };
enum : uint8_t { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBool = 6 };
struct DLDevice {
  int32_t device_type;
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; null means compact row-major
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};
struct DLPackVersion {
  uint32_t major;
  uint32_t minor;
};
constexpr uint64_t kDLReadOnly = 1ULL << 0;
constexpr uint64_t kDLIsCopied = 1ULL << 1;
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
};
constexpr uint32_t kMajor = 1, kMinor = 0;  // the version gdcore produces and reads

DLDataType dl_dtype(DType t) {
  switch (t) {
    case DType::Float32: return {kDLFloat, 32, 1};
    case DType::Float64: return {kDLFloat, 64, 1};
    case DType::Int64: return {kDLInt, 64, 1};
    case DType::Int32: return {kDLInt, 32, 1};
    case DType::Int16: return {kDLInt, 16, 1};
    case DType::Int8: return {kDLInt, 8, 1};
    case DType::UInt8: return {kDLUInt, 8, 1};
    case DType::Bool: return {kDLBool, 8, 1};
  }
  throw std::logic_error("__dlpack__: unknown dtype");
}

std::optional<DType> from_dl_dtype(DLDataType d) {
  if (d.lanes != 1) return std::nullopt;
  for (int k = 0; k < kNumDTypes; ++k) {
    const DLDataType e = dl_dtype(static_cast<DType>(k));
    if (e.code == d.code && e.bits == d.bits) return static_cast<DType>(k);
  }
  return std::nullopt;
}

// What an exported capsule owns: the storage (kept alive while the consumer holds it) and the
// shape and strides the DLTensor points into.
template <typename Managed>
struct Export {
  Managed managed{};
  std::shared_ptr<Storage> storage;
  std::vector<int64_t> shape, strides;
};

template <typename Managed>
Managed* make_export(const Tensor& t) {
  auto* ctx = new Export<Managed>();
  ctx->storage = t.impl()->storage;
  ctx->shape.assign(t.shape().begin(), t.shape().end());
  ctx->strides.assign(t.strides().begin(), t.strides().end());
  DLTensor& dl = ctx->managed.dl_tensor;
  dl.data = t.impl()->storage->data();
  dl.byte_offset = static_cast<uint64_t>(t.impl()->offset) * itemsize(t.dtype());
  dl.device = {kDLCPU, 0};
  dl.ndim = static_cast<int32_t>(t.dim());
  dl.dtype = dl_dtype(t.dtype());
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  ctx->managed.manager_ctx = ctx;
  // (May run on any thread, without the GIL: it only drops C++ references.)
  ctx->managed.deleter = [](Managed* self) { delete static_cast<Export<Managed>*>(self->manager_ctx); };
  return &ctx->managed;
}

// A capsule the consumer never took still owns its tensor: free it with the capsule.
template <typename Managed>
void free_unconsumed(PyObject* capsule, const char* name) {
  if (PyCapsule_IsValid(capsule, name)) {
    auto* m = static_cast<Managed*>(PyCapsule_GetPointer(capsule, name));
    if (m && m->deleter) m->deleter(m);
  }
}

void require_cpu_device(py::handle dl_device, const char* what) {
  if (dl_device.is_none()) return;
  py::tuple d = py::reinterpret_borrow<py::object>(dl_device).cast<py::tuple>();
  if (d.size() != 2 || d[0].cast<int>() != kDLCPU)
    throw py::buffer_error(std::string(what) + ": gdcore runs on the CPU only (DLPack device (1, 0)); got dl_device=" +
                           std::string(py::repr(dl_device)));
}

py::object dlpack(const Tensor& t, py::handle stream, py::handle max_version, py::handle dl_device, py::handle copy) {
  if (!stream.is_none())
    throw py::value_error("__dlpack__: gdcore tensors live on the CPU, where stream must be None, got " +
                          std::string(py::repr(stream)));
  require_cpu_device(dl_device, "__dlpack__");
  if (t.requires_grad())
    throw py::buffer_error("can't export a tensor that requires grad through DLPack; use tensor.detach() first");
  const bool copied = !copy.is_none() && copy.cast<bool>();
  Tensor src = copied ? t.clone_data() : t;
  const bool read_only = !src.impl()->storage->writable();
  bool versioned = false;
  if (!max_version.is_none()) {
    py::tuple v = py::reinterpret_borrow<py::object>(max_version).cast<py::tuple>();
    versioned = v.size() >= 1 && v[0].cast<int64_t>() >= 1;
  }
  if (!versioned) {
    if (read_only)
      throw py::buffer_error("__dlpack__: cannot export a read-only tensor as a legacy DLPack capsule (it has no "
                             "read-only flag); the consumer must ask for max_version >= (1, 0), or pass copy=True");
    return py::reinterpret_steal<py::object>(PyCapsule_New(make_export<DLManagedTensor>(src), "dltensor", [](PyObject* c) {
      free_unconsumed<DLManagedTensor>(c, "dltensor");
    }));
  }
  DLManagedTensorVersioned* m = make_export<DLManagedTensorVersioned>(src);
  m->version = {kMajor, kMinor};
  m->flags = (read_only ? kDLReadOnly : 0) | (copied ? kDLIsCopied : 0);
  return py::reinterpret_steal<py::object>(PyCapsule_New(m, "dltensor_versioned", [](PyObject* c) {
    free_unconsumed<DLManagedTensorVersioned>(c, "dltensor_versioned");
  }));
}

// The dtype of a DLTensor gdcore can view; throws (before anything is taken over) when it cannot.
DType validate(const DLTensor& dl) {
  if (dl.device.device_type != kDLCPU)
    throw py::buffer_error("from_dlpack: the tensor lives on DLPack device type " + std::to_string(dl.device.device_type) +
                           "; gdcore runs on the CPU only (device type 1): move it to the CPU first");
  const std::optional<DType> dt = from_dl_dtype(dl.dtype);
  if (!dt)
    throw py::type_error("from_dlpack: DLPack dtype (code " + std::to_string(dl.dtype.code) + ", bits " +
                         std::to_string(dl.dtype.bits) + ", lanes " + std::to_string(dl.dtype.lanes) +
                         ") is not supported; gdcore holds " + supported_dtypes());
  if (dl.ndim < 0) throw py::value_error("from_dlpack: negative ndim in the DLPack tensor");
  for (int32_t d = 0; d < dl.ndim; ++d) {
    if (dl.shape[d] < 0) throw py::value_error("from_dlpack: negative size in the DLPack tensor");
    if (dl.shape[d] > 1 && dl.strides && dl.strides[d] < 0)
      throw py::buffer_error("from_dlpack: negative strides cannot be shared by gdcore; copy the array first "
                             "(e.g. numpy.ascontiguousarray)");
  }
  return *dt;
}

// A tensor viewing a DLTensor; `owner` frees the producer's managed tensor when the last view goes.
Tensor wrap(const DLTensor& dl, std::shared_ptr<void> owner, bool writable) {
  const DType dt = validate(dl);
  Shape shape(dl.shape, dl.shape + dl.ndim);
  Shape strides = dl.strides ? Shape(dl.strides, dl.strides + dl.ndim) : contiguous_strides(shape);
  int64_t extent = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) extent = 0;
    if (shape[d] <= 1 && strides[d] < 0) strides[d] = 0;  // never used to step: any value would do
  }
  if (extent)
    for (size_t d = 0; d < shape.size(); ++d) extent += (shape[d] - 1) * strides[d];
  char* base = static_cast<char*>(dl.data) + dl.byte_offset;
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(base, static_cast<size_t>(extent) * itemsize(dt), std::move(owner), writable);
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = dt;
  impl->version = std::make_shared<std::atomic<uint64_t>>(0);
  return Tensor(impl);
}

Tensor from_capsule(py::handle capsule) {
  PyObject* c = capsule.ptr();
  if (PyCapsule_IsValid(c, "dltensor_versioned")) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(c, "dltensor_versioned"));
    if (m->version.major != kMajor)
      throw py::buffer_error("from_dlpack: DLPack version " + std::to_string(m->version.major) + "." +
                             std::to_string(m->version.minor) + " is not supported (gdcore reads 1.x)");
    // Checked before taking ownership: a refused capsule stays the producer's to free.
    validate(m->dl_tensor);
    std::shared_ptr<void> owner(m, [](DLManagedTensorVersioned* p) {
      if (p->deleter) p->deleter(p);
    });
    PyCapsule_SetName(c, "used_dltensor_versioned");
    return wrap(m->dl_tensor, std::move(owner), !(m->flags & kDLReadOnly));
  }
  if (PyCapsule_IsValid(c, "dltensor")) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(c, "dltensor"));
    validate(m->dl_tensor);
    std::shared_ptr<void> owner(m, [](DLManagedTensor* p) {
      if (p->deleter) p->deleter(p);
    });
    PyCapsule_SetName(c, "used_dltensor");
    return wrap(m->dl_tensor, std::move(owner), true);
  }
  throw py::value_error("from_dlpack: expected an unused DLPack capsule (named 'dltensor' or 'dltensor_versioned'); "
                        "a capsule can be consumed only once");
}

Tensor from_dlpack(py::object obj) {
  if (py::isinstance<TensorImpl>(obj)) return obj.cast<Tensor>().detach();  // already gdcore's: the same memory
  if (PyCapsule_CheckExact(obj.ptr())) return from_capsule(obj);
  if (!py::hasattr(obj, "__dlpack__"))
    throw py::type_error("from_dlpack(): argument 'ext_tensor' must be an object with __dlpack__ (a numpy array, a torch "
                         "tensor, ...) or a DLPack capsule, got " + std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
  if (py::hasattr(obj, "__dlpack_device__")) {
    py::tuple dev = obj.attr("__dlpack_device__")();
    if (dev.size() != 2 || dev[0].cast<int>() != kDLCPU)
      throw py::buffer_error("from_dlpack: the tensor lives on DLPack device " + std::string(py::repr(dev)) +
                             "; gdcore runs on the CPU only (device (1, 0)): move it to the CPU first");
  }
  py::object capsule;
  try {
    capsule = obj.attr("__dlpack__")(py::arg("max_version") = py::make_tuple(kMajor, kMinor));
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_TypeError)) throw;
    capsule = obj.attr("__dlpack__")();  // a producer older than DLPack 1.0 (no max_version keyword)
  }
  return from_capsule(capsule);
}

}  // namespace

void bind_dlpack(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<TensorImpl, std::shared_ptr<TensorImpl>>>(m.attr("Tensor"));
  cls.def("__dlpack__", &dlpack, py::kw_only(), py::arg("stream") = py::none(), py::arg("max_version") = py::none(),
          py::arg("dl_device") = py::none(), py::arg("copy") = py::none(),
          "A DLPack capsule sharing this tensor's memory (versioned when max_version >= (1, 0)).");
  cls.def("__dlpack_device__", [](const Tensor&) { return py::make_tuple(int(kDLCPU), 0); },
          "(device type, device id) as DLPack counts them: (1, 0), the CPU.");
  m.def("from_dlpack", &from_dlpack, py::arg("ext_tensor"),
        "A tensor sharing memory with any DLPack producer (an object with __dlpack__, or a capsule).");
}

}  // namespace gdcore::bind
