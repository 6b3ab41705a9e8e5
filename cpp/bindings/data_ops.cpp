// Glue for gdcore.data: the DataLoader gathers a whole batch from a TensorDataset in
// one call (one index_select per tensor, all in C++), so a batch costs one crossing of
// the Python/C++ boundary however many tensors the dataset holds. No math here.
#include "tensor_caster.hpp"

namespace gdcore::bind {

void bind_data(py::module_& m) {
  m.def("gather_rows", [](const std::vector<Tensor>& tensors, const Tensor& index) {
    std::vector<Tensor> rows;
    rows.reserve(tensors.size());
    {
      py::gil_scoped_release release;  // the copies are plain C++; let other threads run
      for (const Tensor& t : tensors) rows.push_back(index_select(t, 0, index));
    }
    return rows;
  }, py::arg("tensors"), py::arg("index"),
  "[index_select(t, 0, index) for t in tensors]: the rows `index` (an int64 tensor) of every tensor.");
}

}  // namespace gdcore::bind
