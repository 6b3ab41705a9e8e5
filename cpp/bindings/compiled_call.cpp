// The hot call path of gdcore.compile in C++: `_CompiledCall` is the base class of
// CompiledStep (python/gdcore/compile.py), and its __call__ replays a captured step without
// running any Python. It keeps, per captured signature, the packed signature (the same
// int64 words as _tensor_signature), the program, how to rebuild the result, and a guard per
// optimizer parameter group the step updated. A call whose arguments are all tensors, whose
// signature matches, and whose guards all hold replays here; everything else (keyword
// arguments, non-tensor arguments, a new signature, changed optimizer options, captures
// that keep Python state in sync) goes to the Python method `_call`, which does what it
// always did. The guard is the same test as _GroupSnapshot.is_current, with a version number
// in front of the one costly part (comparing the group dict with its copy from the capture):
// CPython bumps a dict's version tag on every change to it (PEP 509, any __setitem__, update,
// setdefault, del), so an unchanged tag means an unchanged dict and the comparison is
// skipped. The parameter list inside the group is a separate object whose changes the tag
// does not see, so it is still compared (by identity first, a few pointer tests).
#include <Python.h>

#include <cstring>
#include <optional>

#include "gdcore/capture.hpp"
#include "gdcore/grad_mode.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {
namespace {

// CPython 3.12 deprecated the dict version tag (and 3.14 removed it); there every guard
// compares the dicts, which is what the tag only short-cuts.
#if PY_VERSION_HEX < 0x030C0000
#define GDCORE_DICT_VERSION 1
uint64_t dict_version(PyObject* d) { return reinterpret_cast<PyDictObject*>(d)->ma_version_tag; }
#else
#define GDCORE_DICT_VERSION 0
uint64_t dict_version(PyObject*) { return 0; }
#endif

// One parameter group as it was at capture (see _GroupSnapshot in compile.py).
struct GroupGuard {
  py::object optimizer, state, group, copy;
  size_t index = 0;
  bool have_version = false;  // `version` is the group's tag at a moment it equalled `copy`
  uint64_t version = 0;

  bool holds(PyObject* param_groups_name, PyObject* state_name, PyObject* params_name) {
    py::object state_now = py::reinterpret_steal<py::object>(PyObject_GetAttr(optimizer.ptr(), state_name));
    if (!state_now) throw py::error_already_set();
    if (state_now.ptr() != state.ptr()) return false;
    py::object groups = py::reinterpret_steal<py::object>(PyObject_GetAttr(optimizer.ptr(), param_groups_name));
    if (!groups) throw py::error_already_set();
    Py_ssize_t n = PyObject_Length(groups.ptr());
    if (n < 0) throw py::error_already_set();
    if (static_cast<size_t>(n) <= index) return false;
    py::object at = py::reinterpret_steal<py::object>(PySequence_GetItem(groups.ptr(), static_cast<Py_ssize_t>(index)));
    if (!at) throw py::error_already_set();
    if (at.ptr() != group.ptr()) return false;
    PyObject* g = group.ptr();
    if (GDCORE_DICT_VERSION && have_version && PyDict_CheckExact(g) && dict_version(g) == version) {
      // The dict is unchanged; its parameter list may not be (a list mutated in place).
      PyObject* now = PyDict_GetItemWithError(g, params_name);
      PyObject* then = PyDict_GetItemWithError(copy.ptr(), params_name);
      if (now == nullptr || then == nullptr) {
        if (PyErr_Occurred()) throw py::error_already_set();
      } else if (PyList_CheckExact(now) && PyList_CheckExact(then) && PyList_GET_SIZE(now) == PyList_GET_SIZE(then)) {
        bool same = true;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(now) && same; ++i)
          same = PyList_GET_ITEM(now, i) == PyList_GET_ITEM(then, i);
        if (same) return true;
      }
    }
    int equal = PyObject_RichCompareBool(g, copy.ptr(), Py_EQ);  // exactly _GroupSnapshot's test
    if (equal < 0) throw py::error_already_set();
    if (equal && PyDict_CheckExact(g)) {
      have_version = true;
      version = dict_version(g);
    }
    return equal != 0;
  }
};

enum class Structure { none, tensor, tuple, list };

struct Entry {
  std::vector<int64_t> signature;
  std::shared_ptr<capture::Program> program;
  Structure structure = Structure::none;
  std::vector<GroupGuard> guards;
};

class CompiledCall {
 public:
  // Registers (or, with program None, forgets) the fast replay of the capture whose key is
  // `key` (bytes from _tensor_signature). `groups`: (optimizer, state, group, copy, index).
  void set_fast(const py::bytes& key, const py::object& program, const std::string& structure,
                const py::list& groups) {
    std::string packed = key;
    std::vector<int64_t> signature(packed.size() / sizeof(int64_t));
    std::memcpy(signature.data(), packed.data(), signature.size() * sizeof(int64_t));
    for (size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].signature == signature) {
        entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    if (program.is_none()) return;
    Entry e;
    e.signature = std::move(signature);
    e.program = program.cast<std::shared_ptr<capture::Program>>();
    e.structure = structure == "tensor" ? Structure::tensor
                  : structure == "tuple" ? Structure::tuple
                  : structure == "list"  ? Structure::list
                                         : Structure::none;
    for (const auto& item : groups) {
      py::tuple t = item.cast<py::tuple>();
      GroupGuard g;
      g.optimizer = t[0];
      g.state = t[1];
      g.group = t[2];
      g.copy = t[3];
      g.index = t[4].cast<size_t>();
      e.guards.push_back(std::move(g));
    }
    entries_.push_back(std::move(e));
  }

  void clear_fast() { entries_.clear(); }
  size_t num_fast() const { return entries_.size(); }

  // The replay if this call can take the fast path, else nullopt (the caller goes to Python).
  std::optional<py::object> try_call(const py::args& args) {
    if (entries_.empty()) return std::nullopt;
    int64_t stack[64];
    size_t n = 0;
    const size_t nargs = args.size();
    std::vector<Tensor> inputs;
    inputs.reserve(nargs);
    for (size_t i = 0; i < nargs; ++i) {
      PyObject* a = PyTuple_GET_ITEM(args.ptr(), static_cast<Py_ssize_t>(i));
      py::detail::make_caster<std::shared_ptr<TensorImpl>> caster;
      if (!caster.load(a, false)) return std::nullopt;
      std::shared_ptr<TensorImpl> impl = py::detail::cast_op<std::shared_ptr<TensorImpl>>(caster);
      const TensorImpl& t = *impl;
      if (n + t.shape.size() + 2 >= 63) return std::nullopt;  // unusual ranks: the Python path
      stack[n++] = static_cast<int64_t>(t.shape.size());
      for (int64_t s : t.shape) stack[n++] = s;
      stack[n++] = static_cast<int64_t>(t.dtype) * 2 + (t.requires_grad ? 1 : 0);
      inputs.emplace_back(std::move(impl));
    }
    stack[n++] = GradMode::is_enabled() ? 1 : 0;
    Entry* hit = nullptr;
    for (Entry& e : entries_)
      if (e.signature.size() == n && std::equal(e.signature.begin(), e.signature.end(), stack)) {
        hit = &e;
        break;
      }
    if (hit == nullptr) return std::nullopt;
    static PyObject* param_groups_name = PyUnicode_InternFromString("param_groups");
    static PyObject* state_name = PyUnicode_InternFromString("state");
    static PyObject* params_name = PyUnicode_InternFromString("params");
    for (GroupGuard& g : hit->guards)
      if (!g.holds(param_groups_name, state_name, params_name)) return std::nullopt;
    std::shared_ptr<capture::Program> program = hit->program;  // the entry may go while the GIL is off
    Structure structure = hit->structure;
    std::vector<Tensor> outputs;
    {
      py::gil_scoped_release no_gil;
      outputs = program->replay(inputs);
    }
    switch (structure) {
      case Structure::none:
        return py::object(py::none());
      case Structure::tensor:
        return py::cast(outputs.at(0));
      case Structure::tuple: {
        py::tuple out(outputs.size());
        for (size_t i = 0; i < outputs.size(); ++i) out[i] = py::cast(outputs[i]);
        return py::object(std::move(out));
      }
      case Structure::list: {
        py::list out(outputs.size());
        for (size_t i = 0; i < outputs.size(); ++i) out[i] = py::cast(outputs[i]);
        return py::object(std::move(out));
      }
    }
    return std::nullopt;
  }

 private:
  std::vector<Entry> entries_;
};

}  // namespace

void bind_compiled_call(py::module_& m) {
  py::class_<CompiledCall>(m, "_CompiledCall",
                           "Base class of gdcore.compile's CompiledStep: its __call__ replays a captured step in C++ "
                           "when the arguments and optimizer options allow, else calls the Python method _call.")
      .def(py::init<>())
      .def("_set_fast", &CompiledCall::set_fast, py::arg("key"), py::arg("program"), py::arg("structure"),
           py::arg("groups"),
           "Registers the C++ replay of the capture with signature `key` (program None forgets it); `groups` "
           "lists (optimizer, state, group, copy, index) of the parameter groups the step updated.")
      .def("_clear_fast", &CompiledCall::clear_fast, "Forgets every registered replay.")
      .def_property_readonly("_num_fast", &CompiledCall::num_fast)
      .def("__call__", [](py::object self, const py::args& args, const py::kwargs& kwargs) -> py::object {
        if (kwargs.empty()) {
          std::optional<py::object> out = self.cast<CompiledCall&>().try_call(args);
          if (out) return std::move(*out);
        }
        return self.attr("_call")(*args, **kwargs);
      });
}

}  // namespace gdcore::bind
