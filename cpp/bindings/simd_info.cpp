// Bindings of gdcore/simd.hpp: which SIMD path the kernels run on, which ones this CPU
// supports, and switches for tests and benchmarks. Binding this module makes the choice,
// so a bad GDCORE_SIMD fails `import gdcore` with a message that says what to set instead.
#include "gdcore/simd.hpp"
#include "gdcore/small_mm.hpp"
#include "gdcore/cross_entropy_rows.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {

void bind_simd(py::module_& m) {
  using py::arg;
  try {
    simd_path();
  } catch (const std::invalid_argument& e) {
    throw py::import_error(std::string("gdcore: ") + e.what());
  }
  m.def("simd_path", &simd_path,
        "The SIMD path the kernels run on: 'avx512', 'avx2' or 'scalar' (set GDCORE_SIMD to choose).");
  m.def("simd_paths", &simd_paths, "The SIMD paths this CPU can run, slowest first ('scalar' is always there).");
  m.def("_set_simd_path", &set_simd_path, arg("name"),
        "Switch every later kernel call to the path `name` (for tests and benchmarks).");
  m.def("_kernel_threads", &kernel_threads, "Threads a large kernel call is split over.");
  m.def("_set_kernel_threads", &set_kernel_threads, arg("n"),
        "Split large kernel calls over `n` threads (1..64; for tests and benchmarks).");
  m.def("_kernel_parallel_min", &kernel_parallel_min, "Arrays from this many elements on are split over threads.");
  m.def("_blas_threads", &blas_threads, "Threads OpenBLAS splits a matrix product over.");
  m.def("_set_blas_threads", &set_blas_threads, arg("n"), "Let OpenBLAS split a matrix product over `n` threads (n >= 1).");
  m.def(
      "_simd_exp",
      [](py::array_t<float, py::array::c_style | py::array::forcecast> x) {
        py::array_t<float> out(x.request().shape);
        const float* in = x.data();
        float* o = out.mutable_data();
        const int64_t n = static_cast<int64_t>(x.size());
        {
          py::gil_scoped_release release;
          simd_exp(in, o, n);
        }
        return out;
      },
      arg("x"), "exp of a float32 array with the softmax kernels' polynomial exp on the active SIMD path (for tests).");
  m.def(
      "_small_mm",
      [](const gdcore::Tensor& a, const gdcore::Tensor& b, std::optional<gdcore::Tensor> out) {
        return gdcore::small_mm_for_tests(a, b, out ? &*out : nullptr);
      },
      arg("a"), arg("b"), arg("out") = py::none(),
      "a @ b (2-d float tensors, read through their strides) with the active SIMD path's small-product kernel "
      "whatever the sizes, without a graph; with `out` given, out += a @ b (for tests).");
  m.def("_cross_entropy_rows", &cross_entropy_rows_for_tests, arg("x"), arg("target"), arg("weight") = py::none(),
        arg("ignore_index") = -100, arg("label_smoothing") = 0.0, arg("scale") = 1.0, arg("with_grad") = true,
        arg("one_by_one") = false,
        "cross_entropy's row kernels on contiguous (M, C) logits: (per-row losses as float64, the gradient or "
        "None); one_by_one sends every row through the one-row kernels (for tests).");
}

}  // namespace gdcore::bind
