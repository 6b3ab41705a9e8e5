// gather/scatter, index_put, sort/topk/unique as module functions and Tensor methods, with
// torch's names, argument names and defaults. (values, indices) pairs come back as named
// tuples like torch.return_types. In-place variants are recorded whole for gdcore.compile.
#include <map>

#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {

py::object pair(const char* name, const ValuesIndices& r) {
  // (Made once and never freed: a Python object destroyed after the interpreter has finalised would crash.)
  static auto* types = new std::map<std::string, py::object>();
  auto it = types->find(name);
  if (it == types->end())
    it = types->emplace(name, py::module_::import("collections").attr("namedtuple")(name, py::make_tuple("values", "indices"))).first;
  return it->second(r.values, r.indices);
}

ScatterReduce reduce_from(py::object reduce) {
  if (reduce.is_none()) return ScatterReduce::None;
  const std::string r = py::str(reduce);
  if (r == "add") return ScatterReduce::Add;
  if (r == "multiply") return ScatterReduce::Multiply;
  throw py::value_error("scatter(): reduce must be 'add' or 'multiply', got '" + r + "'");
}

// scatter's fourth argument: a tensor (src) or a Python number (value, in self's dtype).
Tensor scatter_source(const Tensor& self, const Tensor& index, py::handle src) {
  if (py::isinstance<TensorImpl>(src)) return src.cast<Tensor>();
  if (PyFloat_Check(src.ptr()) || PyLong_Check(src.ptr()) || PyBool_Check(src.ptr()))
    return expand(scalar_tensor(src.cast<double>(), self.dtype()), index.shape());
  throw py::type_error("scatter(): src must be a tensor or a number (value), got " + std::string(py::repr(src)));
}

Tensor scatter_any(const Tensor& self, int64_t dim, const Tensor& index, py::object src, py::object value,
                   py::object reduce) {
  if (src.is_none() == value.is_none())
    throw py::type_error("scatter(): pass exactly one of src (a tensor) and value (a number)");
  return scatter(self, dim, index, scatter_source(self, index, src.is_none() ? value : src), reduce_from(reduce));
}

std::vector<Tensor> index_list(py::handle indices) {
  if (py::isinstance<TensorImpl>(indices)) return {indices.cast<Tensor>()};
  if (!py::isinstance<py::tuple>(indices) && !py::isinstance<py::list>(indices))
    throw py::type_error("index_put: argument 'indices' must be a tuple of tensors, got " + std::string(py::repr(indices)));
  std::vector<Tensor> out;
  for (py::handle h : indices) {
    if (!py::isinstance<TensorImpl>(h))
      throw py::type_error("index_put: argument 'indices' must be a tuple of tensors, got an element " +
                           std::string(py::repr(h)));
    out.push_back(h.cast<Tensor>());
  }
  return out;
}

Tensor values_for(const Tensor& self, py::handle values) {
  std::optional<Tensor> v;
  try {
    v = operand(self, values);
  } catch (const std::exception& e) {  // (data numpy cannot convert: say which argument it was)
    throw py::type_error(std::string("index_put: argument 'values' must be a tensor or a number: ") + e.what());
  }
  if (!v) throw py::type_error("index_put: values must be a tensor or a number, got " + std::string(py::repr(values)));
  return *v;
}

// An in-place op: for gdcore.compile, one entry that repeats it (the ops inside are not recorded twice).
void in_place(const char* name, const std::vector<Tensor>& operands, std::function<void(const std::vector<Tensor>&)> f) {
  if (capture::is_capturing()) {
    capture::on_inplace(name, operands, f);
    capture::PauseGuard pause;
    f(operands);
    return;
  }
  f(operands);
}

py::object unique_result(const Tensor& t, bool sorted, bool return_inverse, bool return_counts, py::object dim) {
  UniqueResult r = unique(t, sorted, return_inverse, return_counts,
                          dim.is_none() ? std::nullopt : std::optional<int64_t>(dim.cast<int64_t>()));
  if (!return_inverse && !return_counts) return py::cast(r.values);
  py::list out;
  out.append(r.values);
  if (return_inverse) out.append(r.inverse);
  if (return_counts) out.append(r.counts);
  return py::tuple(out);
}

std::optional<int64_t> opt_dim(py::object dim) {
  return dim.is_none() ? std::nullopt : std::optional<int64_t>(dim.cast<int64_t>());
}

}  // namespace

void bind_indexing(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<TensorImpl, std::shared_ptr<TensorImpl>>>(m.attr("Tensor"));

  // ---- gather and scatter ----
  m.def("gather", &gather, py::arg("input"), py::arg("dim"), py::arg("index"),
        "out[i][j][k] = input[i][index[i][j][k]][k] (for dim=1); index has input's number of dims.");
  cls.def("gather", &gather, py::arg("dim"), py::arg("index"));
  m.def("scatter", &scatter_any, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("src") = py::none(),
        py::kw_only(), py::arg("value") = py::none(), py::arg("reduce") = py::none(),
        "A copy of input with out[i][index[i][j][k]][k] = src[i][j][k] (dim=1); src may be a number.");
  cls.def("scatter", &scatter_any, py::arg("dim"), py::arg("index"), py::arg("src") = py::none(), py::kw_only(),
          py::arg("value") = py::none(), py::arg("reduce") = py::none());
  cls.def("scatter_", [](const Tensor& t, int64_t dim, const Tensor& index, py::object src, py::object value,
                         py::object reduce) {
        if (src.is_none() == value.is_none())
          throw py::type_error("scatter_(): pass exactly one of src (a tensor) and value (a number)");
        const Tensor s = scatter_source(t, index, src.is_none() ? value : src);
        const ScatterReduce r = reduce_from(reduce);
        in_place("scatter_", {t, index, s}, [dim, r](const std::vector<Tensor>& x) {
          write_back(x[0], scatter(x[0], dim, x[1], x[2], r), "scatter_");
        });
        return t;
      }, py::arg("dim"), py::arg("index"), py::arg("src") = py::none(), py::kw_only(), py::arg("value") = py::none(),
      py::arg("reduce") = py::none());
  m.def("scatter_add", &scatter_add, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("src"));
  cls.def("scatter_add", &scatter_add, py::arg("dim"), py::arg("index"), py::arg("src"));
  cls.def("scatter_add_", [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src) {
        in_place("scatter_add_", {t, index, src}, [dim](const std::vector<Tensor>& x) {
          write_back(x[0], scatter_add(x[0], dim, x[1], x[2]), "scatter_add_");
        });
        return t;
      }, py::arg("dim"), py::arg("index"), py::arg("src"));
  auto index_add_fn = [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source, double alpha) {
    return index_add(t, dim, index, source, alpha);
  };
  m.def("index_add", index_add_fn, py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(),
        py::arg("alpha") = 1.0, "A copy of input with alpha * source[..., j, ...] added at input[..., index[j], ...].");
  cls.def("index_add", index_add_fn, py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(),
          py::arg("alpha") = 1.0);
  cls.def("index_add_", [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source, double alpha) {
        in_place("index_add_", {t, index, source}, [dim, alpha](const std::vector<Tensor>& x) {
          write_back(x[0], index_add(x[0], dim, x[1], x[2], alpha), "index_add_");
        });
        return t;
      }, py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(), py::arg("alpha") = 1.0);
  m.def("take_along_dim", [](const Tensor& t, const Tensor& idx, py::object dim) { return take_along_dim(t, idx, opt_dim(dim)); },
        py::arg("input"), py::arg("indices"), py::arg("dim") = py::none(),
        "gather with input and indices broadcast against each other except along dim (flattened when dim is None).");
  cls.def("take_along_dim", [](const Tensor& t, const Tensor& idx, py::object dim) { return take_along_dim(t, idx, opt_dim(dim)); },
          py::arg("indices"), py::arg("dim") = py::none());

  m.def("masked_select", &masked_select, py::arg("input"), py::arg("mask"),
        "The elements of input where the bool mask (broadcast with input) is True, as a 1-d tensor.");
  cls.def("masked_select", &masked_select, py::arg("mask"));

  // ---- index_put ----
  m.def("index_put", [](const Tensor& t, py::handle indices, py::handle values, bool accumulate) {
        const std::vector<Tensor> idx = index_list(indices);  // (checked first: argument order)
        return index_put(t, idx, values_for(t, values), accumulate);
      }, py::arg("input"), py::arg("indices"), py::arg("values"), py::arg("accumulate") = false,
      "A copy of input with input[indices] = values (accumulate=True: += values, duplicates adding up).");
  cls.def("index_put", [](const Tensor& t, py::handle indices, py::handle values, bool accumulate) {
        const std::vector<Tensor> idx = index_list(indices);
        return index_put(t, idx, values_for(t, values), accumulate);
      }, py::arg("indices"), py::arg("values"), py::arg("accumulate") = false);
  cls.def("index_put_", [](const Tensor& t, py::handle indices, py::handle values, bool accumulate) {
        const std::vector<Tensor> idx = index_list(indices);
        std::vector<Tensor> operands{t, values_for(t, values)};
        operands.insert(operands.end(), idx.begin(), idx.end());
        in_place("index_put_", operands, [accumulate](const std::vector<Tensor>& x) {
          index_put_(x[0], std::vector<Tensor>(x.begin() + 2, x.end()), x[1], accumulate);
        });
        return t;
      }, py::arg("indices"), py::arg("values"), py::arg("accumulate") = false);

  // ---- sorting ----
  auto sort_fn = [](const Tensor& t, int64_t dim, bool descending, bool stable) {
    return pair("sort", sort(t, dim, descending, stable));
  };
  m.def("sort", sort_fn, py::arg("input"), py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(),
        py::arg("stable") = false, "(values, indices) sorted along dim; ties keep their order; NaN sorts last.");
  cls.def("sort", sort_fn, py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(), py::arg("stable") = false);
  m.def("argsort", &argsort, py::arg("input"), py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(),
        py::arg("stable") = false);
  cls.def("argsort", &argsort, py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(), py::arg("stable") = false);
  auto topk_fn = [](const Tensor& t, int64_t k, int64_t dim, bool largest, bool sorted) {
    return pair("topk", topk(t, k, dim, largest, sorted));
  };
  m.def("topk", topk_fn, py::arg("input"), py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true,
        py::arg("sorted") = true, "(values, indices) of the k largest (or smallest) elements along dim, in order.");
  cls.def("topk", topk_fn, py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true, py::arg("sorted") = true);
  m.def("unique", &unique_result, py::arg("input"), py::arg("sorted") = true, py::arg("return_inverse") = false,
        py::arg("return_counts") = false, py::arg("dim") = py::none(),
        "The distinct values (or slices along dim), sorted; optionally the inverse map and the counts. No gradient.");
  cls.def("unique", &unique_result, py::arg("sorted") = true, py::arg("return_inverse") = false,
          py::arg("return_counts") = false, py::arg("dim") = py::none());
}

}  // namespace gdcore::bind
