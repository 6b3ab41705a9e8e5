// The Tensor class as Python sees it: properties, methods and operators named as
// in torch. Each method is a thin call into the core; no math happens here.
#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {

using BinaryOp = Tensor (*)(const Tensor&, const Tensor&);

// a OP b where b may be a Python number or array; NotImplemented lets Python try the other side.
py::object binary(const Tensor& a, py::handle b, BinaryOp op, bool reflected) {
  std::optional<Tensor> other = operand(a, b);
  if (!other) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  return py::cast(reflected ? op(*other, a) : op(a, *other));
}

Tensor tensor_pow(const Tensor& a, py::handle exponent) {
  if (PyFloat_Check(exponent.ptr()) || PyLong_Check(exponent.ptr())) return pow(a, exponent.cast<double>());
  std::optional<Tensor> e = operand(a, exponent);
  if (!e) throw py::type_error("pow: exponent must be a number or a tensor, got " + std::string(py::repr(exponent)));
  return pow(a, *e);
}

py::object max_result(const Tensor& values, const Tensor& indices) {
  static py::object cls = py::module_::import("collections").attr("namedtuple")("MinMaxResult", py::make_tuple("values", "indices"));
  return cls(values, indices);
}

py::object reduce_extreme(const Tensor& t, py::object dim, bool keepdim, bool is_max) {
  if (dim.is_none()) return py::cast(is_max ? amax(t) : amin(t));
  if (py::isinstance<TensorImpl>(dim)) return py::cast(is_max ? maximum(t, dim.cast<Tensor>()) : minimum(t, dim.cast<Tensor>()));
  const int64_t d = dim.cast<int64_t>();
  auto [values, indices] = is_max ? max_dim(t, d, keepdim) : min_dim(t, d, keepdim);
  return max_result(values, indices);
}

// copy.copy/deepcopy of a graph node would cut it from its history silently; torch refuses too.
void require_leaf_for_copy(const Tensor& t, const char* what) {
  if (!t.is_leaf())
    throw std::runtime_error(std::string(what) + ": only leaf tensors (created by the user, not by an op that "
                             "records a gradient) can be copied this way; copy t.detach() instead, or t.clone() "
                             "to keep the graph");
}

// gdcore runs on one device, the CPU: "cpu" / "cpu:0" are accepted and change nothing.
bool is_device(py::handle h) {
  if (!py::isinstance<py::str>(h)) return false;
  const std::string d = h.cast<std::string>();
  if (d == "cpu" || d.rfind("cpu:", 0) == 0) return true;
  if (d == "cuda" || d.rfind("cuda:", 0) == 0 || d == "mps" || d == "meta" || d == "xpu")
    throw py::value_error("to(): device '" + d + "' is not available; gdcore runs on the CPU only, use 'cpu'");
  return false;  // maybe a dtype name such as "float64"
}

// Tensor.to(dtype) / to(device) / to(device, dtype) / to(other) / to(dtype=..., device=...), as in torch.
Tensor tensor_to(const Tensor& t, py::object first, py::object second, py::object dtype, py::object device) {
  std::optional<DType> want;
  for (py::handle h : {first, second}) {
    if (h.is_none() || is_device(h)) continue;
    want = py::isinstance<TensorImpl>(h) ? h.cast<Tensor>().dtype() : dtype_from(h);
  }
  if (!device.is_none() && !is_device(device))
    throw py::value_error("to(): unknown device " + std::string(py::repr(device)) + "; gdcore runs on the CPU only, use 'cpu'");
  if (!dtype.is_none()) want = dtype_from(dtype);
  return want ? to_dtype(t, *want) : t;
}

void inplace_binary(const Tensor& self, py::handle other, const char* name, void (*op)(const Tensor&, const Tensor&)) {
  std::optional<Tensor> o = operand(self, other);
  if (!o) throw py::type_error(std::string(name) + "(): argument 'other' must be a Tensor or a number, got " + std::string(py::repr(other)));
  op(self, *o);
}

void mul_inplace(const Tensor& s, const Tensor& o) { mul_(s, o); }
void div_inplace(const Tensor& s, const Tensor& o) { div_(s, o); }

// .shape / .size() as gdcore.Size (a tuple subclass the Python layer registers) or a plain tuple.
py::handle size_type;  // borrowed for the process's lifetime (never released at exit)
py::object size_object(const Shape& shape) {
  py::tuple t(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) t[d] = py::int_(shape[d]);
  return size_type ? size_type(t) : py::object(t);
}

Generator* generator_or_null(py::object gen) { return gen.is_none() ? nullptr : gen.cast<Generator*>(); }

// gdcore.compile: a step that switches requires_grad on a tensor does so again at each replay.
void record_requires_grad(const Tensor& t, bool flag) {
  if (capture::is_capturing())
    capture::on_inplace("requires_grad_", {t},
                        [flag](const std::vector<Tensor>& v) { Tensor(v[0]).set_requires_grad(flag); });
}

}  // namespace

void bind_tensor(py::module_& m) {
  m.def("_set_size_type", [](py::object cls) { size_type = cls.inc_ref(); }, py::arg("cls"),
        "Registers gdcore.Size, the type .shape and .size() return.");
  py::class_<TensorImpl, std::shared_ptr<TensorImpl>> cls(m, "Tensor", py::dynamic_attr());
  cls.doc() = "An n-dimensional array (float32, float64, int64, bool, int32, uint8, int8 or int16) with autograd, as torch.Tensor.";
  // Tensor(data): a copy of numbers/lists/arrays; Tensor(tensor) aliases it (as nn.Parameter(t) does).
  cls.def(py::init([](py::handle data) {
            if (py::isinstance<TensorImpl>(data)) {
              Tensor src = data.cast<Tensor>(), alias = src.detach();
              capture::on_alias(src, alias, /*is_data=*/false);  // gdcore.compile: Parameter(x) inside a step
              return alias.impl();
            }
            Tensor made = tensor_from_data(data, std::nullopt);
            capture::on_returned(made);  // gdcore.compile: made inside a step, not replayable
            return made.impl();
          }), py::arg("data"));

  // ---- layout and metadata ----
  // (gdcore.compile refuses reading the sizes of a tensor whose size depends on the values: capture::on_size_read)
  cls.def_property_readonly("shape", [](const Tensor& t) {
        capture::on_size_read(".shape", t);
        return size_object(t.shape());
      })
      .def("size", [](const Tensor& t, py::object dim) -> py::object {
            capture::on_size_read(".size()", t);
            if (dim.is_none()) return size_object(t.shape());
            return py::cast(t.size(dim.cast<int64_t>()));
          }, py::arg("dim") = py::none())
      .def("dim", [](const Tensor& t) { return t.dim(); })
      .def_property_readonly("ndim", [](const Tensor& t) { return t.dim(); })
      .def("numel", [](const Tensor& t) {
        capture::on_size_read(".numel()", t);
        return t.numel();
      })
      .def_property_readonly("dtype", [](const Tensor& t) { return t.dtype(); })
      .def("stride", [](const Tensor& t) {
        capture::on_size_read(".stride()", t);
        return py::tuple(py::cast(t.strides()));
      })
      .def("is_contiguous", [](const Tensor& t) { return t.is_contiguous(); })
      .def("is_floating_point", [](const Tensor& t) { return is_floating(t.dtype()); })
      .def("__len__", [](const Tensor& t) {
        if (t.dim() == 0) throw py::type_error("len() of a 0-d tensor");
        capture::on_size_read("len()", t);
        return t.shape()[0];
      })
      .def_property("name", [](const Tensor& t) { return t.impl()->name; },
                    [](const Tensor& t, std::string n) { t.impl()->name = std::move(n); })
      .def_property_readonly("_version", [](const Tensor& t) { return t.version(); })
      .def_property_readonly("_is_view", [](const Tensor& t) { return t.impl()->is_view; })
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()); });

  // ---- conversion ----
  cls.def("item", [](const Tensor& t) -> py::object {
        capture::on_host_read("item()", t);
        const double v = t.item();
        if (t.dtype() == DType::Bool) return py::bool_(v != 0.0);
        if (t.dtype() == DType::Int64) return py::int_(*t.data<int64_t>());  // exact beyond 2**53
        if (!is_floating(t.dtype())) return py::int_(static_cast<int64_t>(v));
        return py::float_(v);
      })
      .def("numpy", [](const Tensor& t) { capture::on_host_read("numpy()", t); return to_numpy(t); })
      .def("tolist", [](const Tensor& t) { capture::on_host_read("tolist()", t); return to_numpy(t.detach()).attr("tolist")(); })
      .def("__array__", [](const Tensor& t, py::object dtype, py::object) {
            capture::on_host_read("numpy.asarray()", t);
            py::object arr = to_numpy(t.detach());
            return dtype.is_none() ? arr : arr.attr("astype")(dtype);
          }, py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      .def("__float__", [](const Tensor& t) { capture::on_host_read("float()", t); return t.item(); })
      .def("__int__", [](const Tensor& t) {
        capture::on_host_read("int()", t);
        if (t.dtype() == DType::Int64 && t.numel() == 1) return *t.data<int64_t>();  // exact beyond 2**53
        return static_cast<int64_t>(t.item());
      })
      .def("__bool__", [](const Tensor& t) {
        if (t.numel() != 1)
          throw std::runtime_error(std::string("Boolean value of Tensor with ") + (t.numel() ? "more than one value" : "no values") +
                                   " is ambiguous; use .any() or .all() (or compare .numel())");
        capture::on_host_read("bool() (an if/while on a tensor)", t);
        return t.item() != 0.0;
      })
      .def("to", &tensor_to, py::arg("dtype_or_device") = py::none(), py::arg("dtype_") = py::none(), py::kw_only(),
           py::arg("dtype") = py::none(), py::arg("device") = py::none())
      .def("cpu", [](const Tensor& t) { return t; })
      .def("type", [](const Tensor& t, py::handle dtype) -> py::object {
            if (dtype.is_none()) return py::str(std::string("gdcore.") + tensor_type_name(t.dtype()));  // as torch's t.type()
            return py::cast(to_dtype(t, dtype_from(dtype)));
          }, py::arg("dtype") = py::none())
      .def("float", [](const Tensor& t) { return to_dtype(t, DType::Float32); })
      .def("double", [](const Tensor& t) { return to_dtype(t, DType::Float64); })
      .def("long", [](const Tensor& t) { return to_dtype(t, DType::Int64); })
      .def("bool", [](const Tensor& t) { return to_dtype(t, DType::Bool); })
      .def("int", [](const Tensor& t) { return to_dtype(t, DType::Int32); })
      .def("short", [](const Tensor& t) { return to_dtype(t, DType::Int16); })
      .def("char", [](const Tensor& t) { return to_dtype(t, DType::Int8); })
      .def("byte", [](const Tensor& t) { return to_dtype(t, DType::UInt8); });

  // ---- autograd state ----
  cls.def_property("requires_grad", [](const Tensor& t) { return t.requires_grad(); }, [](Tensor& t, bool f) {
        record_requires_grad(t, f);
        t.set_requires_grad(f);
      })
      .def("requires_grad_", [](Tensor& t, bool f) {
        record_requires_grad(t, f);
        t.set_requires_grad(f);
        return t;
      }, py::arg("requires_grad") = true)
      .def_property_readonly("is_leaf", [](const Tensor& t) { return t.is_leaf(); })
      .def_property("grad", [](const Tensor& t) {
        Tensor g = t.grad();
        capture::on_grad_read(t, g);  // gdcore.compile
        return g;
      }, [](Tensor& t, py::object value) {
        if (!value.is_none() && !py::isinstance<TensorImpl>(value))
          throw py::type_error("Tensor.grad: the assigned gradient must be a Tensor or None, got " +
                               std::string(py::str(py::type::handle_of(value).attr("__name__"))) + " " +
                               std::string(py::repr(value)));
        std::optional<Tensor> g;
        if (!value.is_none()) g = value.cast<Tensor>();
        if (g && g->shape() != t.shape())
          throw py::value_error("assigned grad has shape " + shape_str(g->shape()) + " but the tensor has shape " + shape_str(t.shape()));
        if (g && g->dtype() != t.dtype())
          throw py::type_error(std::string("assigned grad has dtype ") + dtype_name(g->dtype()) + " but the tensor has dtype " + dtype_name(t.dtype()));
        capture::on_grad_write(t, g ? *g : Tensor());
        t.set_grad(g ? *g : Tensor());
      })
      .def_property_readonly("grad_fn", [](const Tensor& t) { return t.grad_fn(); })
      .def_property("data", [](const Tensor& t) {
        Tensor d = t.data_alias();
        capture::on_alias(t, d, /*is_data=*/true);
        return d;
      }, [](Tensor& t, py::object value) {
        if (!py::isinstance<TensorImpl>(value))
          throw py::type_error("Tensor.data: the assigned data must be a Tensor, got " +
                               std::string(py::str(py::type::handle_of(value).attr("__name__"))) + " " +
                               std::string(py::repr(value)) + "; wrap numbers with gdcore.tensor(...)");
        const Tensor other = value.cast<Tensor>();
        // float32 <-> float64 is allowed (Module.double() works this way, as in torch); integer data under a
        // tensor that requires grad is not: its gradient could not exist.
        if (t.requires_grad() && !is_floating(other.dtype()))
          throw std::runtime_error(std::string("Tensor.data: data set to a tensor that requires gradients must be "
                                   "floating point, got ") + dtype_name(other.dtype()) +
                                   "; convert it with .float() or .double(), or call requires_grad_(False) first");
        const TensorImpl& o = *other.impl();
        const bool same = o.storage == t.impl()->storage && o.offset == t.impl()->offset && o.shape == t.shape() &&
                          o.strides == t.strides() && o.dtype == t.dtype();
        if (!same) capture::on_unsupported("`.data = tensor`");  // `p.data -= x` assigns p's own alias back
        TensorImpl& d = *t.impl();
        d.storage = other.impl()->storage;
        d.offset = other.impl()->offset;
        d.shape = other.shape();
        d.strides = other.strides();
        d.dtype = other.dtype();
        d.version = std::make_shared<std::atomic<uint64_t>>(0);
      })
      .def("detach", [](const Tensor& t) {
        Tensor d = t.detach();
        capture::on_alias(t, d, /*is_data=*/false);
        return d;
      })
      // copy.deepcopy / copy.copy as torch: only leaves; the copy keeps requires_grad (and, deep, a copied grad).
      .def("__deepcopy__", [](py::object self, py::dict memo) -> py::object {
        py::int_ key(reinterpret_cast<std::uintptr_t>(self.ptr()));
        if (memo.contains(key)) return memo[key];
        const Tensor t = self.cast<Tensor>();
        require_leaf_for_copy(t, "deepcopy");
        Tensor c = clone(t.detach());
        c.set_requires_grad(t.requires_grad());
        if (t.grad().defined()) c.set_grad(clone(t.grad().detach()));
        py::object out = py::cast(c);
        memo[key] = out;
        return out;
      }, py::arg("memo"))
      .def("__copy__", [](const Tensor& t) {
        require_leaf_for_copy(t, "copy");
        Tensor c = t.detach();  // shares the data, as copy.copy of a torch tensor does
        c.set_requires_grad(t.requires_grad());
        return c;
      })
      .def("detach_", [](Tensor& t) {
        if (capture::is_capturing())  // gdcore.compile: repeated on the replayed tensor
          capture::on_inplace("detach_", {t}, [](const std::vector<Tensor>& v) {
            v[0].impl()->grad_fn.reset();
            v[0].impl()->requires_grad = false;
          });
        t.impl()->grad_fn.reset();
        t.impl()->requires_grad = false;
        return t;
      })
      .def("retain_grad", [](Tensor& t) {
        if (!t.requires_grad()) throw std::runtime_error("can't retain_grad on a tensor that has requires_grad=False");
        if (t.grad_fn()) t.grad_fn()->retained_output = t.impl();
      })
      .def("backward", [](const Tensor& t, std::optional<Tensor> gradient, std::optional<bool> retain_graph, bool create_graph) {
            {
              py::gil_scoped_release release;
              run_backward({t}, {gradient ? *gradient : Tensor()}, retain_graph.value_or(create_graph), create_graph, {}, false);
            }
            run_post_backward_hook();
          }, py::arg("gradient") = py::none(), py::arg("retain_graph") = py::none(), py::arg("create_graph") = false);

  // ---- shape ----
  cls.def("reshape", [](const Tensor& t, py::args a) { return reshape(t, shape_from_args(a, "reshape")); })
      .def("view", [](const Tensor& t, py::args a) { return view(t, shape_from_args(a, "view")); })
      .def("expand", [](const Tensor& t, py::args a) { return expand(t, shape_from_args(a, "expand")); })
      .def("permute", [](const Tensor& t, py::args a) { return permute(t, shape_from_args(a, "permute")); })
      .def("flatten", &flatten, py::arg("start_dim") = 0, py::arg("end_dim") = -1)
      .def("transpose", &transpose, py::arg("dim0"), py::arg("dim1"))
      .def("t", [](const Tensor& t) {
        if (t.dim() > 2) throw py::value_error("t() expects a tensor with <= 2 dimensions, got " + std::to_string(t.dim()) + "; use transpose(dim0, dim1)");
        return t.dim() < 2 ? t : transpose(t, 0, 1);
      })
      .def_property_readonly("T", [](const Tensor& t) {
        std::vector<int64_t> dims;
        for (int64_t d = t.dim() - 1; d >= 0; --d) dims.push_back(d);
        return t.dim() < 2 ? t : permute(t, dims);
      })
      .def("squeeze", &squeeze, py::arg("dim") = py::none())
      .def("unsqueeze", &unsqueeze, py::arg("dim"))
      .def("contiguous", static_cast<Tensor (*)(const Tensor&)>(&contiguous))
      .def("clone", &clone)
      .def("__getitem__", [](const Tensor& t, py::handle key) { return index(t, index_items(key)); })
      .def("__setitem__", [](const Tensor& t, py::handle key, py::handle value) {
        std::optional<Tensor> v = operand(t, value);
        if (!v) throw py::type_error("setitem: value must be a tensor or a number, got " + std::string(py::repr(value)));
        std::vector<IndexItem> items = index_items(key);
        if (!capture::is_capturing()) return index_put_(t, items, *v);
        // gdcore.compile: one in-place entry whose operands are t, the value and the index tensors.
        std::vector<Tensor> operands{t, *v};
        for (const IndexItem& it : items)
          if (it.kind == IndexItem::Tensor_) operands.push_back(it.tensor);
        capture::on_inplace("setitem", operands, [items](const std::vector<Tensor>& x) {
          std::vector<IndexItem> replayed = items;
          size_t j = 2;
          for (IndexItem& it : replayed)
            if (it.kind == IndexItem::Tensor_) it.tensor = x[j++];
          index_put_(x[0], replayed, x[1]);
        });
        capture::PauseGuard pause;
        index_put_(t, items, *v);
      })
      .def("index_select", &index_select, py::arg("dim"), py::arg("index"))
      .def("__iter__", [](const Tensor& t) {
        if (t.dim() == 0) throw py::type_error("iteration over a 0-d tensor");
        capture::on_size_read("iter() (a for loop over its rows)", t);
        py::list rows;
        for (int64_t i = 0; i < t.shape()[0]; ++i) {
          IndexItem it;
          it.index = i;
          rows.append(index(t, {it}));
        }
        return py::iter(rows);
      });

  // ---- arithmetic operators ----
  cls.def("__add__", [](const Tensor& a, py::handle b) { return binary(a, b, static_cast<BinaryOp>(&add), false); }, py::is_operator())
      .def("__radd__", [](const Tensor& a, py::handle b) { return binary(a, b, static_cast<BinaryOp>(&add), true); }, py::is_operator())
      .def("__sub__", [](const Tensor& a, py::handle b) { return binary(a, b, &sub, false); }, py::is_operator())
      .def("__rsub__", [](const Tensor& a, py::handle b) { return binary(a, b, &sub, true); }, py::is_operator())
      .def("__mul__", [](const Tensor& a, py::handle b) { return binary(a, b, static_cast<BinaryOp>(&mul), false); }, py::is_operator())
      .def("__rmul__", [](const Tensor& a, py::handle b) { return binary(a, b, static_cast<BinaryOp>(&mul), true); }, py::is_operator())
      .def("__truediv__", [](const Tensor& a, py::handle b) { return binary(a, b, &div, false); }, py::is_operator())
      .def("__rtruediv__", [](const Tensor& a, py::handle b) { return binary(a, b, &div, true); }, py::is_operator())
      .def("__pow__", [](const Tensor& a, py::handle b) { return tensor_pow(a, b); }, py::is_operator())
      .def("__rpow__", [](const Tensor& a, py::handle b) { return binary(a, b, static_cast<BinaryOp>(&pow), true); }, py::is_operator())
      .def("__matmul__", [](const Tensor& a, const Tensor& b) { return matmul(a, b); }, py::is_operator(),
           py::call_guard<py::gil_scoped_release>())  // a long kernel that touches no Python object
      .def("__neg__", &neg)
      .def("__pos__", [](const Tensor& a) { return a; })
      .def("__abs__", &abs)
      .def("__iadd__", [](Tensor& a, py::handle b) { inplace_binary(a, b, "add_", [](const Tensor& s, const Tensor& o) { add_(s, o); }); return a; }, py::is_operator())
      .def("__isub__", [](Tensor& a, py::handle b) { inplace_binary(a, b, "sub_", [](const Tensor& s, const Tensor& o) { add_(s, o, -1.0); }); return a; }, py::is_operator())
      .def("__imul__", [](Tensor& a, py::handle b) { inplace_binary(a, b, "mul_", &mul_inplace); return a; }, py::is_operator())
      .def("__itruediv__", [](Tensor& a, py::handle b) { inplace_binary(a, b, "div_", &div_inplace); return a; }, py::is_operator());

  // ---- named ops (also module functions, see functions.cpp) ----
  cls.def("add", [](const Tensor& a, py::handle b, double alpha) {
        std::optional<Tensor> o = operand(a, b);
        if (!o) throw py::type_error("add(): argument 'other' must be a Tensor or a number, got " + std::string(py::repr(b)));
        return add(a, alpha == 1.0 ? *o : mul(*o, alpha));
      }, py::arg("other"), py::arg("alpha") = 1.0)
      .def("sub", [](const Tensor& a, py::handle b) { return binary(a, b, &sub, false); }, py::arg("other"))
      .def("mul", [](const Tensor& a, py::handle b) { return binary(a, b, static_cast<BinaryOp>(&mul), false); }, py::arg("other"))
      .def("div", [](const Tensor& a, py::handle b) { return binary(a, b, &div, false); }, py::arg("other"))
      .def("pow", [](const Tensor& a, py::handle b) { return tensor_pow(a, b); }, py::arg("exponent"))
      .def("matmul", &matmul, py::arg("other"), py::call_guard<py::gil_scoped_release>())
      .def("mm", &mm, py::arg("mat2"), py::call_guard<py::gil_scoped_release>())
      .def("bmm", &bmm, py::arg("mat2"), py::call_guard<py::gil_scoped_release>())
      .def("neg", &neg)
      .def("abs", &abs)
      .def("exp", &exp)
      .def("log", &log)
      .def("sqrt", &sqrt)
      .def("sin", &sin)
      .def("cos", &cos)
      .def("tan", &tan)
      .def("tanh", &tanh)
      .def("sinh", &sinh)
      .def("cosh", &cosh)
      .def("sigmoid", &sigmoid)
      .def("relu", &relu)
      .def("clamp", &clamp, py::arg("min") = py::none(), py::arg("max") = py::none())
      .def("maximum", &maximum, py::arg("other"))
      .def("minimum", &minimum, py::arg("other"))
      .def("sum", [](const Tensor& t, py::object dim, bool keepdim) { return sum(t, dims_from(dim), keepdim); },
           py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def("mean", [](const Tensor& t, py::object dim, bool keepdim) { return mean(t, dims_from(dim), keepdim); },
           py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def("max", [](const Tensor& t, py::object dim, bool keepdim) { return reduce_extreme(t, dim, keepdim, true); },
           py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def("min", [](const Tensor& t, py::object dim, bool keepdim) { return reduce_extreme(t, dim, keepdim, false); },
           py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def("amax", [](const Tensor& t, py::object dim, bool keepdim) { return amax(t, dims_from(dim), keepdim); },
           py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def("amin", [](const Tensor& t, py::object dim, bool keepdim) { return amin(t, dims_from(dim), keepdim); },
           py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def("argmax", [](const Tensor& t, py::object dim, bool keepdim) {
            return dim.is_none() ? argmax(reshape(t.detach(), {-1}), 0, false) : argmax(t, dim.cast<int64_t>(), keepdim);
          }, py::arg("dim") = py::none(), py::arg("keepdim") = false)
      .def("argmin", [](const Tensor& t, py::object dim, bool keepdim) {
            return dim.is_none() ? argmin(reshape(t.detach(), {-1}), 0, false) : argmin(t, dim.cast<int64_t>(), keepdim);
          }, py::arg("dim") = py::none(), py::arg("keepdim") = false);

  // ---- in place ----
  cls.def("add_", [](Tensor& t, py::handle other, double alpha) {
        std::optional<Tensor> o = operand(t, other);
        if (!o) throw py::type_error("add_(): argument 'other' must be a Tensor or a number, got " + std::string(py::repr(other)));
        add_(t, *o, alpha);
        return t;
      }, py::arg("other"), py::arg("alpha") = 1.0)
      .def("sub_", [](Tensor& t, py::handle other, double alpha) {
        std::optional<Tensor> o = operand(t, other);
        if (!o) throw py::type_error("sub_(): argument 'other' must be a Tensor or a number, got " + std::string(py::repr(other)));
        add_(t, *o, -alpha);
        return t;
      }, py::arg("other"), py::arg("alpha") = 1.0)
      .def("mul_", [](Tensor& t, py::handle other) { inplace_binary(t, other, "mul_", &mul_inplace); return t; }, py::arg("other"))
      .def("div_", [](Tensor& t, py::handle other) { inplace_binary(t, other, "div_", &div_inplace); return t; }, py::arg("other"))
      .def("zero_", [](Tensor& t) { fill_(t, 0.0); return t; })
      .def("fill_", [](Tensor& t, double v) { fill_(t, v); return t; }, py::arg("value"))
      .def("copy_", [](Tensor& t, const Tensor& src) { copy_(t, src); return t; }, py::arg("src"))
      .def("uniform_", [](Tensor& t, double a, double b, py::object gen) {
            capture::on_unsupported("uniform_()");
            uniform_(t, a, b, generator_or_null(gen));
            return t;
          }, py::arg("a") = 0.0, py::arg("b") = 1.0, py::kw_only(), py::arg("generator") = py::none())
      .def("normal_", [](Tensor& t, double mean, double std, py::object gen) {
            capture::on_unsupported("normal_()");
            normal_(t, mean, std, generator_or_null(gen));
            return t;
          }, py::arg("mean") = 0.0, py::arg("std") = 1.0, py::kw_only(), py::arg("generator") = py::none());
}

}  // namespace gdcore::bind
