// Bindings of gdcore/ops_pointwise.hpp: remainder, fmod, floor_divide and the inverse
// trigonometric functions. Either operand of a binary op may be a Python number (it takes
// the other operand's kind, as in torch); gdcore/pointwise.py adds the aliases, the
// operators (% //) and the Tensor methods.
#include "gdcore/ops_pointwise.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {

using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);

// `value` as the operand of a binary op with `like`; a value that is not a number names the argument.
Tensor operand_or_raise(const Tensor& like, py::handle value, const char* name, const char* arg) {
  auto wrong = [&](const std::string& why) {
    return py::type_error(std::string(name) + "(): argument '" + arg + "' must be a Tensor or a number, got " +
                          std::string(py::str(py::type::of(value).attr("__name__"))) + why);
  };
  std::optional<Tensor> t;
  try {
    t = operand(like, value);
  } catch (const py::type_error& e) {
    throw wrong(std::string(" (") + e.what() + ")");
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_TypeError)) throw;
    throw wrong(std::string(" (") + e.what() + ")");
  }
  if (!t) throw wrong("");
  return *t;
}

Tensor with_numbers(py::handle input, py::handle other, const char* name, BinaryFn fn) {
  const bool a_tensor = py::isinstance<TensorImpl>(input), b_tensor = py::isinstance<TensorImpl>(other);
  if (a_tensor) return fn(input.cast<Tensor>(), operand_or_raise(input.cast<Tensor>(), other, name, "other"));
  if (b_tensor) return fn(operand_or_raise(other.cast<Tensor>(), input, name, "input"), other.cast<Tensor>());
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
