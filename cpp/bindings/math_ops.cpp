// Bindings of the everyday math ops (gdcore/ops_math.hpp) and the classification losses.
// Public names take plain arguments; the underscored ones are called by gdcore/mathops.py,
// gdcore/linalg.py and nn/functional_losses.py, which parse torch's argument forms first.
#include "gdcore/linalg.hpp"
#include "gdcore/linalg_solvers.hpp"
#include "gdcore/ops_math.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {

namespace {
Reduction loss_reduction(const std::string& r, const char* op) {
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  if (r == "none") return Reduction::None;
  throw py::value_error(std::string(op) + ": reduction must be 'mean', 'sum' or 'none', got '" + r + "'");
}
}  // namespace

void bind_math(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;
  m.def("_softmax", &softmax, py::arg("input"), py::arg("dim"), Release());
  m.def("_log_softmax", &log_softmax, py::arg("input"), py::arg("dim"), Release());
  m.def("_logsumexp", [](const Tensor& t, py::object dim, bool keepdim) { return logsumexp(t, dims_from(dim), keepdim); },
        py::arg("input"), py::arg("dim"), py::arg("keepdim") = false);
  m.def("_vector_norm", [](const Tensor& t, double ord, py::object dim, bool keepdim) {
          return vector_norm(t, ord, dims_from(dim), keepdim);
        }, py::arg("input"), py::arg("ord"), py::arg("dim"), py::arg("keepdim") = false);
  m.def("_var", [](const Tensor& t, py::object dim, double correction, bool keepdim) {
          return var(t, dims_from(dim), correction, keepdim);
        }, py::arg("input"), py::arg("dim"), py::arg("correction"), py::arg("keepdim") = false);
  m.def("_std", [](const Tensor& t, py::object dim, double correction, bool keepdim) {
          return gdcore::std(t, dims_from(dim), correction, keepdim);
        }, py::arg("input"), py::arg("dim"), py::arg("correction"), py::arg("keepdim") = false);
  m.def("_cumsum", [](const Tensor& t, int64_t dim) { return cumsum(t, dim); }, py::arg("input"), py::arg("dim"));
  m.def("_prod", [](const Tensor& t, std::optional<int64_t> dim, bool keepdim) { return prod(t, dim, keepdim); },
        py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false);
  m.def("dot", &dot, py::arg("input"), py::arg("other"));
  m.def("mv", &mv, py::arg("input"), py::arg("vec"));
  m.def("outer", &outer, py::arg("input"), py::arg("vec2"));
  for (auto [name, fn] : std::initializer_list<std::pair<const char*, Tensor (*)(const Tensor&)>>{
           {"floor", &floor}, {"ceil", &ceil}, {"_round", &round}, {"trunc", &trunc}, {"erf", &erf},
           {"erfinv", &erfinv}, {"log1p", &log1p}, {"expm1", &expm1}, {"log2", &log2}, {"log10", &log10},
           {"rsqrt", &rsqrt}, {"reciprocal", &reciprocal}, {"square", &square}})
    m.def(name, fn, py::arg("input"));
  m.def("_cross_entropy", [](const Tensor& input, const Tensor& target, std::optional<Tensor> weight,
                             int64_t ignore_index, double label_smoothing, const std::string& reduction) {
          return cross_entropy(input, target, weight ? *weight : Tensor(), ignore_index, label_smoothing,
                               loss_reduction(reduction, "cross_entropy"));
        }, py::arg("input"), py::arg("target"), py::arg("weight"), py::arg("ignore_index"), py::arg("label_smoothing"),
        py::arg("reduction"));
  m.def("_nll_loss", [](const Tensor& input, const Tensor& target, std::optional<Tensor> weight, int64_t ignore_index,
                        const std::string& reduction) {
          return nll_loss(input, target, weight ? *weight : Tensor(), ignore_index, loss_reduction(reduction, "nll_loss"));
        }, py::arg("input"), py::arg("target"), py::arg("weight"), py::arg("ignore_index"), py::arg("reduction"));
  m.def("_binary_cross_entropy", [](const Tensor& input, const Tensor& target, std::optional<Tensor> weight,
                                    const std::string& reduction) {
          return binary_cross_entropy(input, target, weight ? *weight : Tensor(),
                                      loss_reduction(reduction, "binary_cross_entropy"));
        }, py::arg("input"), py::arg("target"), py::arg("weight"), py::arg("reduction"));
  m.def("_l1_loss", [](const Tensor& a, const Tensor& b, const std::string& r) {
          return l1_loss(a, b, loss_reduction(r, "l1_loss"));
        }, py::arg("input"), py::arg("target"), py::arg("reduction"));
  m.def("_smooth_l1_loss", [](const Tensor& a, const Tensor& b, const std::string& r, double beta) {
          return smooth_l1_loss(a, b, loss_reduction(r, "smooth_l1_loss"), beta);
        }, py::arg("input"), py::arg("target"), py::arg("reduction"), py::arg("beta"));
  m.def("_huber_loss", [](const Tensor& a, const Tensor& b, const std::string& r, double delta) {
          return huber_loss(a, b, loss_reduction(r, "huber_loss"), delta);
        }, py::arg("input"), py::arg("target"), py::arg("reduction"), py::arg("delta"));
  m.def("_kl_div_pointwise", &kl_div_pointwise, py::arg("input"), py::arg("target"), py::arg("log_target"));
  // linalg.svd / svdvals (gdcore/linalg.hpp); linalg.py makes the (U, S, Vh) named tuple.
  m.def("_linalg_svd", [](const Tensor& A, bool full_matrices) {
          SvdResult r = linalg_svd(A, full_matrices);
          return std::make_tuple(r.U, r.S, r.Vh);
        }, py::arg("A"), py::arg("full_matrices") = true, Release());
  m.def("_linalg_svdvals", &svdvals, py::arg("A"), Release());
  // The LAPACK forwards of linalg.solve/inv, slogdet/det, cholesky, eigh (gdcore/linalg_solvers.hpp); no graph:
  // gdcore/linalg_solvers.py wraps each in an autograd.Function with torch's backward.
  m.def("_linalg_solve_forward", &linalg_solve_forward, py::arg("A"), py::arg("B"), Release());
  m.def("_linalg_slogdet_forward", &linalg_slogdet_forward, py::arg("A"), Release());
  m.def("_linalg_cholesky_forward", &linalg_cholesky_forward, py::arg("A"), Release());
  m.def("_linalg_eigh_forward", &linalg_eigh_forward, py::arg("A"), py::arg("upper"), Release());
}

}  // namespace gdcore::bind
