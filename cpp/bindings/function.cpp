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

// True when a tensor of shape `from` broadcasts to `to` (a gradient of shape `to` then sums back).
bool expandable(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  for (size_t k = 1; k <= from.size(); ++k)
    if (from[from.size() - k] != to[to.size() - k] && from[from.size() - k] != 1) return false;
  return true;
}

std::string sizes(const Shape& s) {
  std::string out = "[";
  for (size_t k = 0; k < s.size(); ++k) out += (k ? ", " : "") + std::to_string(s[k]);
  return out + "]";
}

// The node's backward: ctx._engine_backward(node, grads, retain_graph) calls the user's backward
// and returns one gradient (or None) per tensor input, after checking their number and types
// (function.py); their shapes are checked here, against the shapes the node recorded.
class PyFunction final : public CustomFunction {
 public:
  PyFunction(std::string name, py::object ctx, const std::vector<Tensor>& outputs)
      : CustomFunction(std::move(name)), ctx_(std::move(ctx)) {
    for (const Tensor& t : outputs) outputs_.push_back({t.shape(), t.dtype()});
  }

  std::vector<Tensor> backward(const std::shared_ptr<Node>& node, std::vector<Tensor> grad_outputs,
                               bool retain_graph) override {
    py::gil_scoped_acquire gil;  // a Python exception leaves as error_already_set, traceback kept
    const py::object& ctx = ctx_.obj;
    if (ctx.attr("_materialize_grads").cast<bool>())  // zeros for outputs no gradient reached (torch's default)
      for (size_t k = 0; k < grad_outputs.size() && k < outputs_.size(); ++k)
        if (!grad_outputs[k].defined()) grad_outputs[k] = Tensor::empty(outputs_[k].first, outputs_[k].second, true);
    std::vector<Tensor> grads =
        tensors_from(ctx.attr("_engine_backward")(py::cast(node), list_of(grad_outputs), retain_graph));
    for (size_t i = 0; i < grads.size() && i < node->input_shapes.size(); ++i) {
      Tensor& g = grads[i];
      const Shape& want = node->input_shapes[i];
      if (!g.defined() || g.shape() == want) continue;
      if (!expandable(want, g.shape()))
        throw std::runtime_error("function " + std::string(op().name) + " returned an invalid gradient at index " +
                                 std::to_string(argument_index(i)) + " - got " + sizes(g.shape()) +
                                 " but expected shape compatible with " + sizes(want) +
                                 " (the shape of that forward argument)");
      if (node->inputs[i].needs_grad()) g = sum_to(g, want);  // a broadcast gradient is reduced, as torch does
    }
    return grads;
  }

 private:
  // The forward argument that is the i-th tensor input (ctx._arg_types has every argument's type).
  size_t argument_index(size_t i) const {
    const py::tuple types = ctx_.obj.attr("_arg_types");
    const py::handle tensor_type = py::type::of<TensorImpl>();
    for (size_t k = 0, seen = 0; k < types.size(); ++k)
      if (PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(types[k].ptr()),
                           reinterpret_cast<PyTypeObject*>(tensor_type.ptr())) &&
          seen++ == i)
        return k;
    return i;
  }

  PyRef ctx_;
  std::vector<std::pair<Shape, DType>> outputs_;
};

}  // namespace

void bind_function(py::module_& m) {
  m.def("_function_record",
        [](const std::string& name, py::object ctx, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
           std::vector<bool> differentiable, py::object replay) {
          for (size_t k = 0; k < outputs.size() && k < differentiable.size(); ++k)  // integer outputs never are
            differentiable[k] = differentiable[k] && is_floating(outputs[k].dtype());
          FunctionApply apply;
          if (capture::is_capturing()) {  // gdcore.compile: `replay(inputs)` runs the Function again
            auto fn = std::make_shared<PyRef>(std::move(replay));
            apply = [fn](const std::vector<Tensor>& in) {
              py::gil_scoped_acquire gil;
              return tensors_from(fn->obj(list_of(in)));
            };
          }
          return record_function(std::make_shared<PyFunction>(name, std::move(ctx), outputs), inputs, outputs,
                                 differentiable, apply);
        },
        py::arg("name"), py::arg("ctx"), py::arg("inputs"), py::arg("outputs"), py::arg("differentiable"),
        py::arg("replay"),
        "Records a custom Function's node (the grad_fn of its floating-point outputs marked differentiable), or "
        "returns None when nothing needs a gradient. Its backward calls ctx._engine_backward(node, grads, "
        "retain_graph), with zeros for missing gradients when ctx._materialize_grads.");
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
