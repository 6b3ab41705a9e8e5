// The extension module gdcore._core: registers the bound types and functions and
// maps core exceptions to Python ones (the standard mapping of pybind11:
// invalid_argument/length_error -> ValueError, out_of_range -> IndexError,
// bad_alloc -> MemoryError, runtime_error -> RuntimeError).
#include "tensor_caster.hpp"

namespace py = pybind11;

namespace gdcore::bind {
// (declared here, not in tensor_caster.hpp, which every binding file includes)
void bind_grad_hooks(py::module_& m);  // Tensor.register_hook, RemovableHandle (grad_hooks.cpp)
}  // namespace gdcore::bind

PYBIND11_MODULE(_core, m) {
  m.doc() = "gdcore's C++ core: tensors, the autograd tape, ops and kernels";
  // A failed allocation inside a std:: container says only "std::bad_alloc": say what happened and what to do.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::bad_alloc& e) {
      const std::string what = e.what();
      PyErr_SetString(PyExc_MemoryError, what != "std::bad_alloc" ? what.c_str()
                      : "out of memory: an allocation failed (std::bad_alloc); use smaller tensors (or smaller batches)");
    }
  });
  py::enum_<gdcore::DType>(m, "dtype")
      .value("float32", gdcore::DType::Float32)
      .value("float64", gdcore::DType::Float64)
      .value("int64", gdcore::DType::Int64)
      .value("bool", gdcore::DType::Bool)
      .value("int32", gdcore::DType::Int32)
      .value("uint8", gdcore::DType::UInt8)
      .value("int8", gdcore::DType::Int8)
      .value("int16", gdcore::DType::Int16)
      .def("__repr__", [](gdcore::DType d) { return std::string("gdcore.") + gdcore::dtype_name(d); })
      .def("__str__", [](gdcore::DType d) { return std::string("gdcore.") + gdcore::dtype_name(d); })
      .def_property_readonly("is_floating_point", [](gdcore::DType d) { return gdcore::is_floating(d); })
      .def_property_readonly("itemsize", [](gdcore::DType d) { return gdcore::itemsize(d); });
  // Autograd first: Tensor.grad_fn's signature names the Node type, which must exist by then.
  gdcore::bind::bind_autograd(m);
  gdcore::bind::bind_tensor(m);
  gdcore::bind::bind_functions(m);
  gdcore::bind::bind_bool_ops(m);
  gdcore::bind::bind_dlpack(m);
  gdcore::bind::bind_value(m);
  gdcore::bind::bind_optim(m);
  gdcore::bind::bind_nn(m);
  gdcore::bind::bind_data(m);
  gdcore::bind::bind_simd(m);
  gdcore::bind::bind_capture(m);
  gdcore::bind::bind_indexing(m);
  gdcore::bind::bind_math(m);
  gdcore::bind::bind_function(m);
  gdcore::bind::bind_collective(m);
  gdcore::bind::bind_pointwise(m);
  gdcore::bind::bind_grad_hooks(m);
  // Keep last: it covers every function registered above (see argument_errors.cpp).
  gdcore::bind::install_argument_errors(m);
  // After it on purpose: CompiledStep.__call__ passes on the step's own exceptions unchanged (a TypeError
  // the step raises must not be renamed after the call).
  gdcore::bind::bind_compiled_call(m);
}
