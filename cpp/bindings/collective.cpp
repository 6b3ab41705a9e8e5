// The collectives the core runs (gdcore/collective.hpp), built from what mpi4py's process has
// loaded. Two ways, chosen by python/gdcore/distributed/native.py:
//  - direct: the address of MPI_Allreduce / MPI_Bcast in the MPI library mpi4py loaded, with the
//    communicator's, datatypes' and op's handles (mpi4py's MPI._handleof). The call needs no GIL
//    and no Python, so a lowered replay stays a plain list of C calls. MPI's C ABI differs by
//    implementation only in the handles' type: pointers (Open MPI) or ints (MPICH and its
//    derivatives), so both signatures are here and mpi4py says which size applies.
//  - through Python: a callable that takes a numpy view of the memory (mpi4py's comm.Allreduce
//    on it), called with the GIL taken for that call only (as a custom Function's backward is).
// No MPI header is included: the core and this module never link MPI.
#include <climits>

#include "gdcore/collective.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {

template <typename Handle>
using AllreduceFn = int (*)(const void* send, void* recv, int count, Handle datatype, Handle op, Handle comm);
template <typename Handle>
using BcastFn = int (*)(void* buffer, int count, Handle datatype, int root, Handle comm);

[[noreturn]] void mpi_failed(const char* call, int code) {
  throw std::runtime_error(std::string(call) + " failed with MPI error code " + std::to_string(code) +
                           " (mpi4py.MPI.Get_error_string(" + std::to_string(code) + ") says what it means)");
}

// Element counts are C ints in MPI: larger buffers go in chunks of at most INT_MAX elements.
template <typename F>
void in_chunks(int64_t count, F call) {
  for (int64_t at = 0; at < count; at += INT_MAX) call(at, static_cast<int>(std::min<int64_t>(INT_MAX, count - at)));
}

template <typename Handle>
Collective mpi_all_reduce_sum(uintptr_t function, uintptr_t comm, uintptr_t in_place, uintptr_t float32,
                              uintptr_t float64, uintptr_t sum) {
  auto fn = reinterpret_cast<AllreduceFn<Handle>>(function);
  const auto c = static_cast<Handle>(comm), op = static_cast<Handle>(sum);
  const auto f32 = static_cast<Handle>(float32), f64 = static_cast<Handle>(float64);
  const void* in_place_marker = reinterpret_cast<const void*>(in_place);
  return {"all_reduce", [=](void* data, int64_t count, DType dtype) {
            if (dtype != DType::Float32 && dtype != DType::Float64)
              throw std::invalid_argument(std::string("all_reduce: a gradient bucket must be float32 or float64, got ") +
                                          dtype_name(dtype));
            const size_t size = itemsize(dtype);
            in_chunks(count, [&](int64_t at, int n) {
              const int rc = fn(in_place_marker, static_cast<char*>(data) + at * size, n,
                                dtype == DType::Float64 ? f64 : f32, op, c);
              if (rc != 0) mpi_failed("MPI_Allreduce", rc);
            });
          }};
}

template <typename Handle>
Collective mpi_broadcast(uintptr_t function, uintptr_t comm, uintptr_t byte, int root) {
  auto fn = reinterpret_cast<BcastFn<Handle>>(function);
  const auto c = static_cast<Handle>(comm), bytes = static_cast<Handle>(byte);
  return {"broadcast", [=](void* data, int64_t count, DType dtype) {  // any dtype: its bytes
            in_chunks(count * static_cast<int64_t>(itemsize(dtype)), [&](int64_t at, int n) {
              const int rc = fn(static_cast<char*>(data) + at, n, bytes, root, c);
              if (rc != 0) mpi_failed("MPI_Bcast", rc);
            });
          }};
}

void check_handle_size(int handle_size) {
  if (handle_size != 4 && handle_size != 8)
    throw std::invalid_argument("MPI handles of " + std::to_string(handle_size) +
                                " bytes are not supported (only 4, MPICH's ints, or 8, Open MPI's pointers)");
}

// A Python object held by a collective that may be released without the GIL (a lowered replay's steps).
struct PyCallable {
  py::object fn;
  explicit PyCallable(py::object f) : fn(std::move(f)) {}
  ~PyCallable() {
    if (!Py_IsInitialized()) {
      fn.release();
      return;
    }
    py::gil_scoped_acquire gil;
    fn = py::object();
  }
};

}  // namespace

void bind_collective(py::module_& m) {
  using py::arg;
  py::class_<Collective, std::shared_ptr<Collective>>(
      m, "_Collective", "An in-place collective the core runs on a tensor's memory (gdcore.distributed).")
      .def_property_readonly("name", [](const Collective& c) { return c.name; })
      .def_property_readonly("closed", [](const Collective& c) { return c.closed->load(); })
      .def("close", [](const Collective& c) { c.closed->store(true); },
           "Makes every later run raise (the communicator is gone), including runs inside captured programs.");

  m.def("_mpi_all_reduce_sum",
        [](uintptr_t function, uintptr_t comm, uintptr_t in_place, uintptr_t float32, uintptr_t float64,
           uintptr_t sum, int handle_size) {
          check_handle_size(handle_size);
          return std::make_shared<Collective>(
              handle_size == 8 ? mpi_all_reduce_sum<uintptr_t>(function, comm, in_place, float32, float64, sum)
                               : mpi_all_reduce_sum<int>(function, comm, in_place, float32, float64, sum));
        },
        arg("function"), arg("comm"), arg("in_place"), arg("float32"), arg("float64"), arg("sum"), arg("handle_size"),
        "An in-place sum over the communicator by a direct call of MPI_Allreduce at address `function`, with the "
        "given handles (mpi4py's MPI._handleof) and MPI_IN_PLACE's value.");
  m.def("_mpi_broadcast",
        [](uintptr_t function, uintptr_t comm, uintptr_t byte, int root, int handle_size) {
          check_handle_size(handle_size);
          return std::make_shared<Collective>(handle_size == 8 ? mpi_broadcast<uintptr_t>(function, comm, byte, root)
                                                               : mpi_broadcast<int>(function, comm, byte, root));
        },
        arg("function"), arg("comm"), arg("byte"), arg("root"), arg("handle_size"),
        "Rank `root`'s bytes to every rank, by a direct call of MPI_Bcast at address `function`.");
  m.def("_python_collective",
        [](const std::string& name, py::object fn) {
          auto callable = std::make_shared<PyCallable>(std::move(fn));
          return std::make_shared<Collective>(Collective{name, [callable](void* data, int64_t count, DType dtype) {
            py::gil_scoped_acquire gil;
            py::capsule no_owner(data, [](void*) {});  // a view: the tensor owns the memory
            py::array view(py::dtype(dtype_name(dtype)), {count}, {static_cast<int64_t>(itemsize(dtype))}, data,
                           no_owner);
            callable->fn(view);
          }});
        },
        arg("name"), arg("fn"),
        "A collective that calls fn(array) with the GIL held, `array` a numpy view of the tensor's memory that fn "
        "changes in place (e.g. comm.Allreduce(MPI.IN_PLACE, array)).");
  m.def("_collective_",
        [](const Tensor& t, const std::shared_ptr<Collective>& c, int64_t divisor) { collective_(t, c, divisor); },
        arg("tensor"), arg("collective"), arg("divisor") = 1, py::call_guard<py::gil_scoped_release>(),
        "Runs `collective` on the tensor's memory in place, then divides by `divisor` when > 1; recorded by "
        "gdcore.compile as one step of the captured program.");
}

}  // namespace gdcore::bind
