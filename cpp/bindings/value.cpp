// gdcore.Value: the scalar teaching API in micrograd's style, bound to the scalar tape
// (gdcore/scalar_tape.hpp), not to the tensor tape.
//
// Why its own tape, and why this file uses the CPython API directly instead of pybind11:
// micrograd-style code does one Python operator per multiply or add, so the whole cost of
// an op is the binding call plus the recording. A Value wrapping a 0-d tensor paid a tensor
// allocation and a tensor-tape Node per op (about 1.3 us, slower than micrograd's pure
// Python); the scalar tape records an op in a few nanoseconds. What remains is the call:
// a pybind11 operator goes through overload dispatch, argument casters and a holder
// allocation: the same tape behind a pybind11 class with separate (Value, Value) and
// (Value, float) overloads and py::is_operator measured 400-600 ns per `a * b` (1.4-2 us
// for `a * 2.0`, which first fails the Value overload), against 49-60 ns for a CPython
// number slot and 23 ns for `x * y` on floats (2026-11-21, docs/benchmarks.md). So Value is a
// small CPython type whose number slots (nb_add, ...) call the tape directly, and freed
// Value objects are reused as CPython reuses floats. There is no math here: the ops and
// their derivatives are in cpp/src/autograd/scalar_tape.cpp.
//
// Semantics (micrograd's, with two documented differences): numbers combine with Values on
// either side; ** takes an int or float exponent; backward() adds d(self)/d(v) to v.grad for
// every v in the graph, so gradients accumulate over calls until set to 0 (micrograd would
// compound the grads of intermediate Values on a second backward through the same graph);
// log, division by zero and overflow give nan/inf as numpy does (micrograd's floats raise).
#include <Python.h>

#include <cmath>
#include <new>
#include <string>
#include <unordered_map>

#include "gdcore/scalar_tape.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {

using scalar::ScalarNode;
using scalar::ScalarOp;

struct PyValue {
  PyObject_HEAD
  ScalarNode* node;  // one reference, never null after construction
  PyObject* label;   // a str, or null for ''
  PyObject* given;   // (children tuple, op str) from Value(data, _children, _op), or null
  bool canonical;    // this object is what _prev hands out for its node (see canonical_values)
};

PyTypeObject* value_type = nullptr;

// Every op makes a Value and most die at once, so freed ones are kept for reuse, as CPython
// does for floats. The GIL guards this list as it guards every Value.
constexpr int kMaxFreeValues = 256;
PyValue* free_values[kMaxFreeValues];
int free_value_count = 0;

// micrograd's tools walk a graph through v._prev and tell Values apart by identity (sets of
// Values, id(v) as the drawing's node name), so a node must come back as the same object every
// time. A node knows nothing of Python objects (and must stay small), so this map says which
// Value object stands for a node: the one made by the constructor, the one given a label, or the
// one _prev made. Ops never touch it (a Value made by an op is registered only when something
// asks for it), and an object leaves it when it dies; it holds a reference to its node, so the
// node outlives its entry.
std::unordered_map<ScalarNode*, PyObject*> canonical_values;

void make_canonical(PyObject* o, bool take_over = false);

bool is_value(PyObject* o) { return Py_IS_TYPE(o, value_type) || PyObject_TypeCheck(o, value_type); }
ScalarNode* node_of(PyObject* o) { return reinterpret_cast<PyValue*>(o)->node; }

// A new Value owning `n` (steals its reference); null with a Python error on failure.
PyObject* wrap(ScalarNode* n) {
  PyValue* v;
  if (free_value_count > 0) {
    v = free_values[--free_value_count];
    PyObject_Init(reinterpret_cast<PyObject*>(v), value_type);
  } else if (!(v = PyObject_New(PyValue, value_type))) {
    scalar::release(n);
    return nullptr;
  }
  v->node = n;
  v->label = nullptr;
  v->given = nullptr;
  v->canonical = false;
  return reinterpret_cast<PyObject*>(v);
}

// Registers `o` for its node unless another object already stands for it; `take_over` replaces
// that one (a Value given a label is the one a drawing must show).
void make_canonical(PyObject* o, bool take_over) {
  auto* v = reinterpret_cast<PyValue*>(o);
  if (v->canonical) return;
  auto [it, inserted] = canonical_values.emplace(v->node, o);
  if (!inserted && take_over) {
    reinterpret_cast<PyValue*>(it->second)->canonical = false;
    it->second = o;
    inserted = true;
  }
  v->canonical = inserted;
}

void drop_canonical(PyValue* v) {
  if (!v->canonical) return;
  auto it = canonical_values.find(v->node);
  if (it != canonical_values.end() && it->second == reinterpret_cast<PyObject*>(v)) canonical_values.erase(it);
  v->canonical = false;
}

// The Value object that stands for node `n` (a new reference): the registered one, or a new
// Value holding a reference to `n`, registered from now on.
PyObject* value_for(ScalarNode* n) {
  auto it = canonical_values.find(n);
  if (it != canonical_values.end()) return Py_NewRef(it->second);
  scalar::retain(n);
  PyObject* o = wrap(n);
  if (o) make_canonical(o);
  return o;
}

// Runs a tape call, turning a C++ exception into a Python one.
template <typename F>
PyObject* guarded(F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  }
}

// An int or float operand (bool and float subclasses such as numpy.float64 included).
// Returns false with no error set for any other type, false with an error on int overflow.
bool number_operand(PyObject* o, double& out) {
  if (PyFloat_Check(o)) {
    out = PyFloat_AS_DOUBLE(o);
    return true;
  }
  if (PyLong_Check(o)) {
    out = PyLong_AsDouble(o);
    return !(out == -1.0 && PyErr_Occurred());
  }
  return false;
}

std::string describe(PyObject* o) {
  std::string out = Py_TYPE(o)->tp_name;
  if (PyObject* r = PyObject_Repr(o)) {
    if (const char* s = PyUnicode_AsUTF8(r)) out += " " + std::string(s).substr(0, 80);
    Py_DECREF(r);
  }
  PyErr_Clear();
  return out;
}

PyObject* operand_error(const char* symbol, PyObject* other, bool value_on_left) {
  const std::string what = value_on_left ? std::string("Value ") + symbol + " x" : std::string("x ") + symbol + " Value";
  PyErr_Format(PyExc_TypeError, "%s: expected a Value or a number (int or float) for x, got %s; convert it with float(x) first",
               what.c_str(), describe(other).c_str());
  return nullptr;
}

// A real number for the constructor and the .data/.grad setters: anything float() accepts
// except str and Value (which would silently drop its graph).
bool real_number(PyObject* o, const char* what, double& out) {
  if (PyFloat_CheckExact(o)) {  // the common case (p.grad = 0.0), before any subclass check
    out = PyFloat_AS_DOUBLE(o);
    return true;
  }
  if (is_value(o)) {
    PyErr_Format(PyExc_TypeError, "%s: got a Value; pass a number (use v.data for a Value's number)", what);
    return false;
  }
  if (!PyUnicode_Check(o) && !PyBytes_Check(o)) {
    out = PyFloat_AsDouble(o);
    if (!(out == -1.0 && PyErr_Occurred())) return true;
    if (!PyErr_ExceptionMatches(PyExc_TypeError)) return false;  // e.g. OverflowError for a huge int: keep it
    PyErr_Clear();
  }
  PyErr_Format(PyExc_TypeError, "%s: expected a real number (int or float), got %s; convert it with float(x) first", what,
               describe(o).c_str());
  return false;
}

// What an operand of a number slot is. Exact Value and float come first: the subclass
// checks walk the MRO, which costs as much as the op itself.
enum class Operand { Value, Number, Other, Error };
Operand classify(PyObject* o, double& number) {
  if (Py_IS_TYPE(o, value_type)) return Operand::Value;
  if (PyFloat_CheckExact(o)) {
    number = PyFloat_AS_DOUBLE(o);
    return Operand::Number;
  }
  if (is_value(o)) return Operand::Value;
  if (number_operand(o, number)) return Operand::Number;
  return PyErr_Occurred() ? Operand::Error : Operand::Other;
}

// a <op> b for the number slots: Value op Value, Value op number, or number op Value.
template <ScalarOp kBoth, ScalarOp kNumberRight, ScalarOp kNumberLeft>
PyObject* binary(PyObject* a, PyObject* b, const char* symbol) {
  return guarded([&]() -> PyObject* {
    double c;
    const Operand left = classify(a, c);
    if (left == Operand::Error) return nullptr;
    if (left == Operand::Number) return wrap(scalar::apply(kNumberLeft, node_of(b), c));  // then b is the Value
    if (left == Operand::Other) return operand_error(symbol, a, false);
    switch (classify(b, c)) {
      case Operand::Value: return wrap(scalar::apply(kBoth, node_of(a), node_of(b)));
      case Operand::Number: return wrap(scalar::apply(kNumberRight, node_of(a), c));
      case Operand::Other: return operand_error(symbol, b, true);
      case Operand::Error: break;
    }
    return nullptr;
  });
}

// c + a == a + c and c * a == a * c exactly in IEEE arithmetic, so one op serves both sides.
PyObject* value_add(PyObject* a, PyObject* b) { return binary<ScalarOp::Add, ScalarOp::AddConst, ScalarOp::AddConst>(a, b, "+"); }
PyObject* value_sub(PyObject* a, PyObject* b) { return binary<ScalarOp::Sub, ScalarOp::SubConst, ScalarOp::RSubConst>(a, b, "-"); }
PyObject* value_mul(PyObject* a, PyObject* b) { return binary<ScalarOp::Mul, ScalarOp::MulConst, ScalarOp::MulConst>(a, b, "*"); }
PyObject* value_div(PyObject* a, PyObject* b) { return binary<ScalarOp::Div, ScalarOp::DivConst, ScalarOp::RDivConst>(a, b, "/"); }

PyObject* value_pow(PyObject* a, PyObject* b, PyObject* mod) {
  if (mod != Py_None) {
    PyErr_SetString(PyExc_TypeError, "pow(Value, x, mod): a modulus is not supported; use pow(v, x) or v ** x");
    return nullptr;
  }
  if (!is_value(a)) {
    PyErr_Format(PyExc_TypeError, "x ** Value is not supported (only int/float powers of a Value), got x = %s; "
                 "write (v * math.log(x)).exp() for x ** v", describe(a).c_str());
    return nullptr;
  }
  double c;
  const Operand exponent = classify(b, c);
  if (exponent == Operand::Number) return guarded([&] { return wrap(scalar::apply(ScalarOp::PowConst, node_of(a), c)); });
  if (exponent == Operand::Error) return nullptr;
  if (exponent == Operand::Value) {
    PyErr_SetString(PyExc_TypeError, "Value ** Value: only int/float powers are supported, as in micrograd; "
                    "write (b * a.log()).exp() for a ** b with a Value exponent b (a > 0)");
  } else {
    PyErr_Format(PyExc_TypeError, "Value ** x: only int/float powers are supported, got %s", describe(b).c_str());
  }
  return nullptr;
}

template <ScalarOp kOp>
PyObject* unary(PyObject* self, PyObject* /*unused*/ = nullptr) {
  return guarded([&] { return wrap(scalar::apply(kOp, node_of(self))); });
}
PyObject* value_neg(PyObject* self) { return unary<ScalarOp::Neg>(self); }
PyObject* value_float(PyObject* self) { return PyFloat_FromDouble(node_of(self)->data); }

PyObject* value_backward(PyObject* self, PyObject*) {
  return guarded([&] {
    scalar::backward(node_of(self));
    Py_RETURN_NONE;
  });
}

// Value(data, _children=(), _op='', label=''), micrograd's signature. _children and _op are kept
// for _prev and _op (graph drawings): the new Value is a leaf of the tape all the same, as a
// micrograd Value built this way is until someone gives it a _backward.
PyObject* value_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"data", "_children", "_op", "label", nullptr};
  PyObject* data = nullptr;
  PyObject* children = nullptr;
  PyObject* op = nullptr;
  PyObject* label = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OOO:Value", const_cast<char**>(keywords), &data, &children, &op,
                                   &label))
    return nullptr;
  double x;
  if (!real_number(data, "Value(data)", x)) return nullptr;
  if (label && !PyUnicode_Check(label)) {
    PyErr_Format(PyExc_TypeError, "Value(label=...): label must be a str, got %s", describe(label).c_str());
    return nullptr;
  }
  if (op && !PyUnicode_Check(op)) {
    PyErr_Format(PyExc_TypeError, "Value(_op=...): _op must be a str (the op's symbol, e.g. '+'), got %s",
                 describe(op).c_str());
    return nullptr;
  }
  PyObject* given = nullptr;
  if ((children && children != Py_None) || (op && PyUnicode_GET_LENGTH(op) > 0)) {
    PyObject* kids = children && children != Py_None ? PySequence_Tuple(children) : PyTuple_New(0);
    if (!kids) {
      if (PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "Value(_children=...): expected a tuple of Values, got %s", describe(children).c_str());
      }
      return nullptr;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kids); ++i)
      if (!is_value(PyTuple_GET_ITEM(kids, i))) {
        PyErr_Format(PyExc_TypeError, "Value(_children=...): child %zd is %s; expected Values", i,
                     describe(PyTuple_GET_ITEM(kids, i)).c_str());
        Py_DECREF(kids);
        return nullptr;
      }
    given = Py_BuildValue("(NO)", kids, op ? op : Py_None);
    if (!given) return nullptr;
  }
  auto* v = reinterpret_cast<PyValue*>(type->tp_alloc(type, 0));
  if (!v) {
    Py_XDECREF(given);
    return nullptr;
  }
  v->node = nullptr;
  v->label = nullptr;
  v->given = given;
  v->canonical = false;
  try {
    v->node = scalar::make_leaf(x);
    make_canonical(reinterpret_cast<PyObject*>(v));  // `a in c._prev` is True for the a the user made
  } catch (const std::bad_alloc&) {
    Py_DECREF(v);
    return PyErr_NoMemory();
  }
  if (label && PyUnicode_GET_LENGTH(label) > 0) v->label = Py_NewRef(label);
  return reinterpret_cast<PyObject*>(v);
}

void value_dealloc(PyObject* self) {
  auto* v = reinterpret_cast<PyValue*>(self);
  drop_canonical(v);
  if (v->node) scalar::release(v->node);
  Py_CLEAR(v->label);
  Py_CLEAR(v->given);
  PyTypeObject* type = Py_TYPE(self);
  if (type == value_type && free_value_count < kMaxFreeValues) {
    free_values[free_value_count++] = v;  // PyObject_Init in wrap() takes the type reference again
  } else {
    type->tp_free(self);
  }
  Py_DECREF(type);  // instances of heap types own a reference to their type
}

PyObject* format_double(double x) {  // as repr(float(x))
  char* s = PyOS_double_to_string(x, 'r', 0, Py_DTSF_ADD_DOT_0, nullptr);
  if (!s) return nullptr;
  PyObject* out = PyUnicode_FromString(s);
  PyMem_Free(s);
  return out;
}

PyObject* value_repr(PyObject* self) {
  PyObject* data = format_double(node_of(self)->data);
  PyObject* grad = data ? format_double(node_of(self)->grad) : nullptr;
  PyObject* out = grad ? PyUnicode_FromFormat("Value(data=%U, grad=%U)", data, grad) : nullptr;
  Py_XDECREF(data);
  Py_XDECREF(grad);
  return out;
}

bool refuse_delete(PyObject* value, const char* name) {
  if (value) return false;
  PyErr_Format(PyExc_TypeError, "cannot delete Value.%s; assign a number instead", name);
  return true;
}

PyObject* get_data(PyObject* self, void*) { return PyFloat_FromDouble(node_of(self)->data); }
int set_data(PyObject* self, PyObject* value, void*) {
  double x;
  if (refuse_delete(value, "data") || !real_number(value, "Value.data", x)) return -1;
  auto* v = reinterpret_cast<PyValue*>(self);
  if (v->node->op == ScalarOp::Leaf) {
    v->node->data = x;  // graphs built from this leaf see the new number, as in micrograd
    return 0;
  }
  // A computed Value that is assigned a number becomes a fresh leaf holding it; the graph
  // it was computed in (and the Values built from it) keep the old node.
  try {
    ScalarNode* leaf = scalar::make_leaf(x);
    const bool was_canonical = v->canonical;
    drop_canonical(v);
    scalar::release(v->node);
    v->node = leaf;
    if (was_canonical) make_canonical(self);
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
    return -1;
  }
  return 0;
}

PyObject* get_grad(PyObject* self, void*) { return PyFloat_FromDouble(node_of(self)->grad); }
int set_grad(PyObject* self, PyObject* value, void*) {
  double g;
  if (refuse_delete(value, "grad") || !real_number(value, "Value.grad", g)) return -1;
  node_of(self)->grad = g;
  return 0;
}

PyObject* get_label(PyObject* self, void*) {
  PyObject* label = reinterpret_cast<PyValue*>(self)->label;
  return label ? Py_NewRef(label) : PyUnicode_FromStringAndSize("", 0);
}
int set_label(PyObject* self, PyObject* value, void*) {
  if (refuse_delete(value, "label")) return -1;
  if (!PyUnicode_Check(value)) {
    PyErr_Format(PyExc_TypeError, "Value.label must be a str, got %s", describe(value).c_str());
    return -1;
  }
  Py_XSETREF(reinterpret_cast<PyValue*>(self)->label, Py_NewRef(value));
  make_canonical(self, /*take_over=*/true);  // a labelled Value is the one drawings show for its node
  return 0;
}

// micrograd's spelling of each op (its Value has + * ** relu tanh exp; the others are named here).
const char* op_symbol(ScalarOp op) {
  switch (op) {
    case ScalarOp::Leaf: return "";
    case ScalarOp::Add: case ScalarOp::AddConst: return "+";
    case ScalarOp::Sub: case ScalarOp::SubConst: case ScalarOp::RSubConst: return "-";
    case ScalarOp::Mul: case ScalarOp::MulConst: return "*";
    case ScalarOp::Div: case ScalarOp::DivConst: case ScalarOp::RDivConst: return "/";
    case ScalarOp::PowConst: return "**";
    case ScalarOp::Neg: return "neg";
    case ScalarOp::Relu: return "ReLU";
    case ScalarOp::Tanh: return "tanh";
    case ScalarOp::Exp: return "exp";
    case ScalarOp::Log: return "log";
    case ScalarOp::Sigmoid: return "sigmoid";
    case ScalarOp::Count: break;
  }
  return "?";
}

PyObject* get_op(PyObject* self, void*) {
  auto* v = reinterpret_cast<PyValue*>(self);
  if (v->given) {
    PyObject* op = PyTuple_GET_ITEM(v->given, 1);
    return op == Py_None ? PyUnicode_FromStringAndSize("", 0) : Py_NewRef(op);
  }
  const ScalarNode& n = *v->node;
  if (n.op != ScalarOp::PowConst) return PyUnicode_FromString(op_symbol(n.op));
  // f'**{other}' as micrograd writes it: '**2' and '**-1' for the usual integer exponents.
  PyObject* number = n.constant == static_cast<double>(static_cast<long long>(n.constant)) && std::abs(n.constant) < 1e15
                         ? PyLong_FromLongLong(static_cast<long long>(n.constant))
                         : PyFloat_FromDouble(n.constant);
  if (!number) return nullptr;
  PyObject* out = PyUnicode_FromFormat("**%R", number);
  Py_DECREF(number);
  return out;
}

// The set of Values `self` was computed from, made when asked (ops never build it). A number
// that an op took (a + 1, 2 * a) appears as a Value holding it, as micrograd's operators wrap
// numbers; the exponent of ** does not (micrograd keeps it in _op).
PyObject* get_prev(PyObject* self, void*) {
  auto* v = reinterpret_cast<PyValue*>(self);
  if (v->given) return PySet_New(PyTuple_GET_ITEM(v->given, 0));
  PyObject* out = PySet_New(nullptr);
  if (!out) return nullptr;
  const ScalarNode& n = *v->node;
  PyObject* items[2] = {nullptr, nullptr};
  const int inputs = scalar::value_inputs(n.op);
  if (inputs >= 1) items[0] = value_for(n.a);
  if (inputs == 2) {
    items[1] = value_for(n.b);
  } else if (n.op >= ScalarOp::AddConst && n.op <= ScalarOp::RDivConst) {
    try {
      items[1] = wrap(scalar::make_leaf(n.constant));
    } catch (const std::bad_alloc&) {
      PyErr_NoMemory();
    }
  }
  bool ok = !PyErr_Occurred();
  for (PyObject* item : items)
    if (item) {
      ok = ok && PySet_Add(out, item) == 0;
      Py_DECREF(item);
    }
  if (!ok) Py_CLEAR(out);
  return out;
}

PyObject* get_tensor(PyObject* self, void*) {
  try {
    return py::cast(scalar_tensor(node_of(self)->data, DType::Float64)).release().ptr();
  } catch (py::error_already_set& e) {
    e.restore();
    return nullptr;
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  }
}

PyGetSetDef value_getset[] = {
    {"data", get_data, set_data, "The number (float). Assigning to a computed Value makes it a fresh leaf.", nullptr},
    {"grad", get_grad, set_grad, "d(root)/d(self) summed over backward() calls (float); set it to 0.0 to reset.", nullptr},
    {"label", get_label, set_label, "A name for printing graphs (str, '' by default).", nullptr},
    {"_prev", get_prev, nullptr,
     "The set of Values this one was computed from (micrograd's _prev); numbers an op took appear as Values. "
     "Empty for a leaf, or the _children given to the constructor.", nullptr},
    {"_op", get_op, nullptr,
     "The op that made this Value, spelled as micrograd does ('+', '*', '**2', 'ReLU', 'tanh', 'exp'; also '-', '/', "
     "'neg', 'log', 'sigmoid'); '' for a leaf, or the _op given to the constructor.", nullptr},
    {"tensor", get_tensor, nullptr,
     "The number as a new 0-d float64 gdcore.Tensor, detached (requires_grad=False): Values record on the scalar "
     "tape, not on the tensor tape, so gradients do not flow between the two.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyMethodDef value_methods[] = {
    {"relu", unary<ScalarOp::Relu>, METH_NOARGS, "relu($self, /)\n--\n\nmax(x, 0) as a new Value (derivative 0 at 0)."},
    {"tanh", unary<ScalarOp::Tanh>, METH_NOARGS, "tanh($self, /)\n--\n\ntanh(x) as a new Value."},
    {"exp", unary<ScalarOp::Exp>, METH_NOARGS, "exp($self, /)\n--\n\nexp(x) as a new Value (inf on overflow)."},
    {"log", unary<ScalarOp::Log>, METH_NOARGS,
     "log($self, /)\n--\n\nThe natural log as a new Value: nan for x < 0 and -inf for x = 0, as numpy gives."},
    {"sigmoid", unary<ScalarOp::Sigmoid>, METH_NOARGS, "sigmoid($self, /)\n--\n\n1 / (1 + exp(-x)) as a new Value."},
    {"backward", value_backward, METH_NOARGS,
     "backward($self, /)\n--\n\nAdds d(self)/d(v) to v.grad for every Value v that self was computed from (self.grad "
     "gets 1). Gradients accumulate over calls until reset with v.grad = 0.0; the graph can be walked again."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot value_slots[] = {
    {Py_tp_doc, const_cast<char*>(
        "Value(data, _children=(), _op='', label='')\n--\n\n"
        "A float64 scalar with a gradient, as micrograd's Value: + - * / with Values or numbers on either side, "
        "** with an int or float exponent, relu/tanh/exp/log/sigmoid, backward(), .data, .grad, .label, ._prev, ._op. "
        "Recorded on gdcore's scalar tape (a tape of its own, built for speed; see the README's design section).")},
    {Py_tp_new, reinterpret_cast<void*>(value_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(value_dealloc)},
    {Py_tp_repr, reinterpret_cast<void*>(value_repr)},
    {Py_tp_getset, value_getset},
    {Py_tp_methods, value_methods},
    {Py_nb_add, reinterpret_cast<void*>(value_add)},
    {Py_nb_subtract, reinterpret_cast<void*>(value_sub)},
    {Py_nb_multiply, reinterpret_cast<void*>(value_mul)},
    {Py_nb_true_divide, reinterpret_cast<void*>(value_div)},
    {Py_nb_power, reinterpret_cast<void*>(value_pow)},
    {Py_nb_negative, reinterpret_cast<void*>(value_neg)},
    {Py_nb_float, reinterpret_cast<void*>(value_float)},
    {0, nullptr},
};

PyType_Spec value_spec = {"gdcore._core.Value", sizeof(PyValue), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, value_slots};

}  // namespace

void bind_value(py::module_& m) {
  PyObject* type = PyType_FromSpec(&value_spec);
  if (!type) throw py::error_already_set();
  value_type = reinterpret_cast<PyTypeObject*>(type);
  m.add_object("Value", py::reinterpret_steal<py::object>(type));
  m.def("_scalar_tape_stats", [] {
    const scalar::ScalarTapeStats s = scalar::tape_stats();
    return py::dict(py::arg("live_nodes") = s.live_nodes, py::arg("reserved_nodes") = s.reserved_nodes);
  }, "Scalar-tape pool counters summed over threads: live_nodes (Value nodes not yet freed) and reserved_nodes "
     "(pool capacity). For tests and leak checks.");
}

}  // namespace gdcore::bind
