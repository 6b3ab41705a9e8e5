// Bindings for the ops behind gdcore.nn.functional: conv2d (and its two adjoints, exposed
// for tests and custom layers) and max_pool2d. gdcore/nn/functional.py turns torch-style
// int-or-pair arguments into the (height, width) pairs these take.
#include "tensor_caster.hpp"

namespace gdcore::bind {

void bind_nn(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;
  m.def("_conv2d", [](const Tensor& input, const Tensor& weight, std::optional<Tensor> bias, Size2 stride,
                      Size2 padding) { return conv2d(input, weight, bias ? *bias : Tensor(), stride, padding); },
        py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"), Release(),
        "2-d convolution: input (N, C, H, W), weight (O, C, kH, kW), bias (O,) or None -> (N, O, OH, OW).");
  m.def("_conv2d_input_grad", &conv2d_input_grad, py::arg("grad_output"), py::arg("weight"), py::arg("input_shape"),
        py::arg("stride"), py::arg("padding"), Release(),
        "Gradient of conv2d w.r.t. its input (a transposed convolution), shape input_shape.");
  m.def("_conv2d_weight_grad", &conv2d_weight_grad, py::arg("input"), py::arg("grad_output"), py::arg("weight_shape"),
        py::arg("stride"), py::arg("padding"), Release(), "Gradient of conv2d w.r.t. its weight, shape weight_shape.");
  m.def("_max_pool2d", [](const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding) {
          MaxPool2dResult r = max_pool2d(input, kernel_size, stride, padding);
          return std::make_pair(r.values, r.indices);
        }, py::arg("input"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), Release(),
        "2-d max pooling: (values, int64 indices into each input plane), both (N, C, OH, OW).");
  m.def("_avg_pool2d", &avg_pool2d, py::arg("input"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("count_include_pad"), Release(), "2-d average pooling: (N, C, H, W) -> (N, C, OH, OW).");
  m.def("_avg_pool2d_backward", &avg_pool2d_backward, py::arg("grad_output"), py::arg("input_shape"),
        py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), py::arg("count_include_pad"), Release(),
        "Gradient of avg_pool2d w.r.t. its input (its adjoint), shape input_shape.");
  m.def("_pool2d_gather", &pool2d_gather, py::arg("input"), py::arg("indices"), Release());
  m.def("_pool2d_scatter_add", &pool2d_scatter_add, py::arg("grad"), py::arg("indices"), py::arg("input_shape"),
        Release());
}

}  // namespace gdcore::bind
