// The hot call path of gdcore.compile in C++: `_CompiledCall` is the base class of
// CompiledStep (python/gdcore/compile.py), and calling it replays a captured step without
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
//
// The type is written against the CPython API rather than pybind11 so that a call costs one
// C function call: instances carry a vectorcall pointer (PEP 590), so `step(x, y)` reaches
// `call` below with the arguments as a C array, without the tuple, the `__call__` lookup
// through the class (slot_tp_call) and pybind11's *args/**kwargs dispatch it took before.
// CPython before 3.12 does not pass the vectorcall flag on to a Python subclass
// (CompiledStep), so `make` sets it on the subclass when the subclass keeps this __call__.
#include <Python.h>

#include <cstddef>
#include <cstring>

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

// A replay holds the GIL (skipping a release and a re-acquire) when it is lowered and its
// traced buffers are at most this big: a few microseconds of loops that never call Python.
constexpr size_t kQuickReplayBytes = 64 * 1024;

// One parameter group as it was at capture (see _GroupSnapshot in compile.py).
struct GroupGuard {
  py::object optimizer, state, group, copy;
  size_t index = 0;
  // `version` and `copy_version`: the tags of the group and of `copy` at a moment they were
  // equal; `params_now` and `params_then` their "params" entries then (borrowed: each dict
  // holds its entry for as long as its tag stays the same).
  bool have_version = false;
  uint64_t version = 0, copy_version = 0;
  PyObject* params_now = nullptr;
  PyObject* params_then = nullptr;

  bool holds(PyObject* param_groups_name, PyObject* state_name, PyObject* params_name) {
    py::object state_now = py::reinterpret_steal<py::object>(PyObject_GetAttr(optimizer.ptr(), state_name));
    if (!state_now) throw py::error_already_set();
    if (state_now.ptr() != state.ptr()) return false;
    py::object groups = py::reinterpret_steal<py::object>(PyObject_GetAttr(optimizer.ptr(), param_groups_name));
    if (!groups) throw py::error_already_set();
    PyObject* at = nullptr;
    py::object at_owner;
    if (PyList_CheckExact(groups.ptr())) {  // the usual case: a borrowed item, no call
      if (static_cast<size_t>(PyList_GET_SIZE(groups.ptr())) <= index) return false;
      at = PyList_GET_ITEM(groups.ptr(), static_cast<Py_ssize_t>(index));
    } else {
      Py_ssize_t n = PyObject_Length(groups.ptr());
      if (n < 0) throw py::error_already_set();
      if (static_cast<size_t>(n) <= index) return false;
      at_owner = py::reinterpret_steal<py::object>(PySequence_GetItem(groups.ptr(), static_cast<Py_ssize_t>(index)));
      if (!at_owner) throw py::error_already_set();
      at = at_owner.ptr();
    }
    if (at != group.ptr()) return false;
    PyObject* g = group.ptr();
    if (GDCORE_DICT_VERSION && have_version && dict_version(g) == version && dict_version(copy.ptr()) == copy_version) {
      // Both dicts are unchanged, so their "params" entries are the objects seen then (each
      // dict still holds its own); the lists may have changed in place.
      PyObject* now = params_now;
      PyObject* then = params_then;
      if (now == nullptr || then == nullptr) return now == then;
      if (PyList_CheckExact(now) && PyList_CheckExact(then) && PyList_GET_SIZE(now) == PyList_GET_SIZE(then)) {
        bool same = true;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(now) && same; ++i)
          same = PyList_GET_ITEM(now, i) == PyList_GET_ITEM(then, i);
        if (same) return true;
      }
    }
    int equal = PyObject_RichCompareBool(g, copy.ptr(), Py_EQ);  // exactly _GroupSnapshot's test
    if (equal < 0) throw py::error_already_set();
    have_version = false;
    if (equal && PyDict_CheckExact(g) && PyDict_CheckExact(copy.ptr())) {
      params_now = PyDict_GetItemWithError(g, params_name);
      if (params_now == nullptr && PyErr_Occurred()) throw py::error_already_set();
      params_then = PyDict_GetItemWithError(copy.ptr(), params_name);
      if (params_then == nullptr && PyErr_Occurred()) throw py::error_already_set();
      have_version = true;
      version = dict_version(g);
      copy_version = dict_version(copy.ptr());
    }
    return equal != 0;
  }

  int traverse(visitproc visit, void* arg) const {
    for (const py::object* o : {&optimizer, &state, &group, &copy}) Py_VISIT(o->ptr());
    return 0;
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

  int traverse(visitproc visit, void* arg) const {
    for (const Entry& e : entries_)
      for (const GroupGuard& g : e.guards)
        if (int r = g.traverse(visit, arg)) return r;
    return 0;
  }

  // The replay of a call with these positional arguments as a new reference, or nullptr
  // with no Python error set when the call must take the Python path. Throws on errors.
  PyObject* try_call(PyObject* const* args, Py_ssize_t nargs) {
    if (entries_.empty()) return nullptr;
    int64_t stack[64];
    size_t n = 0;
    std::vector<Tensor> inputs;
    inputs.reserve(static_cast<size_t>(nargs));
    static PyTypeObject* tensor_type =
        reinterpret_cast<PyTypeObject*>(py::detail::get_type_handle(typeid(TensorImpl), true).ptr());
    for (Py_ssize_t i = 0; i < nargs; ++i) {
      // A Tensor (or subclass) is a pybind11 instance holding a shared_ptr<TensorImpl>: read
      // the holder directly rather than through a type caster.
      if (!PyObject_TypeCheck(args[i], tensor_type)) return nullptr;
      py::detail::value_and_holder vh = reinterpret_cast<py::detail::instance*>(args[i])->get_value_and_holder();
      if (!vh.holder_constructed()) return nullptr;
      const std::shared_ptr<TensorImpl>& impl = vh.holder<std::shared_ptr<TensorImpl>>();
      const TensorImpl& t = *impl;
      if (n + t.shape.size() + 2 >= 63) return nullptr;  // unusual ranks: the Python path
      stack[n++] = static_cast<int64_t>(t.shape.size());
      for (int64_t s : t.shape) stack[n++] = s;
      stack[n++] = static_cast<int64_t>(t.dtype) * 2 + (t.requires_grad ? 1 : 0);
      inputs.emplace_back(impl);
    }
    stack[n++] = GradMode::is_enabled() ? 1 : 0;
    Entry* hit = nullptr;
    for (Entry& e : entries_)
      if (e.signature.size() == n && std::equal(e.signature.begin(), e.signature.end(), stack)) {
        hit = &e;
        break;
      }
    if (hit == nullptr) return nullptr;
    static PyObject* param_groups_name = PyUnicode_InternFromString("param_groups");
    static PyObject* state_name = PyUnicode_InternFromString("state");
    static PyObject* params_name = PyUnicode_InternFromString("params");
    for (GroupGuard& g : hit->guards)
      if (!g.holds(param_groups_name, state_name, params_name)) return nullptr;
    std::shared_ptr<capture::Program> program = hit->program;  // the entry may go while the GIL is off
    Structure structure = hit->structure;
    std::vector<Tensor> outputs;
    if (!program->try_quick_replay(inputs, outputs, kQuickReplayBytes)) {
      py::gil_scoped_release no_gil;
      outputs = program->replay(inputs);
    }
    switch (structure) {
      case Structure::none:
        Py_RETURN_NONE;
      case Structure::tensor:
        return py::cast(outputs.at(0)).release().ptr();
      case Structure::tuple: {
        py::tuple out(outputs.size());
        for (size_t i = 0; i < outputs.size(); ++i) out[i] = py::cast(outputs[i]);
        return out.release().ptr();
      }
      case Structure::list: {
        py::list out(outputs.size());
        for (size_t i = 0; i < outputs.size(); ++i) out[i] = py::cast(outputs[i]);
        return out.release().ptr();
      }
    }
    return nullptr;
  }

 private:
  std::vector<Entry> entries_;
};

// ---- the Python type ----

struct CompiledCallObject {
  PyObject_HEAD
  vectorcallfunc vectorcall;  // tp_vectorcall_offset points here
  CompiledCall* impl;
};

CompiledCall& impl_of(PyObject* self) { return *reinterpret_cast<CompiledCallObject*>(self)->impl; }

// Sets the Python error for the C++ exception being handled, as pybind11 would for a bound function.
PyObject* raise_current() {
  py::detail::try_translate_exceptions();
  return nullptr;
}

PyTypeObject compiled_call_type = {PyVarObject_HEAD_INIT(nullptr, 0)};  // filled in by bind_compiled_call

// `self._call(*args, **kwargs)`, for every call the C++ path does not replay.
PyObject* call_python(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  static PyObject* call_name = PyUnicode_InternFromString("_call");
  const Py_ssize_t total = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
  PyObject* small[16];
  std::vector<PyObject*> large;
  PyObject** with_self = small;
  if (total + 1 > 16) {
    large.resize(static_cast<size_t>(total + 1));
    with_self = large.data();
  }
  with_self[0] = self;
  std::copy(args, args + total, with_self + 1);
  return PyObject_VectorcallMethod(call_name, with_self, static_cast<size_t>(nargs + 1), kwnames);
}

PyObject* call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (kwnames == nullptr || PyTuple_GET_SIZE(kwnames) == 0) {
    try {
      if (PyObject* out = impl_of(self).try_call(args, nargs)) return out;
    } catch (...) {
      return raise_current();
    }
    if (PyErr_Occurred()) return nullptr;
  }
  return call_python(self, args, nargs, kwnames);
}

PyObject* make(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  // The base takes no arguments; a subclass's own __init__ takes CompiledStep(fn)'s.
  if (type == &compiled_call_type && (PyTuple_GET_SIZE(args) > 0 || (kwargs && PyDict_GET_SIZE(kwargs) > 0))) {
    PyErr_SetString(PyExc_TypeError, "_CompiledCall() takes no arguments");
    return nullptr;
  }
  // A Python subclass that keeps this __call__ (CompiledStep) is called through the vectorcall
  // pointer too; CPython < 3.12 leaves the flag off for subclasses defined in Python.
  if (type->tp_call == PyVectorcall_Call && !PyType_HasFeature(type, Py_TPFLAGS_HAVE_VECTORCALL))
    type->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL;
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) return nullptr;
  auto* obj = reinterpret_cast<CompiledCallObject*>(self);
  obj->vectorcall = call;
  obj->impl = new (std::nothrow) CompiledCall();
  if (obj->impl == nullptr) {
    Py_DECREF(self);
    return PyErr_NoMemory();
  }
  return self;
}

void destroy(PyObject* self) {
  PyObject_GC_UnTrack(self);
  auto* obj = reinterpret_cast<CompiledCallObject*>(self);
  delete obj->impl;  // drops the guards' references (the GIL is held)
  obj->impl = nullptr;
  Py_TYPE(self)->tp_free(self);
}

int traverse(PyObject* self, visitproc visit, void* arg) {
  auto* obj = reinterpret_cast<CompiledCallObject*>(self);
  return obj->impl ? obj->impl->traverse(visit, arg) : 0;
}

int clear(PyObject* self) {
  auto* obj = reinterpret_cast<CompiledCallObject*>(self);
  if (obj->impl) obj->impl->clear_fast();
  return 0;
}

PyObject* set_fast(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* names[] = {"key", "program", "structure", "groups", nullptr};
  PyObject *key, *program, *groups;
  const char* structure;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!OsO!:_set_fast", const_cast<char**>(names), &PyBytes_Type, &key,
                                   &program, &structure, &PyList_Type, &groups))
    return nullptr;
  try {
    impl_of(self).set_fast(py::reinterpret_borrow<py::bytes>(key), py::reinterpret_borrow<py::object>(program),
                           structure, py::reinterpret_borrow<py::list>(groups));
  } catch (...) {
    return raise_current();
  }
  Py_RETURN_NONE;
}

PyObject* clear_fast(PyObject* self, PyObject*) {
  impl_of(self).clear_fast();
  Py_RETURN_NONE;
}

PyObject* num_fast(PyObject* self, void*) { return PyLong_FromSize_t(impl_of(self).num_fast()); }

PyMethodDef methods[] = {
    {"_set_fast", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(set_fast)), METH_VARARGS | METH_KEYWORDS,
     "_set_fast(key, program, structure, groups)\n--\n\nRegisters the C++ replay of the capture with signature `key` "
     "(program None forgets it); `groups` lists (optimizer, state, group, copy, index) of the parameter groups the "
     "step updated."},
    {"_clear_fast", clear_fast, METH_NOARGS, "Forgets every registered replay."},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef getset[] = {
    {"_num_fast", num_fast, nullptr, "How many signatures replay in C++.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};


}  // namespace

void bind_compiled_call(py::module_& m) {
  PyTypeObject& t = compiled_call_type;
  t.tp_name = "gdcore._core._CompiledCall";
  t.tp_doc =
      "Base class of gdcore.compile's CompiledStep: calling it replays a captured step in C++ when the arguments and "
      "optimizer options allow, else calls the Python method _call.";
  t.tp_basicsize = sizeof(CompiledCallObject);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
  t.tp_vectorcall_offset = offsetof(CompiledCallObject, vectorcall);
  t.tp_call = PyVectorcall_Call;
  t.tp_new = make;
  t.tp_dealloc = destroy;
  t.tp_traverse = traverse;
  t.tp_clear = clear;
  t.tp_free = PyObject_GC_Del;
  t.tp_methods = methods;
  t.tp_getset = getset;
  if (PyType_Ready(&t) < 0) throw py::error_already_set();
  m.add_object("_CompiledCall", reinterpret_cast<PyObject*>(&t));
}

}  // namespace gdcore::bind
