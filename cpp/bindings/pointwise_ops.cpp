// Bindings of gdcore/ops_pointwise.hpp: remainder, fmod, floor_divide and the inverse
// trigonometric functions. Either operand of a binary op may be a Python number (it takes
// the other operand's kind, as in torch); gdcore/pointwise.py adds the aliases, the
// operators (% //) and the Tensor methods.
#include "gdcore/ops_pointwise.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {

using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);

Tensor with_numbers(py::handle input, py::handle other, const char* name, BinaryFn fn) {
  const bool a_tensor = py::isinstance<TensorImpl>(input), b_tensor = py::isinstance<TensorImpl>(other);
  if (a_tensor) {
    std::optional<Tensor> b = operand(input.cast<Tensor>(), other);
    if (!b) throw py::type_error(std::string(name) + "(): argument 'other' must be a Tensor or a number, got " +
                                 std::string(py::str(py::type::of(other).attr("__name__"))));
    return fn(input.cast<Tensor>(), *b);
  }
  if (b_tensor) {
    std::optional<Tensor> a = operand(other.cast<Tensor>(), input);
    if (!a) throw py::type_error(std::string(name) + "(): argument 'input' must be a Tensor or a number, got " +
                                 std::string(py::str(py::type::of(input).attr("__name__"))));
    return fn(*a, other.cast<Tensor>());
  }
  throw py::type_error(std::string(name) + "(): at least one of 'input' and 'other' must be a Tensor, got " +
                       std::string(py::str(py::type::of(input).attr("__name__"))) + " and " +
                       std::string(py::str(py::type::of(other).attr("__name__"))));
}

}  // namespace

void bind_pointwise(py::module_& m) {
  for (auto [name, fn] : std::initializer_list<std::pair<const char*, BinaryFn>>{
           {"remainder", &remainder}, {"fmod", &fmod}, {"floor_divide", &floor_divide}, {"atan2", &atan2},
           {"hypot", &hypot}})
    m.def(name, [name, fn](py::handle input, py::handle other) { return with_numbers(input, other, name, fn); },
          py::arg("input"), py::arg("other"));
  for (auto [name, fn] : std::initializer_list<std::pair<const char*, Tensor (*)(const Tensor&)>>{
           {"asin", &asin}, {"acos", &acos}, {"atan", &atan}, {"asinh", &asinh}, {"acosh", &acosh},
           {"atanh", &atanh}, {"exp2", &exp2}})
    m.def(name, fn, py::arg("input"));
  m.def("_searchsorted", &searchsorted, py::arg("sorted_sequence"), py::arg("values"), py::arg("right"),
        py::arg("out_int32"));
}

}  // namespace gdcore::bind
