// Module-level functions of gdcore._core: creation, random numbers and the op
// functions (gdcore.add, gdcore.exp, ...). Python wrappers in gdcore/ only parse
// torch-style size arguments and defaults before calling these.
#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {
Generator* gen_ptr(py::object gen) { return gen.is_none() ? nullptr : gen.cast<Generator*>(); }
Reduction reduction_from(const std::string& r) {
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  if (r == "none") return Reduction::None;
  throw py::value_error("mse_loss: reduction must be 'mean', 'sum' or 'none', got '" + r + "'");
}
Tensor with_grad(Tensor t, bool requires_grad) {
  if (requires_grad) t.set_requires_grad(true);
  return t;
}
// A tensor made by `make`; inside a step captured by gdcore.compile, each replay makes it again.
Tensor made(std::function<Tensor()> make) {
  Tensor t = make();
  capture::on_created(t, std::move(make));
  return t;
}
// Before the state was a uint8 tensor, get_state() returned the 5-tuple (hi, lo, seed, has_spare,
// spare); checkpoints written then still hold one, so set_state keeps reading it.
Generator::State legacy_state(const py::tuple& t) {
  if (t.size() != 5) throw py::value_error("set_state: expected the uint8 tensor returned by get_state(), got a tuple of " +
                                           std::to_string(t.size()) + " items");
  try {
    return {t[0].cast<uint64_t>(), t[1].cast<uint64_t>(), t[2].cast<uint64_t>(), t[3].cast<bool>(), t[4].cast<double>()};
  } catch (const py::cast_error&) {
    throw py::type_error("set_state: expected the uint8 tensor returned by get_state() (or an old checkpoint's tuple "
                         "(int, int, int, bool, float)), got " + std::string(py::repr(t)));
  }
}

std::string describe_state(const py::handle& state) {
  if (py::isinstance<TensorImpl>(state)) return std::string("a ") + dtype_name(state.cast<Tensor>().dtype()) + " tensor";
  return std::string(py::str(py::type::of(state).attr("__name__"))) + " " + std::string(py::repr(state));
}
}  // namespace

void bind_functions(py::module_& m) {
  // ---- random numbers ----
  py::class_<Generator>(m, "Generator", "A seeded random number generator (PCG-XSL-RR 128/64).")
      .def(py::init<uint64_t>(), py::arg("seed") = 0)
      .def("manual_seed", [](Generator& g, uint64_t s) -> Generator& { g.manual_seed(s); return g; }, py::arg("seed"),
           py::return_value_policy::reference_internal)
      .def("initial_seed", &Generator::initial_seed)
      .def("get_state", [](const Generator& g) { return state_to_bytes(g.get_state()); },
           "The state as a uint8 tensor (as torch's Generator.get_state) that set_state takes back.")
      .def("set_state", [](Generator& g, py::object state) {
        if (py::isinstance<py::tuple>(state)) return g.set_state(legacy_state(py::reinterpret_borrow<py::tuple>(state)));
        if (!py::isinstance<TensorImpl>(state) || state.cast<Tensor>().dtype() != DType::UInt8)
          throw py::type_error("set_state: expected the uint8 tensor returned by get_state(), got " + describe_state(state));
        g.set_state(state_from_bytes(state.cast<Tensor>()));
      }, py::arg("state"))
      .def("random", &Generator::uniform, "One uniform number in [0, 1).")
      .def("randbelow", &Generator::below, py::arg("n"), "One uniform integer in [0, n).");
  m.def("default_generator", &default_generator, py::return_value_policy::reference);

  // Draws from the default generator are replayed by gdcore.compile (it lives as long as the program).
  m.def("_rand", [](Shape s, DType d, py::object g, bool rg) {
    if (g.is_none()) return made([=] { return with_grad(rand(s, d, nullptr), rg); });
    return with_grad(rand(s, d, gen_ptr(g)), rg);
  });
  m.def("_randn", [](Shape s, DType d, py::object g, bool rg) {
    if (g.is_none()) return made([=] { return with_grad(randn(s, d, nullptr), rg); });
    return with_grad(randn(s, d, gen_ptr(g)), rg);
  });
  m.def("_normal", [](double mean, double std, Shape s, DType d, py::object g, bool rg) {
    if (g.is_none()) return made([=] { return with_grad(normal(mean, std, s, d, nullptr), rg); });
    return with_grad(normal(mean, std, s, d, gen_ptr(g)), rg);
  });
  m.def("_randint", [](int64_t lo, int64_t hi, Shape s, DType d, py::object g) { return randint(lo, hi, s, d, gen_ptr(g)); });
  m.def("_randperm", [](int64_t n, DType d, py::object g) { return randperm(n, d, gen_ptr(g)); });

  // ---- creation ----
  m.def("_full", [](Shape s, double v, DType d, bool rg) {
    return made([=] { return with_grad(full(s, v, d), rg); });
  });
  m.def("_arange", [](double a, double b, double step, DType d, bool rg) { return with_grad(arange(a, b, step, d), rg); });
  m.def("_linspace", [](double a, double b, int64_t n, DType d, bool rg) { return with_grad(linspace(a, b, n, d), rg); });
  m.def("_eye", [](int64_t n, int64_t k, DType d, bool rg) { return with_grad(eye(n, k, d), rg); });
  m.def("_tensor", [](py::handle data, py::object dtype, bool rg) {
    const std::optional<DType> dt = dtype.is_none() ? std::nullopt : std::optional<DType>(dtype_from(dtype));
    Tensor t = with_grad(tensor_from_data(data, dt), rg);
    if (capture::is_capturing())  // gdcore.compile: each replay makes a fresh copy of these values
      capture::on_created(t, [values = t.clone_data(), rg] { return with_grad(values.clone_data(), rg); });
    return t;
  });
  m.def("from_numpy", &from_numpy, py::arg("ndarray"), "A tensor sharing memory with a numpy array (copies only when the layout cannot be shared).");
  m.def("_dtype_from", &dtype_from);

  // ---- ops as functions ----
  auto bin = [&m](const char* name, Tensor (*op)(const Tensor&, const Tensor&)) {
    m.def(name, [op, name](py::handle a, py::handle b) {
      // Either side may be a Python number, as in torch.
      if (py::isinstance<TensorImpl>(a)) {
        Tensor ta = a.cast<Tensor>();
        std::optional<Tensor> tb = operand(ta, b);
        if (!tb) throw py::type_error(std::string(name) + "(): argument 'other' must be a Tensor or a number, got " + std::string(py::repr(b)));
        return op(ta, *tb);
      }
      if (!py::isinstance<TensorImpl>(b))
        throw py::type_error(std::string(name) + "(): argument 'input' or 'other' must be a Tensor, got " + std::string(py::repr(a)) +
                             " and " + std::string(py::repr(b)));
      Tensor tb = b.cast<Tensor>();
      std::optional<Tensor> ta = operand(tb, a);
      if (!ta) throw py::type_error(std::string(name) + "(): argument 'input' must be a Tensor or a number, got " + std::string(py::repr(a)));
      return op(*ta, tb);
    }, py::arg("input"), py::arg("other"));
  };
  bin("add", static_cast<Tensor (*)(const Tensor&, const Tensor&)>(&add));
  bin("sub", &sub);
  bin("mul", static_cast<Tensor (*)(const Tensor&, const Tensor&)>(&mul));
  bin("div", &div);
  bin("maximum", &maximum);
  bin("minimum", &minimum);
  m.def("pow", [](py::handle input, py::handle e) -> Tensor {
    if (!py::isinstance<TensorImpl>(input)) {
      // torch.pow(2, x): a number raised to a tensor, as `2 ** x`.
      std::optional<Tensor> base = py::isinstance<TensorImpl>(e) ? operand(e.cast<Tensor>(), input) : std::nullopt;
      if (!base)
        throw py::type_error("pow(): argument 'input' must be a Tensor or a number (with a Tensor exponent), got " +
                             std::string(py::repr(input)) + " and " + std::string(py::repr(e)));
      return pow(*base, e.cast<Tensor>());
    }
    Tensor a = input.cast<Tensor>();
    if (PyFloat_Check(e.ptr()) || PyLong_Check(e.ptr())) return pow(a, e.cast<double>());
    std::optional<Tensor> t = operand(a, e);
    if (!t) throw py::type_error("pow: exponent must be a number or a tensor");
    return pow(a, *t);
  }, py::arg("input"), py::arg("exponent"));
  // Long kernels that touch no Python object: other Python threads run meanwhile.
  using Release = py::call_guard<py::gil_scoped_release>;
  m.def("matmul", &matmul, py::arg("input"), py::arg("other"), Release());
  m.def("mm", &mm, py::arg("input"), py::arg("mat2"), Release());
  m.def("bmm", &bmm, py::arg("input"), py::arg("mat2"), Release());
  for (auto [name, fn] : std::initializer_list<std::pair<const char*, Tensor (*)(const Tensor&)>>{
           {"neg", &neg}, {"abs", &abs}, {"exp", &exp}, {"log", &log}, {"sqrt", &sqrt}, {"sin", &sin},
           {"cos", &cos}, {"tan", &tan}, {"tanh", &tanh}, {"sinh", &sinh}, {"cosh", &cosh},
           {"sigmoid", &sigmoid}, {"relu", &relu}, {"clone", &clone}})
    m.def(name, fn, py::arg("input"));
  m.def("clamp", &clamp, py::arg("input"), py::arg("min") = py::none(), py::arg("max") = py::none());
  m.def("mse_loss", [](const Tensor& a, const Tensor& b, const std::string& r) { return mse_loss(a, b, reduction_from(r)); },
        py::arg("input"), py::arg("target"), py::arg("reduction") = "mean");
  m.def("reshape", [](const Tensor& t, Shape s) { return reshape(t, s); }, py::arg("input"), py::arg("shape"));
  m.def("flatten", &flatten, py::arg("input"), py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  m.def("transpose", &transpose, py::arg("input"), py::arg("dim0"), py::arg("dim1"));
  m.def("permute", [](const Tensor& t, std::vector<int64_t> d) { return permute(t, d); }, py::arg("input"), py::arg("dims"));
  m.def("squeeze", &squeeze, py::arg("input"), py::arg("dim") = py::none());
  m.def("unsqueeze", &unsqueeze, py::arg("input"), py::arg("dim"));
  m.def("index_select", &index_select, py::arg("input"), py::arg("dim"), py::arg("index"));
  m.def("cat", &cat, py::arg("tensors"), py::arg("dim") = 0);
  m.def("stack", &stack, py::arg("tensors"), py::arg("dim") = 0);
  m.def("_sum", [](const Tensor& t, py::object dim, bool k) { return sum(t, dims_from(dim), k); });
  m.def("_mean", [](const Tensor& t, py::object dim, bool k) { return mean(t, dims_from(dim), k); });
}

}  // namespace gdcore::bind
