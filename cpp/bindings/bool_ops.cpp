// Bindings of the ops with bool results and their relatives: comparison operators and
// functions, logical and bitwise ops (& | ^ ~), any/all, isnan/isinf/isfinite, where,
// masked_fill, clamp_min/clamp_max, sign, count_nonzero and nonzero, as Tensor methods
// and as gdcore functions. Python numbers may stand on either side, as in torch.
#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {

using BinaryOp = Tensor (*)(const Tensor&, const Tensor&);
using UnaryOp = Tensor (*)(const Tensor&);

// a OP b (or b OP a when reflected); NotImplemented lets Python try the other operand's method.
py::object binary(const Tensor& a, py::handle b, BinaryOp op, bool reflected) {
  std::optional<Tensor> other = operand(a, b);
  if (!other) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  return py::cast(reflected ? op(*other, a) : op(a, *other));
}

// For gdcore.eq(a, b) and friends: either argument may be a number, one must be a tensor.
std::pair<Tensor, Tensor> tensor_pair(py::handle a, py::handle b, const char* name) {
  if (py::isinstance<TensorImpl>(a)) {
    Tensor ta = a.cast<Tensor>();
    std::optional<Tensor> tb = operand(ta, b);
    if (!tb)
      throw py::type_error(std::string(name) + "(): argument 'other' must be a Tensor or a number, got " + std::string(py::repr(b)));
    return {ta, *tb};
  }
  if (!py::isinstance<TensorImpl>(b))
    throw py::type_error(std::string(name) + "(): argument 'input' or 'other' must be a Tensor, got " + std::string(py::repr(a)) +
                         " and " + std::string(py::repr(b)));
  Tensor tb = b.cast<Tensor>();
  std::optional<Tensor> ta = operand(tb, a);
  if (!ta)
    throw py::type_error(std::string(name) + "(): argument 'input' must be a Tensor or a number, got " + std::string(py::repr(a)));
  return {*ta, tb};
}

// where's value arguments: tensors, or numbers that take the other argument's dtype (two numbers
// give the dtypes torch infers for them: float32, int64 or bool).
std::pair<Tensor, Tensor> where_values(py::handle x, py::handle y) {
  const bool xt = py::isinstance<TensorImpl>(x), yt = py::isinstance<TensorImpl>(y);
  if (!xt && !yt) return {tensor_from_data(x, std::nullopt), tensor_from_data(y, std::nullopt)};
  return tensor_pair(x, y, "where");
}

Tensor fill_value(const Tensor& self, py::handle value) {
  std::optional<Tensor> v = operand(self, value);
  if (!v) throw py::type_error("masked_fill(): argument 'value' must be a number or a 0-d Tensor, got " + std::string(py::repr(value)));
  return *v;
}

py::object nonzero_result(const Tensor& t, bool as_tuple) {
  Tensor idx = nonzero(t);
  if (!as_tuple) return py::cast(idx);
  // One 1-d index tensor per dim (a 0-d input counts as 1-d, as torch does).
  const int64_t nd = std::max<int64_t>(t.dim(), 1);
  if (t.dim() == 0) idx = reshape(nonzero(reshape(t.detach(), {1})), {-1, 1});
  py::tuple out(nd);
  for (int64_t d = 0; d < nd; ++d) {
    IndexItem all, col;
    all.kind = IndexItem::Slice;
    col.index = d;
    out[d] = py::cast(contiguous(index(idx, {all, col})));
  }
  return out;
}

Tensor clamp_bound(const Tensor& a, py::handle bound, bool is_min) {
  const char* name = is_min ? "clamp_min" : "clamp_max";
  // A number bound on a float tensor: clamp's own loop (and rule). Otherwise `where`, which keeps
  // an integer tensor's dtype and takes tensor bounds (with gradients to both sides).
  if ((PyFloat_Check(bound.ptr()) || PyLong_Check(bound.ptr())) && !PyBool_Check(bound.ptr()) && is_floating(a.dtype())) {
    const double v = bound.cast<double>();
    return is_min ? clamp(a, v, std::nullopt) : clamp(a, std::nullopt, v);
  }
  std::optional<Tensor> b = operand(a, bound);
  if (!b)
    throw py::type_error(std::string(name) + "(): argument '" + (is_min ? "min" : "max") + "' must be a Tensor or a number, got " +
                         std::string(py::repr(bound)));
  return is_min ? clamp_min(a, *b) : clamp_max(a, *b);
}

// The result of an in-place `self OP= other` written back into self (a &= b, a |= b, a ^= b).
void assign_inplace(const Tensor& self, const Tensor& result, const char* name) {
  if (result.dtype() != self.dtype())
    throw std::runtime_error(std::string(name) + ": result type " + dtype_name(result.dtype()) + " can't be cast to the "
                             "desired output type " + dtype_name(self.dtype()));
  copy_(self, result);
}

using TensorClass = py::class_<TensorImpl, std::shared_ptr<TensorImpl>>;

// `name` as a Tensor method (other) and a gdcore function (input, other); either side may be a Python number.
void def_binary(TensorClass& cls, py::module_& m, const char* name, BinaryOp op) {
  cls.def(name, [op, name](const Tensor& a, py::handle b) {
    auto [x, y] = tensor_pair(py::cast(a), b, name);
    return op(x, y);
  }, py::arg("other"));
  m.def(name, [op, name](py::handle a, py::handle b) {
    auto [x, y] = tensor_pair(a, b, name);
    return op(x, y);
  }, py::arg("input"), py::arg("other"));
}

}  // namespace

void bind_bool_ops(py::module_& m) {
  auto cls = py::reinterpret_borrow<TensorClass>(m.attr("Tensor"));

  // Identity hash (tensors stay usable as dict keys, as in torch), defined before __eq__:
  // a class whose __eq__ is bound without one gets __hash__ = None.
  cls.def("__hash__", [](py::handle self) { return py::int_(reinterpret_cast<std::uintptr_t>(self.ptr()) >> 4); });

  struct Named {
    const char* dunder;
    const char* name;
    BinaryOp op;
  };
  for (Named c : {Named{"__eq__", "eq", &eq}, Named{"__ne__", "ne", &ne}, Named{"__lt__", "lt", &lt},
                  Named{"__le__", "le", &le}, Named{"__gt__", "gt", &gt}, Named{"__ge__", "ge", &ge}}) {
    BinaryOp op = c.op;
    cls.def(c.dunder, [op](const Tensor& a, py::handle b) { return binary(a, b, op, false); }, py::is_operator());
    def_binary(cls, m, c.name, op);
  }

  // & | ^ on bool and integer tensors (bitwise; logical on bools), with their reflected forms.
  for (Named c : {Named{"__and__", "bitwise_and", &bitwise_and}, Named{"__or__", "bitwise_or", &bitwise_or},
                  Named{"__xor__", "bitwise_xor", &bitwise_xor}}) {
    BinaryOp op = c.op;
    const std::string reflected = std::string("__r") + (c.dunder + 2);
    const std::string inplace = std::string("__i") + (c.dunder + 2);
    cls.def(c.dunder, [op](const Tensor& a, py::handle b) { return binary(a, b, op, false); }, py::is_operator());
    cls.def(reflected.c_str(), [op](const Tensor& a, py::handle b) { return binary(a, b, op, true); }, py::is_operator());
    cls.def(inplace.c_str(), [op, name = c.name](const Tensor& a, py::handle b) {
      std::optional<Tensor> o = operand(a, b);
      if (!o) throw py::type_error(std::string(name) + "_(): argument 'other' must be a Tensor or a number, got " + std::string(py::repr(b)));
      assign_inplace(a, op(a, *o), name);
      return a;
    }, py::is_operator());
    def_binary(cls, m, c.name, op);
  }
  cls.def("__invert__", &bitwise_not).def("bitwise_not", &bitwise_not);
  m.def("bitwise_not", &bitwise_not, py::arg("input"));

  for (Named c : {Named{"", "logical_and", &logical_and}, Named{"", "logical_or", &logical_or},
                  Named{"", "logical_xor", &logical_xor}})
    def_binary(cls, m, c.name, c.op);

  for (auto [name, fn] : std::initializer_list<std::pair<const char*, UnaryOp>>{
           {"logical_not", &logical_not}, {"isnan", &isnan}, {"isinf", &isinf}, {"isfinite", &isfinite}, {"sign", &sign}}) {
    cls.def(name, fn);
    m.def(name, fn, py::arg("input"));
  }

  // any / all over everything or `dim` (an int or a tuple of ints).
  for (auto [name, fn] : std::initializer_list<std::pair<const char*, Tensor (*)(const Tensor&, const std::vector<int64_t>&, bool)>>{
           {"any", &any}, {"all", &all}}) {
    cls.def(name, [fn](const Tensor& t, py::object dim, bool keepdim) { return fn(t, dims_from(dim), keepdim); },
            py::arg("dim") = py::none(), py::arg("keepdim") = false);
    m.def(name, [fn](const Tensor& t, py::object dim, bool keepdim) { return fn(t, dims_from(dim), keepdim); },
          py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false);
  }
  auto count = [](const Tensor& t, py::object dim) { return count_nonzero(t, dims_from(dim)); };
  cls.def("count_nonzero", count, py::arg("dim") = py::none());
  m.def("count_nonzero", count, py::arg("input"), py::arg("dim") = py::none());
  cls.def("nonzero", &nonzero_result, py::kw_only(), py::arg("as_tuple") = false);
  m.def("nonzero", &nonzero_result, py::arg("input"), py::kw_only(), py::arg("as_tuple") = false);

  // where(cond, x, y); where(cond) alone is nonzero(cond, as_tuple=True), as in torch.
  m.def("where", [](const Tensor& cond, py::object x, py::object y) -> py::object {
    if (x.is_none() && y.is_none()) return nonzero_result(cond, true);
    if (x.is_none() || y.is_none()) throw py::type_error("where: give both x and y, or neither (then it is nonzero(cond, as_tuple=True))");
    auto [tx, ty] = where_values(x, y);
    return py::cast(where(cond, tx, ty));
  }, py::arg("condition"), py::arg("input") = py::none(), py::arg("other") = py::none());
  cls.def("where", [](const Tensor& self, const Tensor& cond, py::handle y) {
    auto [tx, ty] = tensor_pair(py::cast(self), y, "where");
    return where(cond, tx, ty);
  }, py::arg("condition"), py::arg("other"));

  auto fill = [](const Tensor& self, const Tensor& mask, py::handle value) { return masked_fill(self, mask, fill_value(self, value)); };
  cls.def("masked_fill", fill, py::arg("mask"), py::arg("value"));
  m.def("masked_fill", fill, py::arg("input"), py::arg("mask"), py::arg("value"));
  cls.def("masked_fill_", [](const Tensor& self, const Tensor& mask, py::handle value) {
    Shape b = broadcast_shapes(self.shape(), mask.shape(), "masked_fill_");
    if (b != self.shape())
      throw py::value_error("masked_fill_: the mask of shape " + shape_str(mask.shape()) +
                            " cannot be broadcast to the shape of the tensor filled in place, " + shape_str(self.shape()));
    copy_(self, masked_fill(self, mask, fill_value(self, value)));
    return self;
  }, py::arg("mask"), py::arg("value"));

  for (bool is_min : {true, false}) {
    const char* name = is_min ? "clamp_min" : "clamp_max";
    cls.def(name, [is_min](const Tensor& a, py::handle b) { return clamp_bound(a, b, is_min); }, py::arg(is_min ? "min" : "max"));
    m.def(name, [is_min](const Tensor& a, py::handle b) { return clamp_bound(a, b, is_min); }, py::arg("input"),
          py::arg(is_min ? "min" : "max"));
  }
}

}  // namespace gdcore::bind
