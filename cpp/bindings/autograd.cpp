// Autograd entry points for Python: grad mode, the backward engine, and read-only
// views of graph nodes (grad_fn, next_functions) for inspection and drawing.
#include "gdcore/grad_mode.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {
// What torch calls AccumulateGrad: the end of an edge at a leaf tensor.
struct LeafEdge {
  std::weak_ptr<TensorImpl> leaf;
  Shape shape;  // as recorded, so that a leaf the graph no longer sees can still be drawn
};

// True when the edge once pointed at a leaf (even one freed since): the graph holds leaves
// weakly, so an expired edge is a leaf that nobody keeps any more, not "no gradient needed".
bool had_leaf(const Edge& e) {
  const std::weak_ptr<TensorImpl> empty;
  return e.leaf.owner_before(empty) || empty.owner_before(e.leaf);
}
}  // namespace

// The post-backward hook: a Python callable run (GIL held) after every backward that fills .grad,
// from here rather than from the engine, so that it runs once per user call, with gdcore.compile's
// recording on (what it does, DistributedDataParallel's gradient all-reduce, becomes part of the
// captured step), and never inside a replay. Leaked on purpose: it must outlive the interpreter's teardown.
py::object& post_backward_hook() {
  static auto* hook = new py::object();
  return *hook;
}

void run_post_backward_hook() {
  py::object& hook = post_backward_hook();
  if (!hook || hook.is_none()) return;
  py::object call = hook;  // a reference of its own: the hook may replace itself while it runs
  call();
}

void bind_autograd(py::module_& m) {
  m.def("_set_post_backward_hook", [](py::object fn) { post_backward_hook() = std::move(fn); }, py::arg("fn"),
        "Sets the callable run after every backward() that fills .grad (None: none); DistributedDataParallel's.");
  m.def("is_grad_enabled", &GradMode::is_enabled);
  m.def("_set_grad_enabled", &GradMode::set_enabled, py::arg("mode"));

  m.def("_run_backward",
        [](std::vector<Tensor> roots, std::vector<std::optional<Tensor>> grads, bool retain_graph, bool create_graph,
           std::vector<Tensor> inputs, bool allow_unused) {
          std::vector<Tensor> g;
          for (auto& x : grads) g.push_back(x ? *x : Tensor());
          std::vector<Tensor> result;
          {
            py::gil_scoped_release release;
            result = run_backward(roots, g, retain_graph, create_graph, inputs, allow_unused);
          }
          if (inputs.empty()) run_post_backward_hook();  // a backward into .grad, not autograd.grad
          return result;
        },
        py::arg("roots"), py::arg("grads"), py::arg("retain_graph"), py::arg("create_graph"), py::arg("inputs"),
        py::arg("allow_unused"));

  py::class_<LeafEdge>(m, "AccumulateGrad", "The end of a graph edge at a leaf tensor; .variable is the leaf.")
      .def("name", [](const LeafEdge&) { return "AccumulateGrad"; })
      .def_property_readonly("variable", [](const LeafEdge& e) { return Tensor(e.leaf.lock()); },
                             "The leaf tensor, or None when nothing keeps it alive any more.")
      .def_property_readonly("shape", [](const LeafEdge& e) { return py::tuple(py::cast(e.shape)); })
      .def_property_readonly("next_functions", [](const LeafEdge&) { return py::tuple(); })
      .def("__repr__", [](const LeafEdge&) { return "<AccumulateGrad>"; });

  py::class_<Node, std::shared_ptr<Node>>(m, "Node", "A recorded op in the autograd graph (a tensor's grad_fn).")
      .def("name", [](const Node& n) { return std::string(n.op->name); })
      .def_property_readonly("next_functions", [](const Node& n) {
        py::list out;
        for (size_t i = 0; i < n.inputs.size(); ++i) {
          const Edge& e = n.inputs[i];
          if (e.fn) out.append(py::make_tuple(py::cast(e.fn), e.output_nr));
          else if (had_leaf(e)) out.append(py::make_tuple(py::cast(LeafEdge{e.leaf, n.input_shapes[i]}), 0));
          else out.append(py::make_tuple(py::none(), 0));
        }
        return py::tuple(out);
      })
      .def_property_readonly("output_shape", [](const Node& n) { return py::tuple(py::cast(n.output_shape)); })
      .def_property_readonly("released", [](const Node& n) { return n.released; })
      .def("__repr__", [](const Node& n) { return std::string("<") + n.op->name + " object>"; });
}

}  // namespace gdcore::bind
