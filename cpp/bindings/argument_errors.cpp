// One clear message for every wrong-type call of every bound function. pybind11 reports a call that matches
// no overload as "f(): incompatible function arguments. The following argument types are supported: ...";
// after all bindings are registered, install_argument_errors() points every pybind11 function of the module
// (module functions, methods, constructors, property getters and setters) at a dispatcher that calls
// pybind11's own and, only when it fails with that text, replaces it with one that names the function, the
// argument, the type it wanted and the value it got:
//     Tensor.fill_(): argument 'value' must be float, got str 'a'
// The argument is found by reading the overloads' signatures (the same text pybind11 prints) and testing
// each passed value against its annotation. Functions bound later by anyone are covered without changes
// here: the walk finds them. A call that succeeds never reaches this code, so it costs nothing then.
#include <Python.h>

#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {

namespace detail = py::detail;
// pybind11's dispatcher is a protected static member of cpp_function; a subclass may name it.
struct PybindDispatcher : py::cpp_function {
  using py::cpp_function::dispatcher;
};

// "Tensor.grad" for property functions, whose records carry no name of their own.
std::unordered_map<const detail::function_record*, std::string>& property_names() {
  static auto* names = new std::unordered_map<const detail::function_record*, std::string>();
  return *names;
}

// The names of the classes the module defines ("Tensor", "Generator", "dtype"), filled by the walk.
std::unordered_set<std::string>& module_classes() {
  static auto* names = new std::unordered_set<std::string>();
  return *names;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// Split at `sep` outside brackets: "a: list[int, int], b: int" -> {"a: list[int, int]", "b: int"}.
std::vector<std::string> split_top(const std::string& s, const std::string& sep) {
  std::vector<std::string> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '[' || c == '(') ++depth;
    else if (c == ']' || c == ')') --depth;
    else if (depth == 0 && s.compare(i, sep.size(), sep) == 0) {
      parts.push_back(trim(s.substr(start, i - start)));
      start = i + sep.size();
      i += sep.size() - 1;
    }
  }
  parts.push_back(trim(s.substr(start)));
  return parts;
}

struct Param {
  std::string name, type, default_text;
  bool has_default = false, keyword_only = false, star_args = false, star_kwargs = false;
};

// "(self: Tensor, value: float = 1.0, *, generator: object = None) -> Tensor" -> its parameters.
std::vector<Param> parse_signature(const std::string& signature) {
  std::vector<Param> params;
  const size_t open = signature.find('(');
  if (open == std::string::npos) return params;
  int depth = 0;
  size_t close = open;
  for (size_t i = open; i < signature.size(); ++i) {
    if (signature[i] == '(' || signature[i] == '[') ++depth;
    if (signature[i] == ')' || signature[i] == ']') --depth;
    if (depth == 0) { close = i; break; }
  }
  const std::string inside = signature.substr(open + 1, close - open - 1);
  if (trim(inside).empty()) return params;
  bool keyword_only = false;
  for (const std::string& part : split_top(inside, ",")) {
    if (part == "*") { keyword_only = true; continue; }
    if (part == "/") continue;
    Param p;
    std::string text = part;
    const std::vector<std::string> with_default = split_top(text, " = ");
    if (with_default.size() > 1) { p.has_default = true; text = with_default[0]; p.default_text = with_default[1]; }
    const size_t colon = text.find(':');
    p.name = trim(colon == std::string::npos ? text : text.substr(0, colon));
    p.type = colon == std::string::npos ? "object" : trim(text.substr(colon + 1));
    if (p.name.rfind("**", 0) == 0) { p.star_kwargs = true; p.name = p.name.substr(2); }
    else if (p.name.rfind("*", 0) == 0) { p.star_args = true; p.name = p.name.substr(1); keyword_only = true; }
    p.keyword_only = keyword_only && !p.star_args;
    params.push_back(p);
  }
  return params;
}

std::string last_component(const std::string& dotted) {
  const size_t dot = dotted.rfind('.');
  return dot == std::string::npos ? dotted : dotted.substr(dot + 1);
}

// "collections.abc.Sequence[Tensor]" -> ("collections.abc.Sequence", "Tensor").
std::pair<std::string, std::string> generic(const std::string& type) {
  const size_t open = type.find('[');
  if (open == std::string::npos || type.back() != ']') return {type, ""};
  return {type.substr(0, open), type.substr(open + 1, type.size() - open - 2)};
}

bool fits(PyObject* value, const std::string& type);

bool fits_one(PyObject* value, const std::string& alternative) {
  auto [head, inner] = generic(alternative);
  if (head == "typing.Annotated") return fits(value, split_top(inner, ",")[0]);
  if (head == "typing.Optional") return value == Py_None || fits(value, inner);
  if (head == "typing.Union") {
    for (const std::string& part : split_top(inner, ","))
      if (fits(value, part)) return true;
    return false;
  }
  if (head == "object" || head == "typing.Any" || head == "args" || head == "kwargs") return true;
  if (head == "None") return value == Py_None;
  if (head == "typing.SupportsFloat" || head == "float") {
    if (PyUnicode_Check(value) || PyBytes_Check(value)) return false;
    const double v = PyFloat_AsDouble(value);  // what pybind11's float caster calls
    if (v == -1.0 && PyErr_Occurred()) { PyErr_Clear(); return false; }
    return true;
  }
  if (head == "typing.SupportsInt" || head == "typing.SupportsIndex" || head == "int")
    return !PyFloat_Check(value) && PyIndex_Check(value);
  if (head == "bool")
    return PyBool_Check(value) || std::strcmp(Py_TYPE(value)->tp_name, "numpy.bool") == 0 ||
           std::strcmp(Py_TYPE(value)->tp_name, "numpy.bool_") == 0;
  if (head == "str") return PyUnicode_Check(value);
  if (head == "bytes") return PyBytes_Check(value);
  if (head == "tuple") return PyTuple_Check(value);
  if (head == "list" || head == "collections.abc.Sequence" || head == "typing.Sequence" ||
      head == "collections.abc.Iterable" || head == "typing.Iterable") {
    if (PyUnicode_Check(value) || PyBytes_Check(value) || PyDict_Check(value)) return false;
    if (head == "list" && inner.empty()) return PyList_Check(value);
    if (!PySequence_Check(value)) return false;
    if (inner.empty()) return true;
    py::sequence seq = py::reinterpret_borrow<py::sequence>(value);
    for (py::handle item : seq)
      if (!fits(item.ptr(), inner)) return false;
    return true;
  }
  if (head == "dict" || head == "collections.abc.Mapping" || head == "typing.Mapping") return PyDict_Check(value);
  if (head == "collections.abc.Callable" || head == "typing.Callable") return PyCallable_Check(value) != 0;
  if (head == "numpy.ndarray" || head == "numpy.typing.NDArray" || head == "numpy.typing.ArrayLike")
    return !PyUnicode_Check(value) && value != Py_None && !PyDict_Check(value);
  // A class of this module: the value's type, or one of its bases, has that name. Other names: do not guess.
  const std::string want = last_component(head);
  if (!module_classes().count(want)) return true;
  PyObject* mro = Py_TYPE(value)->tp_mro;
  if (!mro) return true;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); ++i) {
    auto* base = reinterpret_cast<PyTypeObject*>(PyTuple_GET_ITEM(mro, i));
    if (last_component(base->tp_name) == want) return true;
  }
  return false;
}

bool fits(PyObject* value, const std::string& type) {
  for (const std::string& alternative : split_top(type, " | "))
    if (fits_one(value, alternative)) return true;
  return false;
}

// "typing.SupportsFloat | typing.SupportsIndex" -> "float"; "collections.abc.Sequence[Tensor]" -> "a sequence of Tensor".
std::string readable(const std::string& type) {
  std::vector<std::string> names;
  bool has_float = false;
  for (const std::string& alternative : split_top(type, " | ")) {
    auto [head, inner] = generic(alternative);
    std::string name;
    if (head == "typing.SupportsFloat" || head == "float") { name = "float"; has_float = true; }
    else if (head == "typing.SupportsInt" || head == "typing.SupportsIndex") name = "int";
    else if (head == "typing.Annotated") name = readable(split_top(inner, ",")[0]);
    else if (head == "collections.abc.Sequence" || head == "typing.Sequence" || head == "list")
      name = inner.empty() ? "a list" : "a list of " + readable(inner);
    else if (head == "object" || head == "typing.Any") name = "object";
    else name = last_component(head) + (inner.empty() ? "" : "[" + inner + "]");
    bool seen = false;
    for (const std::string& n : names) seen = seen || n == name;
    if (!seen) names.push_back(name);
  }
  std::string out;
  for (const std::string& n : names) {
    if (has_float && n == "int") continue;  // an int converts to float: "float" says it all
    out += (out.empty() ? "" : " or ") + n;
  }
  return out;
}

std::string describe(PyObject* value) {
  std::string text = py::repr(value);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return std::string(Py_TYPE(value)->tp_name) + " " + text;
}

std::string display_name(const detail::function_record* rec) {
  auto named = property_names().find(rec);
  if (named != property_names().end()) return named->second;
  std::string name = rec->name ? rec->name : "";
  std::string scope;
  if (rec->scope && PyType_Check(rec->scope.ptr())) scope = reinterpret_cast<PyTypeObject*>(rec->scope.ptr())->tp_name;
  scope = last_component(scope);
  if (rec->is_constructor) return scope + "()";
  return (scope.empty() ? "" : scope + ".") + name + "()";
}

struct Diagnosis {
  int score = -1;  // how far the call got before it went wrong (a better match scores higher)
  std::string message;
};

// Why one overload does not take these arguments; an empty message when every value looks acceptable.
Diagnosis diagnose(const detail::function_record* rec, const std::string& who, PyObject* const* args, size_t nargs,
                   PyObject* kwnames) {
  Diagnosis d;
  std::vector<Param> params = parse_signature(rec->signature ? rec->signature : "");
  size_t skip = (rec->is_method || rec->is_constructor) && !params.empty() ? 1 : 0;  // self
  std::vector<const Param*> positional;
  const Param* star_args = nullptr;
  const Param* star_kwargs = nullptr;
  for (size_t i = skip; i < params.size(); ++i) {
    if (params[i].star_args) star_args = &params[i];
    else if (params[i].star_kwargs) star_kwargs = &params[i];
    else if (!params[i].keyword_only) positional.push_back(&params[i]);
  }
  const size_t given = nargs - std::min(nargs, skip);
  std::unordered_set<std::string> bound;
  for (size_t i = 0; i < given; ++i) {
    PyObject* value = args[skip + i];
    if (i >= positional.size()) {
      if (star_args) { d.score = static_cast<int>(i) + 1; continue; }
      d.score = static_cast<int>(i);
      d.message = who + " takes " + std::to_string(positional.size()) + " positional argument" +
                  (positional.size() == 1 ? "" : "s") + " but " + std::to_string(given) + " were given";
      return d;
    }
    const Param& p = *positional[i];
    bound.insert(p.name);
    if (!fits(value, p.type)) {
      d.score = static_cast<int>(i);
      d.message = who + (rec->is_setter || property_names().count(rec) ? ": the assigned value" : ": argument '" + p.name + "'") +
                  " must be " + readable(p.type) + ", got " + describe(value);
      return d;
    }
  }
  const size_t nkw = kwnames ? static_cast<size_t>(PyTuple_GET_SIZE(kwnames)) : 0;
  for (size_t k = 0; k < nkw; ++k) {
    const std::string key = py::str(PyTuple_GET_ITEM(kwnames, k));
    PyObject* value = args[nargs + k];
    const Param* match = nullptr;
    for (size_t i = skip; i < params.size(); ++i)
      if (params[i].name == key && !params[i].star_args && !params[i].star_kwargs) match = &params[i];
    const int score = static_cast<int>(given + k);
    if (!match) {
      if (star_kwargs) continue;
      d.score = score;
      d.message = who + " got an unexpected keyword argument '" + key + "'";
      return d;
    }
    if (bound.count(key)) {
      d.score = score;
      d.message = who + " got multiple values for argument '" + key + "'";
      return d;
    }
    bound.insert(key);
    if (!fits(value, match->type)) {
      d.score = score;
      d.message = who + ": argument '" + key + "' must be " + readable(match->type) + ", got " + describe(value);
      return d;
    }
  }
  for (size_t i = skip; i < params.size(); ++i) {
    const Param& p = params[i];
    if (!p.has_default && !p.star_args && !p.star_kwargs && !bound.count(p.name)) {
      d.score = static_cast<int>(given + nkw);
      d.message = who + ": missing required argument '" + p.name + "' (" + readable(p.type) + ")";
      return d;
    }
  }
  d.score = static_cast<int>(given + nkw) + 1;
  return d;  // every value looks right: the caster refused something finer (a value out of range, say)
}

// "(value: float)" for "(self: Tensor, value: typing.SupportsFloat | typing.SupportsIndex) -> Tensor".
std::string readable_signature(const detail::function_record* rec) {
  const std::vector<Param> params = parse_signature(rec->signature ? rec->signature : "");
  const size_t skip = (rec->is_method || rec->is_constructor) && !params.empty() ? 1 : 0;
  std::string out;
  bool keyword_only = false;
  for (size_t i = skip; i < params.size(); ++i) {
    const Param& p = params[i];
    std::string item;
    if (p.star_args) item = "*" + p.name;
    else if (p.star_kwargs) item = "**" + p.name;
    else {
      if (p.keyword_only && !keyword_only) out += (out.empty() ? "" : ", ") + std::string("*");
      item = p.name + ": " + readable(p.type) + (p.has_default ? " = " + p.default_text : "");
    }
    keyword_only = keyword_only || p.keyword_only || p.star_args;
    out += (out.empty() ? "" : ", ") + item;
  }
  return "(" + out + ")";
}

std::string signature_list(const detail::function_record* overloads) {
  std::string out;
  int count = 0;
  for (const detail::function_record* it = overloads; it; it = it->next) ++count;
  for (const detail::function_record* it = overloads; it; it = it->next)
    out += (out.empty() ? "" : " or ") + readable_signature(it);
  return (count == 1 ? "; it takes " : "; it takes one of ") + out;
}

std::string explain(const detail::function_record* overloads, PyObject* const* args, size_t nargs, PyObject* kwnames) {
  const std::string who = display_name(overloads);
  Diagnosis best;
  for (const detail::function_record* rec = overloads; rec; rec = rec->next) {
    Diagnosis d = diagnose(rec, who, args, nargs, kwnames);
    if (d.score > best.score) best = d;
  }
  if (best.message.empty()) {
    std::string got;
    const size_t skip = (overloads->is_method || overloads->is_constructor) ? 1 : 0;
    for (size_t i = skip; i < nargs; ++i) got += (got.empty() ? "" : ", ") + describe(args[i]);
    const size_t nkw = kwnames ? static_cast<size_t>(PyTuple_GET_SIZE(kwnames)) : 0;
    for (size_t k = 0; k < nkw; ++k)
      got += (got.empty() ? "" : ", ") + std::string(py::str(PyTuple_GET_ITEM(kwnames, k))) + "=" + describe(args[nargs + k]);
    best.message = who + ": could not convert the arguments (" + got + ") to the types it takes";
  }
  const bool setter = overloads->is_setter || property_names().count(overloads);
  return best.message + (setter ? "" : signature_list(overloads));
}

// Replace *value (a TypeError) by one whose message starts "Tensor.sum(): " when it does not name the function.
void name_the_function(const detail::function_record* rec, PyObject* const* args, size_t nargsf, PyObject* kwnames,
                       PyObject** value) {
  PyObject* text = PyObject_Str(*value);
  if (!text) { PyErr_Clear(); return; }
  const char* utf8 = PyUnicode_AsUTF8(text);
  const std::string message = utf8 ? utf8 : "";
  Py_DECREF(text);
  if (!utf8) { PyErr_Clear(); return; }
  const std::string name = rec->name ? rec->name : "";
  if (name.empty() || message.find(name) != std::string::npos) return;
  std::string prefix = display_name(rec);
  const size_t nargs = PyVectorcall_NARGS(nargsf);
  const size_t skip = (rec->is_method || rec->is_constructor) ? 1 : 0;
  const size_t nkw = kwnames ? static_cast<size_t>(PyTuple_GET_SIZE(kwnames)) : 0;
  if (nargs >= skip && nargs - skip + nkw == 1) {
    std::string argument;
    if (nkw == 1) {
      argument = py::str(PyTuple_GET_ITEM(kwnames, 0));
    } else {
      const std::vector<Param> params = parse_signature(rec->signature ? rec->signature : "");
      if (params.size() > skip && !params[skip].star_args) argument = params[skip].name;
    }
    if (!argument.empty() && message.find(argument) == std::string::npos) prefix += ": argument '" + argument + "'";
  }
  PyObject* replacement = PyObject_CallFunction(PyExc_TypeError, "s", (prefix + ": " + message).c_str());
  if (!replacement) { PyErr_Clear(); return; }
  PyException_SetCause(replacement, *value);  // steals the reference to the original
  *value = replacement;
}

PyObject* checked_dispatcher(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  PyObject* result = PybindDispatcher::dispatcher(self, args, nargsf, kwnames);
  if (result || !PyErr_ExceptionMatches(PyExc_TypeError)) return result;
  const detail::function_record* overloads = detail::function_record_ptr_from_PyObject(self);
  PyObject *type, *value, *traceback;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  bool ours = false;
  if (overloads && value) {
    PyObject* text = PyObject_Str(value);
    if (text) {
      const char* utf8 = PyUnicode_AsUTF8(text);
      // Only pybind11's overload failure of this very function; a TypeError raised inside it passes unchanged.
      const std::string prefix = std::string(overloads->name ? overloads->name : "") + "(): incompatible ";
      ours = utf8 && std::strncmp(utf8, prefix.c_str(), prefix.size()) == 0;
      Py_DECREF(text);
    }
    PyErr_Clear();
  }
  if (!ours) {
    // A TypeError raised inside the function ("dim must be an int ..."): make sure it names the function
    // (and the argument, when only one was passed).
    if (overloads && type == PyExc_TypeError && value) name_the_function(overloads, args, nargsf, kwnames, &value);
    PyErr_Restore(type, value, traceback);
    return nullptr;
  }
  try {
    const size_t nargs = PyVectorcall_NARGS(nargsf);
    const std::string message = explain(overloads, args, nargs, kwnames);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    PyErr_SetString(PyExc_TypeError, message.c_str());
  } catch (...) {  // never lose the original error over a failure to improve it
    PyErr_Clear();
    PyErr_Restore(type, value, traceback);
  }
  return nullptr;
}

void patch(py::handle callable, const std::string& property_name) {
  py::handle function = detail::get_function(callable);
  if (!function || !PyCFunction_Check(function.ptr())) return;
  PyObject* self = PyCFunction_GET_SELF(function.ptr());
  const detail::function_record* rec = self ? detail::function_record_ptr_from_PyObject(self) : nullptr;
  if (!rec) return;  // not a pybind11 function
  PyMethodDef* def = reinterpret_cast<PyCFunctionObject*>(function.ptr())->m_ml;
  if (def->ml_meth == reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&PybindDispatcher::dispatcher)))
    def->ml_meth = reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&checked_dispatcher));
  if (!property_name.empty())
    for (const detail::function_record* it = rec; it; it = it->next) property_names()[it] = property_name;
}

void walk_class(py::handle cls, std::unordered_set<PyObject*>& seen) {
  if (!seen.insert(cls.ptr()).second) return;
  const std::string class_name = last_component(reinterpret_cast<PyTypeObject*>(cls.ptr())->tp_name);
  module_classes().insert(class_name);
  py::dict attributes = py::reinterpret_borrow<py::dict>(reinterpret_cast<PyTypeObject*>(cls.ptr())->tp_dict);
  for (auto item : attributes) {
    py::handle value = item.second;
    if (PyType_Check(value.ptr())) {
      walk_class(value, seen);
    } else if (py::isinstance<py::staticmethod>(value)) {
      patch(value.attr("__func__"), "");
    } else if (py::hasattr(value, "fget") && py::hasattr(value, "fset")) {  // property, pybind11 static property
      const std::string name = class_name + "." + std::string(py::str(item.first));
      patch(value.attr("fget"), name);
      patch(value.attr("fset"), name);
    } else {
      patch(value, "");
    }
  }
}

}  // namespace

void install_argument_errors(py::module_& m) {
  std::unordered_set<PyObject*> seen;
  py::dict globals = m.attr("__dict__");
  for (auto item : globals) {
    py::handle value = item.second;
    if (PyType_Check(value.ptr()))
      walk_class(value, seen);
    else
      patch(value, "");
  }
}

}  // namespace gdcore::bind
