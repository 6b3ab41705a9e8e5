// gdcore.Value: the scalar teaching API in micrograd's style. A Value wraps a 0-d
// float64 tensor, so its ops are recorded on the same tape as every other op.
#include <cmath>

#include "gdcore/grad_mode.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {

struct Value {
  Tensor t;
  std::string label;
};

Tensor leaf_scalar(double v) {
  Tensor t = scalar_tensor(v, DType::Float64);
  t.set_requires_grad(true);
  return t;
}

Tensor as_scalar(py::handle h) {
  if (py::isinstance<Value>(h)) return h.cast<Value&>().t;
  if (PyFloat_Check(h.ptr()) || PyLong_Check(h.ptr())) return scalar_tensor(h.cast<double>(), DType::Float64);
  throw py::type_error("Value: expected a Value or a number, got " + std::string(py::repr(h)));
}

// Every Value keeps its gradient after backward, as micrograd's do.
Value wrap(Tensor t) {
  if (t.grad_fn()) t.grad_fn()->retained_output = t.impl();
  return Value{std::move(t), ""};
}

}  // namespace

void bind_value(py::module_& m) {
  py::class_<Value>(m, "Value", "A scalar with a gradient, as micrograd's Value; recorded on gdcore's tape.")
      .def(py::init([](double data, std::string label) { return Value{leaf_scalar(data), std::move(label)}; }),
           py::arg("data"), py::arg("label") = "")
      .def_property("data", [](const Value& v) { return v.t.item(); },
                    [](Value& v, double x) {
                      if (!v.t.is_leaf()) {
                        // Assigning to a computed Value makes it a fresh leaf holding x.
                        v.t = leaf_scalar(x);
                        return;
                      }
                      *v.t.data<double>() = x;
                      v.t.bump_version();
                    })
      .def_property("grad", [](const Value& v) { return v.t.grad().defined() ? v.t.grad().item() : 0.0; },
                    [](Value& v, double g) { v.t.set_grad(g == 0.0 ? Tensor() : scalar_tensor(g, DType::Float64)); })
      .def_readwrite("label", &Value::label)
      .def_property_readonly("tensor", [](const Value& v) { return v.t; })
      .def("__add__", [](const Value& a, py::handle b) { return wrap(add(a.t, as_scalar(b))); }, py::is_operator())
      .def("__radd__", [](const Value& a, py::handle b) { return wrap(add(as_scalar(b), a.t)); }, py::is_operator())
      .def("__sub__", [](const Value& a, py::handle b) { return wrap(sub(a.t, as_scalar(b))); }, py::is_operator())
      .def("__rsub__", [](const Value& a, py::handle b) { return wrap(sub(as_scalar(b), a.t)); }, py::is_operator())
      .def("__mul__", [](const Value& a, py::handle b) { return wrap(mul(a.t, as_scalar(b))); }, py::is_operator())
      .def("__rmul__", [](const Value& a, py::handle b) { return wrap(mul(as_scalar(b), a.t)); }, py::is_operator())
      .def("__truediv__", [](const Value& a, py::handle b) { return wrap(div(a.t, as_scalar(b))); }, py::is_operator())
      .def("__rtruediv__", [](const Value& a, py::handle b) { return wrap(div(as_scalar(b), a.t)); }, py::is_operator())
      .def("__pow__", [](const Value& a, py::handle b) {
        if (!PyFloat_Check(b.ptr()) && !PyLong_Check(b.ptr()))
          throw py::type_error("Value ** x: only int/float powers are supported, got " + std::string(py::repr(b)));
        return wrap(pow(a.t, b.cast<double>()));
      }, py::is_operator())
      .def("__neg__", [](const Value& a) { return wrap(neg(a.t)); })
      .def("relu", [](const Value& a) { return wrap(relu(a.t)); })
      .def("tanh", [](const Value& a) { return wrap(tanh(a.t)); })
      .def("exp", [](const Value& a) { return wrap(exp(a.t)); })
      .def("log", [](const Value& a) { return wrap(log(a.t)); })
      .def("sigmoid", [](const Value& a) { return wrap(sigmoid(a.t)); })
      .def("backward", [](const Value& v) { run_backward({v.t}, {Tensor()}, false, false, {}, false); })
      .def("__float__", [](const Value& v) { return v.t.item(); })
      .def("__repr__", [](const Value& v) {
        const double g = v.t.grad().defined() ? v.t.grad().item() : 0.0;
        return "Value(data=" + std::string(py::repr(py::float_(v.t.item()))) + ", grad=" + std::string(py::repr(py::float_(g))) + ")";
      });
}

}  // namespace gdcore::bind
