// Tensor.register_hook (gdcore/grad_hooks.hpp): the Python function becomes a core GradHook that
// takes the GIL for its call only (backward runs without it), and the returned handle's remove()
// takes it out again, as torch's RemovableHandle.
#include "gdcore/grad_hooks.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {

// A Python callable owned by the core, which may drop it without the GIL (a node freed in backward).
struct PyCallable {
  py::object fn;
  explicit PyCallable(py::object f) : fn(std::move(f)) {}
  PyCallable(const PyCallable&) = delete;
  PyCallable& operator=(const PyCallable&) = delete;
  ~PyCallable() {
    if (!Py_IsInitialized()) {  // at exit: leaking beats touching a finalized interpreter
      fn.release();
      return;
    }
    py::gil_scoped_acquire gil;
    fn = py::object();
  }
};

struct HookHandle {
  std::weak_ptr<GradHookList> list;
  int64_t id = 0;
  void remove() {
    if (auto l = list.lock()) l->remove(id);
  }
};

}  // namespace

void bind_grad_hooks(py::module_& m) {
  py::class_<HookHandle>(m, "RemovableHandle", "What Tensor.register_hook returns: remove() unregisters the hook.")
      .def_readonly("id", &HookHandle::id)
      .def("remove", &HookHandle::remove, "Unregisters the hook (a second call does nothing).")
      .def("__enter__", [](HookHandle& h) -> HookHandle& { return h; }, py::return_value_policy::reference)
      .def("__exit__", [](HookHandle& h, py::args) { h.remove(); });
  auto cls = py::reinterpret_borrow<py::class_<TensorImpl, std::shared_ptr<TensorImpl>>>(m.attr("Tensor"));
  cls.def("register_hook", [](const Tensor& t, py::object hook) {
        if (!PyCallable_Check(hook.ptr()))
          throw py::type_error("register_hook(): hook must be callable (a function of the gradient), got " +
                               std::string(py::str(py::type::of(hook).attr("__name__"))));
        capture::on_unsupported("register_hook()");  // gdcore.compile: a replay would not register it again
        auto ref = std::make_shared<PyCallable>(std::move(hook));
        GradHook fn = [ref](const Tensor& g) -> Tensor {
          py::gil_scoped_acquire gil;  // a Python exception leaves as error_already_set, traceback kept
          py::object r = ref->fn(py::cast(g));
          if (r.is_none()) return Tensor();
          if (!py::isinstance<TensorImpl>(r))
            throw py::type_error("a tensor hook must return None or a Tensor (the new gradient), got " +
                                 std::string(py::str(py::type::of(r).attr("__name__"))));
          return r.cast<Tensor>();
        };
        auto [list, id] = register_grad_hook(t, std::move(fn));
        return HookHandle{list, id};
      }, py::arg("hook"),
      "Registers hook(grad) -> Tensor or None, run when this tensor's gradient is computed; a returned tensor "
      "replaces the gradient. Returns a handle whose remove() unregisters it.");
}

}  // namespace gdcore::bind
