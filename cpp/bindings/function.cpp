// Custom autograd Functions (python/gdcore/autograd/function.py) on the core's callback node
// (gdcore/custom_function.hpp). The node owns one reference to the Function's ctx; its backward
// takes the GIL for the Python call only (the engine runs its loop without it) and hands the
// ctx the node and the output gradients. Python objects held by the core may be released on a
// thread without the GIL (a graph freed inside the engine or a compiled replay), so their
// holder takes the GIL to let go of them.
#include "gdcore/custom_function.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {

bool interpreter_alive() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsInitialized() && !Py_IsFinalizing();
#else
  return Py_IsInitialized() && !_Py_IsFinalizing();
#endif
}

// A Python object owned from C++ code that may run without the GIL.
struct PyRef {
  py::object obj;
  explicit PyRef(py::object o) : obj(std::move(o)) {}
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  ~PyRef() {
    if (!obj) return;
    if (!interpreter_alive()) {  // at exit: leaking beats touching a finalized interpreter
      obj.release();
      return;
    }
    py::gil_scoped_acquire gil;
    obj = py::object();
  }
};

std::vector<Tensor> tensors_from(const py::handle& seq) {
  std::vector<Tensor> out;
  for (py::handle h : seq) out.push_back(h.is_none() ? Tensor() : h.cast<Tensor>());
  return out;
}

py::list list_of(const std::vector<Tensor>& ts) {
  py::list l;
  for (const Tensor& t : ts) l.append(t.defined() ? py::cast(t) : py::none());
  return l;
}

// The node's backward: ctx._engine_backward(node, grads, retain_graph) returns one gradient
// (or None) per tensor input; it checks them and names the Function when they are wrong.
class PyFunction final : public CustomFunction {
 public:
  PyFunction(std::string name, py::object ctx) : CustomFunction(std::move(name)), ctx_(std::move(ctx)) {}

  std::vector<Tensor> backward(const std::shared_ptr<Node>& node, std::vector<Tensor> grad_outputs,
                               bool retain_graph) override {
    py::gil_scoped_acquire gil;  // a Python exception leaves as error_already_set, traceback kept
    py::object grads = ctx_.obj.attr("_engine_backward")(py::cast(node), list_of(grad_outputs), retain_graph);
    return tensors_from(grads);
  }

 private:
  PyRef ctx_;
};

}  // namespace

void bind_function(py::module_& m) {
  m.def("_function_record",
        [](const std::string& name, py::object ctx, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
           const std::vector<bool>& differentiable, py::object replay) {
          FunctionApply apply;
          if (capture::is_capturing()) {  // gdcore.compile: `replay(inputs)` runs the Function again
            auto fn = std::make_shared<PyRef>(std::move(replay));
            apply = [fn](const std::vector<Tensor>& in) {
              py::gil_scoped_acquire gil;
              return tensors_from(fn->obj(list_of(in)));
            };
          }
          return record_function(std::make_shared<PyFunction>(name, std::move(ctx)), inputs, outputs, differentiable,
                                 apply);
        },
        py::arg("name"), py::arg("ctx"), py::arg("inputs"), py::arg("outputs"), py::arg("differentiable"),
        py::arg("replay"),
        "Records a custom Function's node (the grad_fn of its differentiable outputs), or returns None when "
        "nothing needs a gradient. Its backward calls ctx._engine_backward(node, grads, retain_graph).");
  m.def("_function_saved_output",
        [](const std::shared_ptr<Node>& node, uint32_t output_nr, const Tensor& t) {
          // An output the Function saved, kept detached (the ctx must not own its own node) and
          // attached again for a backward that records (create_graph) and differentiates through it.
          Tensor a = t.detach();
          a.impl()->requires_grad = true;
          a.impl()->grad_fn = node;
          a.impl()->output_nr = output_nr;
          return a;
        },
        py::arg("node"), py::arg("output_nr"), py::arg("tensor"));
  m.def("_call_uncaptured",
        [](py::object fn) {
          capture::PauseGuard pause;
          return fn();
        },
        py::arg("fn"), "Calls fn() with gdcore.compile's recording paused on this thread.");
}

}  // namespace gdcore::bind
