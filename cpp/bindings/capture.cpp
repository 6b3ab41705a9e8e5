// Bindings of the capture/replay machinery (gdcore/capture.hpp) used by gdcore.compile
// (python/gdcore/compile.py): begin/end a capture on this thread, and the captured
// program, whose replay() and run_batches() run in C++ with the GIL released.
#include "gdcore/capture.hpp"
#include "gdcore/grad_mode.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {

void bind_capture(py::module_& m) {
  using py::arg;
  using capture::Program;
  const auto no_gil = py::call_guard<py::gil_scoped_release>();

  py::class_<capture::StepCounts, std::shared_ptr<capture::StepCounts>>(
      m, "_StepCounts", "Per-parameter step counts of an optimizer step captured by gdcore.compile.")
      .def_readwrite("steps", &capture::StepCounts::steps);

  py::class_<Program, std::shared_ptr<Program>>(m, "_CapturedStep",
                                                 "A training step captured by gdcore.compile, replayed in C++.")
      .def("replay", &Program::replay, arg("inputs"), no_gil,
           "Runs the captured step on `inputs` (the tensor arguments); returns its output tensors.")
      .def("run_batches", &Program::run_batches, arg("data"), arg("order"), arg("start"), arg("stop"),
           arg("batch_size"), arg("loss_output"), no_gil,
           "Replays the step on rows order[b:b+batch_size] of every tensor of `data` for each full batch in "
           "[start, stop); returns the losses (output `loss_output` of each replay) as a 1-d tensor.")
      .def_property_readonly("num_inputs", &Program::num_inputs)
      .def_property_readonly("num_outputs", &Program::num_outputs)
      .def_property_readonly("num_entries", &Program::num_entries)
      .def_property_readonly("replays", &Program::replays)
      .def_property_readonly("lowering", &Program::lowering,
                             "'lowered' when replays run as a flat list of loops, 'not lowered yet' before the "
                             "first replay, else 'op by op: <why>'.")
      .def("describe", &Program::describe, "One line per captured entry: name(input slots) -> output slots.")
      .def_property_readonly("fused_loops", &Program::fused_loops,
                             "How many elementwise loops of the lowered step run fused with their neighbours "
                             "(0 when not lowered, or with GDCORE_COMPILE_FUSE=0).");

  m.def("_capture_begin", &capture::begin, arg("inputs"),
        "Starts capturing this thread's ops; `inputs` become the step's argument slots.");
  m.def("_capture_end", &capture::end, arg("outputs"),
        "Ends the capture; `outputs` (tensors or None) are what the step returns. Raises when it cannot be replayed.");
  m.def("_capture_abort", &capture::abort, "Drops the capture in progress (the step raised).");
  m.def("_capture_active", &capture::is_capturing, "True while a capture records on this thread.");
  // The cache key of a call whose arguments are all tensors, in one call (the common case of
  // gdcore.compile's fast path); None when some argument is not a tensor.
  // The signature key of an all-tensor call, packed into one bytes object (cheap to build and
  // to hash on every call of a compiled step): per tensor its rank, sizes, dtype and
  // requires_grad, then the grad mode. None when an argument is not a tensor.
  m.def("_tensor_signature", [](const py::tuple& args) -> py::object {
    std::vector<int64_t> key;
    key.reserve(args.size() * 6 + 1);
    for (size_t i = 0; i < args.size(); ++i) {
      if (!py::isinstance<TensorImpl>(args[i])) return py::none();
      const TensorImpl& t = *args[i].cast<const TensorImpl*>();
      key.push_back(static_cast<int64_t>(t.shape.size()));
      key.insert(key.end(), t.shape.begin(), t.shape.end());
      key.push_back(static_cast<int64_t>(t.dtype) * 2 + (t.requires_grad ? 1 : 0));
    }
    key.push_back(GradMode::is_enabled() ? 1 : 0);
    return py::bytes(reinterpret_cast<const char*>(key.data()), key.size() * sizeof(int64_t));
  }, py::arg("args"));
}

}  // namespace gdcore::bind
