// pybind11 glue shared by the binding files: Python sees gdcore::TensorImpl (held by
// shared_ptr) as `Tensor`, so the same C++ tensor always maps to the same Python
// object; this caster lets bound functions take and return gdcore::Tensor directly.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "gdcore/autograd.hpp"
#include "gdcore/capture.hpp"
#include "gdcore/ops.hpp"
#include "gdcore/rng.hpp"

namespace pybind11::detail {
template <>
struct type_caster<gdcore::Tensor> {
  PYBIND11_TYPE_CASTER(gdcore::Tensor, const_name("Tensor"));
  bool load(handle src, bool convert) {
    if (src.is_none()) return false;
    make_caster<std::shared_ptr<gdcore::TensorImpl>> holder;
    if (!holder.load(src, convert)) return false;
    value = gdcore::Tensor(cast_op<std::shared_ptr<gdcore::TensorImpl>>(holder));
    return true;
  }
  static handle cast(const gdcore::Tensor& t, return_value_policy, handle parent) {
    if (!t.defined()) return none().release();
    gdcore::capture::on_returned(t);  // gdcore.compile: marks tensors no captured entry produced
    return make_caster<std::shared_ptr<gdcore::TensorImpl>>::cast(t.impl(), return_value_policy::take_ownership, parent);
  }
};

// Shapes come from any sequence of ints (as std::vector<int64_t> would) and go to Python as a list.
template <>
struct type_caster<gdcore::Shape> {
  PYBIND11_TYPE_CASTER(gdcore::Shape, io_name("collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]",
                                              "list[int]"));
  bool load(handle src, bool convert) {
    make_caster<std::vector<int64_t>> sizes;
    if (!sizes.load(src, convert)) return false;
    value = gdcore::Shape(cast_op<std::vector<int64_t>&>(sizes));
    return true;
  }
  static handle cast(const gdcore::Shape& s, return_value_policy policy, handle parent) {
    return make_caster<std::vector<int64_t>>::cast(std::vector<int64_t>(s.begin(), s.end()), policy, parent);
  }
};
}  // namespace pybind11::detail

namespace gdcore::bind {
namespace py = pybind11;

// dtype from a gdcore dtype, a numpy dtype (or anything np.dtype accepts), a name or a legacy
// type name ("torch.FloatTensor").
DType dtype_from(py::handle h);
const char* tensor_type_name(DType t);  // "FloatTensor", ...
std::string supported_dtypes();         // "gdcore.float32, gdcore.float64, ..." for error messages
// A Python number, list, numpy array or Tensor as a tensor (copies; dtype as torch infers it).
Tensor tensor_from_data(py::handle data, std::optional<DType> dtype);
// numpy array -> tensor sharing memory where the layout allows.
Tensor from_numpy(py::array arr);
py::array to_numpy(const Tensor& t);
// `other` as an operand for a binary op with `like` (Python numbers take like's dtype).
std::optional<Tensor> operand(const Tensor& like, py::handle other);
Shape shape_from_args(const py::args& args, const char* name);
std::vector<int64_t> dims_from(py::handle dim);
std::vector<IndexItem> index_items(py::handle key);

void bind_tensor(py::module_& m);
void bind_functions(py::module_& m);
void bind_autograd(py::module_& m);
void bind_value(py::module_& m);
void bind_optim(py::module_& m);
void bind_nn(py::module_& m);
void bind_data(py::module_& m);
void bind_simd(py::module_& m);
void bind_capture(py::module_& m);
void bind_compiled_call(py::module_& m);  // compiled_call.cpp
void bind_bool_ops(py::module_& m);  // comparisons, logical ops, where, masked_fill, ... (bool_ops.cpp)
void bind_dlpack(py::module_& m);    // __dlpack__, __dlpack_device__, from_dlpack (dlpack.cpp)
void bind_indexing(py::module_& m);  // gather/scatter, index_put, sort/topk/unique (indexing_ops.cpp)
void bind_math(py::module_& m);
void bind_function(py::module_& m);
void bind_collective(py::module_& m);  // collectives for gdcore.distributed (collective.cpp)
void bind_pointwise(py::module_& m);   // remainder, fmod, floor_divide, asin, atan2, ... (pointwise_ops.cpp)
// Runs the post-backward hook (autograd.cpp), if one is set; called with the GIL held.
void run_post_backward_hook();
// Last: rewrites pybind11's "incompatible function arguments" errors of every function bound above.
void install_argument_errors(py::module_& m);

}  // namespace gdcore::bind
