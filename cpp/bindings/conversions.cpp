// Conversions between Python objects and core types: dtypes, numpy arrays (shared
// memory where possible), nested lists, shapes, dims and index keys.
#include <cstdint>

#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {
// An int from anything with __index__ (Python ints, numpy integers, 0-d int arrays).
// A Python int (or anything with __index__) as int64; `overflow` is set to +1/-1 instead of
// throwing when it lies beyond int64 (then the result is the nearest int64).
int64_t as_int64(py::handle h, int* overflow) {
  py::object i = py::reinterpret_steal<py::object>(PyNumber_Index(h.ptr()));
  if (!i) throw py::error_already_set();
  long long v = PyLong_AsLongLongAndOverflow(i.ptr(), overflow);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (*overflow) return *overflow > 0 ? INT64_MAX : INT64_MIN;
  return v;
}

int64_t as_index(py::handle h) {
  int overflow = 0;
  int64_t v = as_int64(h, &overflow);
  if (overflow)
    throw py::value_error("the integer " + std::string(py::repr(h)) + " does not fit in int64 (|value| < 2**63)");
  return v;
}

// Slice bounds beyond int64 clamp, as Python clamps slice bounds to the sequence.
int64_t slice_bound(py::handle h) {
  int overflow = 0;
  return as_int64(h, &overflow);
}
}  // namespace

DType dtype_from(py::handle h) {
  if (py::isinstance<DType>(h)) return h.cast<DType>();
  std::string name;
  if (py::isinstance<py::str>(h)) {  // "torch.FloatTensor" / "gdcore.LongTensor" (Tensor.type's names)
    std::string s = h.cast<std::string>();
    for (const char* prefix : {"torch.", "gdcore."})
      if (s.rfind(prefix, 0) == 0) s = s.substr(std::string(prefix).size());
    for (int k = 0; k < kNumDTypes; ++k)
      if (s == tensor_type_name(static_cast<DType>(k))) return static_cast<DType>(k);
  }
  try {
    name = py::str(py::module_::import("numpy").attr("dtype")(h).attr("name"));
  } catch (py::error_already_set&) {
    throw py::type_error("unknown dtype " + std::string(py::repr(h)) + "; use one of " + supported_dtypes());
  }
  for (int k = 0; k < kNumDTypes; ++k)
    if (name == dtype_name(static_cast<DType>(k))) return static_cast<DType>(k);
  throw py::type_error("dtype " + name + " is not supported; gdcore holds " + supported_dtypes());
}

// torch's legacy type names, as Tensor.type() gives and takes them ("torch.FloatTensor").
const char* tensor_type_name(DType t) {
  constexpr const char* names[kNumDTypes] = {"FloatTensor", "DoubleTensor", "LongTensor", "BoolTensor",
                                             "IntTensor",   "ByteTensor",   "CharTensor", "ShortTensor"};
  return names[static_cast<int>(t)];
}

std::string supported_dtypes() {
  std::string out;
  for (int k = 0; k < kNumDTypes; ++k) out += std::string(k ? ", " : "") + "gdcore." + dtype_name(static_cast<DType>(k));
  return out;
}

namespace {

std::optional<DType> dtype_of_array(const py::array& arr) {
  const char kind = arr.dtype().kind();
  const auto size = arr.dtype().itemsize();
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  if (kind == 'i' && size == 8) return DType::Int64;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'i' && size == 2) return DType::Int16;
  if (kind == 'i' && size == 1) return DType::Int8;
  if (kind == 'u' && size == 1) return DType::UInt8;
  if (kind == 'b' && size == 1) return DType::Bool;
  return std::nullopt;
}

// The dtype torch would infer for data converted by numpy.
DType inferred_dtype(const py::array& arr) {
  const char kind = arr.dtype().kind();
  if (kind == 'f') return DType::Float32;  // torch.tensor([1.0]) is float32 (the default dtype)
  if (kind == 'b') return DType::Bool;  // tensor([True, False]) is a bool tensor
  if (kind == 'i' || kind == 'u') return DType::Int64;
  throw py::type_error("could not convert data of numpy dtype " + std::string(py::str(arr.dtype())) +
                       " to a tensor; gdcore holds numbers and bools (" + supported_dtypes() + ")");
}

}  // namespace

Tensor from_numpy(py::array arr) {
  auto dt = dtype_of_array(arr);
  if (!dt)
    throw py::type_error("from_numpy: argument 'ndarray' has numpy dtype " + std::string(py::str(arr.dtype())) +
                         ", which is not supported; gdcore holds " + supported_dtypes() + " (convert with arr.astype(...))");
  const auto item = static_cast<py::ssize_t>(itemsize(*dt));
  Shape shape, strides;
  bool shareable = arr.dtype().byteorder() != '>';
  for (py::ssize_t d = 0; d < arr.ndim(); ++d) {
    shape.push_back(arr.shape(d));
    // The stride of a dim of size 0 or 1 is never used (numpy may leave any value there).
    const py::ssize_t st = arr.shape(d) > 1 ? arr.strides(d) : 0;
    if (st < 0 || st % item != 0) shareable = false;
    strides.push_back(st / item);
  }
  if (!shareable) {
    // Negative, unaligned or byte-swapped strides cannot be expressed: copy instead (documented).
    // (np.asarray with order="C" rather than ascontiguousarray, which turns 0-d arrays into 1-d ones.)
    py::array copy = py::module_::import("numpy").attr("asarray")(arr, py::arg("dtype") = arr.dtype().attr("newbyteorder")("="),
                                                                   py::arg("order") = "C");
    return from_numpy(copy);
  }
  int64_t extent = 1;
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] == 0) extent = 0;
  if (extent)
    for (size_t d = 0; d < shape.size(); ++d) extent += (shape[d] - 1) * strides[d];
  const bool writable = arr.writeable();
  auto* keep = new py::object(arr);
  std::shared_ptr<void> owner(keep, [](py::object* o) {
    py::gil_scoped_acquire gil;
    delete o;
  });
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(const_cast<void*>(arr.data()), static_cast<size_t>(extent) * item, owner, writable);
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = *dt;
  impl->version = std::make_shared<std::atomic<uint64_t>>(0);
  return Tensor(impl);
}

py::array to_numpy(const Tensor& t) {
  if (t.requires_grad())
    throw std::runtime_error("can't call numpy() on a tensor that requires grad; use tensor.detach().numpy() instead");
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides;
  for (int64_t s : t.strides()) strides.push_back(static_cast<py::ssize_t>(s * itemsize(t.dtype())));
  py::dtype dt = GD_DISPATCH_ALL(t.dtype(), "numpy", [] { return py::dtype::of<scalar_t>(); });
  auto* keep = new std::shared_ptr<Storage>(t.impl()->storage);
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  py::array arr(dt, shape, strides, t.raw_data(), base);
  if (!t.impl()->storage->writable()) arr.attr("flags").attr("writeable") = false;
  return arr;
}

Tensor tensor_from_data(py::handle data, std::optional<DType> dtype) {
  if (py::isinstance<TensorImpl>(data)) {
    Tensor t = data.cast<Tensor>();
    return dtype ? to_dtype(t.detach(), *dtype).clone_data() : t.clone_data();
  }
  py::module_ np = py::module_::import("numpy");
  py::array arr;
  try {
    arr = np.attr("asarray")(data);
  } catch (py::error_already_set& e) {
    throw py::value_error(std::string("could not convert the data to a tensor: ") + e.what() +
                          " (nested lists must be rectangular and hold only numbers)");
  }
  if (arr.dtype().kind() == 'O' && dtype && is_floating(*dtype)) {  // e.g. ints beyond int64, asked for as floats
    try {
      arr = np.attr("asarray")(data, py::arg("dtype") = "float64");
    } catch (py::error_already_set&) {  // not numbers after all: reported below
    }
  }
  if (arr.dtype().kind() == 'O') {  // numpy holds ints beyond int64 as objects: say that, not "non-numbers"
    for (py::handle item : arr.attr("ravel")()) {
      int overflow = 0;
      if (PyLong_Check(item.ptr()) && !PyBool_Check(item.ptr()) && (as_int64(item, &overflow), overflow))
        throw py::value_error("the integer " + std::string(py::repr(item)) + " in the data does not fit in int64 "
                              "(|value| < 2**63); pass dtype=gdcore.float64 (or floats) for values this large");
    }
  }
  if (arr.dtype().kind() == 'O' || arr.dtype().kind() == 'U' || arr.dtype().kind() == 'S')
    throw py::type_error("could not convert data of type " + std::string(py::str(py::type::handle_of(data).attr("__name__"))) +
                         " to a tensor: it holds non-numbers (numpy dtype " + std::string(py::str(arr.dtype())) + ")");
  DType target;
  if (dtype) target = *dtype;
  else if (py::isinstance<py::array>(data) && dtype_of_array(arr)) target = *dtype_of_array(arr);  // keep numpy's dtype
  else target = inferred_dtype(arr);
  py::array converted = np.attr("asarray")(arr, py::arg("dtype") = dtype_name(target),
                                           py::arg("order") = "C");  // keeps 0-d data 0-d
  return from_numpy(converted).clone_data();
}

// Python numbers follow torch's rules for wrapped scalars: they take the tensor's dtype within its
// category (int8 tensor + 1 stays int8; an int too large for it wraps, as torch's cast does),
// a float with a bool or integer tensor gives float32 (the default dtype), an int with a bool
// tensor gives int64, and a bool takes the tensor's dtype.
std::optional<Tensor> operand(const Tensor& like, py::handle other) {
  if (py::isinstance<TensorImpl>(other)) return other.cast<Tensor>();
  if (PyBool_Check(other.ptr())) return scalar_tensor(other.ptr() == Py_True ? 1.0 : 0.0, like.dtype());
  if (PyLong_Check(other.ptr())) {
    if (is_floating(like.dtype())) return scalar_tensor(other.cast<double>(), like.dtype());
    int overflow = 0;  // exact, not through a double (which rounds above 2**53)
    const int64_t v = as_int64(other, &overflow);
    if (overflow)
      throw py::value_error("the integer " + std::string(py::repr(other)) + " does not fit in int64 (|value| < 2**63); "
                            "convert the tensor with .double() to compute with values this large");
    Tensor t = scalar_tensor(0.0, DType::Int64);
    *t.data<int64_t>() = v;
    if (like.dtype() == DType::Bool || like.dtype() == DType::Int64) return t;
    Tensor narrow = Tensor::empty({}, like.dtype());
    copy_into(narrow, t);
    return narrow;
  }
  if (PyFloat_Check(other.ptr())) {
    return scalar_tensor(other.cast<double>(), is_floating(like.dtype()) ? like.dtype() : DType::Float32);
  }
  if (py::isinstance<py::array>(other) || py::hasattr(other, "__array_priority__")) {
    py::array arr = py::array::ensure(other);
    if (arr && arr.ndim() == 0) {
      const char k = arr.dtype().kind();
      if (k == 'b' || k == 'i' || k == 'u' || k == 'f') return operand(like, arr.attr("item")());  // as Python numbers
    }
    if (arr) return tensor_from_data(other, std::nullopt);
  }
  return std::nullopt;
}

Shape shape_from_args(const py::args& args, const char* name) {
  py::sequence seq = args;
  if (args.size() == 1 && !PyLong_Check(args[0].ptr()) && py::isinstance<py::sequence>(args[0])) seq = args[0];
  Shape shape;
  for (py::handle h : seq) {
    if (!PyLong_Check(h.ptr()) && !py::hasattr(h, "__index__"))
      throw py::type_error(std::string(name) + ": sizes must be integers, got " + std::string(py::repr(h)));
    shape.push_back(as_index(h));
  }
  return shape;
}

std::vector<int64_t> dims_from(py::handle dim) {
  if (dim.is_none()) return {};
  if (PyIndex_Check(dim.ptr())) return {as_index(dim)};  // Python and numpy ints
  if (!py::isinstance<py::sequence>(dim))
    throw py::type_error("dim must be an int, a tuple of ints or None, got " + std::string(py::repr(dim)));
  std::vector<int64_t> dims;
  for (py::handle h : dim) {
    if (!PyIndex_Check(h.ptr()))
      throw py::type_error("dim must be an int, a tuple of ints or None, got " + std::string(py::repr(dim)));
    dims.push_back(as_index(h));
  }
  if (dims.empty()) throw py::value_error("an empty tuple of dims is ambiguous; pass dim=None to reduce over all dims");
  return dims;
}

namespace {
IndexItem index_item(py::handle h) {
  IndexItem it;
  if (h.is_none()) {
    it.kind = IndexItem::NewAxis;
  } else if (h.ptr() == Py_Ellipsis) {
    it.kind = IndexItem::Ellipsis;
  } else if (PySlice_Check(h.ptr())) {
    it.kind = IndexItem::Slice;
    py::object start = h.attr("start"), stop = h.attr("stop"), step = h.attr("step");
    if (!start.is_none()) it.start = slice_bound(start);
    if (!stop.is_none()) it.stop = slice_bound(stop);
    if (!step.is_none()) it.step = slice_bound(step);
  } else if (PyBool_Check(h.ptr())) {  // x[True] adds a dim of size 1, x[False] one of size 0 (as torch)
    it.kind = IndexItem::Tensor_;
    it.tensor = full({}, h.ptr() == Py_True ? 1.0 : 0.0, DType::Bool);
  } else if (PyLong_Check(h.ptr())) {
    int overflow = 0;
    it.index = as_int64(h, &overflow);
    if (overflow)
      throw py::index_error("index " + std::string(py::repr(h)) + " is out of bounds (it does not even fit in int64)");
  } else if (py::isinstance<TensorImpl>(h)) {
    Tensor t = h.cast<Tensor>();
    // (While gdcore.compile captures, a 0-d index stays a tensor: its value may change between replays.
    // uint8 tensors are masks, as in torch.)
    if (t.dim() == 0 && is_integral(t.dtype()) && t.dtype() != DType::UInt8 && !capture::is_capturing()) {
      it.index = static_cast<int64_t>(t.item());
    } else {
      it.kind = IndexItem::Tensor_;
      it.tensor = t;
    }
  } else if (py::isinstance<py::list>(h) || py::isinstance<py::array>(h) || PyRange_Check(h.ptr()) ||
             py::isinstance<py::tuple>(h)) {  // (a tuple inside the key is a sequence of indices, as in torch)
    py::array arr = py::module_::import("numpy").attr("asarray")(h);
    const char kind = arr.dtype().kind();
    if (kind != 'i' && kind != 'u' && kind != 'b' && arr.size() > 0)
      throw py::index_error("index arrays must hold integers or bools, got numpy dtype " + std::string(py::str(arr.dtype())));
    it.kind = IndexItem::Tensor_;
    it.tensor = tensor_from_data(arr, kind == 'b' ? DType::Bool : DType::Int64);  // a bool list/array is a mask
  } else if (py::hasattr(h, "__index__")) {
    it.index = as_index(h);
  } else {
    throw py::index_error("unsupported index " + std::string(py::repr(h)) +
                          "; use ints, slices, None, ..., or an int64 index tensor/list");
  }
  return it;
}
}  // namespace

std::vector<IndexItem> index_items(py::handle key) {
  std::vector<IndexItem> items;
  if (py::isinstance<py::tuple>(key)) {
    for (py::handle h : key) items.push_back(index_item(h));
  } else {
    items.push_back(index_item(key));
  }
  return items;
}

}  // namespace gdcore::bind
