// Bindings of the group-wide optimizer steps (gdcore/optim.hpp) used by gdcore.optim:
// one call per parameter group and step. The lists are converted with the GIL held,
// then the GIL is released for the update itself.
#include "gdcore/capture.hpp"
#include "gdcore/optim.hpp"
#include "tensor_caster.hpp"

namespace gdcore::bind {

using TensorList = std::vector<Tensor>;

void bind_optim(py::module_& m) {
  using py::arg;
  const auto no_gil = py::call_guard<py::gil_scoped_release>();

  m.def("_sgd_step",
        [](const TensorList& params, const TensorList& grads, const TensorList& momentum_buffers,
           const std::vector<bool>& new_buffers, double lr, double momentum, double dampening, double weight_decay,
           bool nesterov, bool maximize) {
          const optim::SgdOptions options{lr, momentum, dampening, weight_decay, nesterov, maximize};
          // Under gdcore.compile, buffers created at the captured step are no longer new at its replays.
          auto fresh = std::make_shared<std::vector<bool>>(new_buffers);
          capture::optimizer_step("SGD", params, grads, [=](const TensorList& g) {
            optim::sgd_step(params, g, momentum_buffers, *fresh, options);
            fresh->assign(fresh->size(), false);
          }, /*lowerable=*/true);
        },
        arg("params"), arg("grads"), arg("momentum_buffers"), arg("new_buffers"), arg("lr"), arg("momentum"),
        arg("dampening"), arg("weight_decay"), arg("nesterov"), arg("maximize"), no_gil,
        "SGD step over one parameter group, in place.");

  m.def("_adagrad_step",
        [](const TensorList& params, const TensorList& grads, const TensorList& sums, const std::vector<int64_t>& steps,
           double lr, double lr_decay, double weight_decay, double eps, bool maximize) {
          const optim::AdagradOptions options{lr, lr_decay, weight_decay, eps, maximize};
          if (!capture::is_capturing()) {
            optim::adagrad_step(params, grads, sums, steps, options);
            return std::shared_ptr<capture::StepCounts>();
          }
          auto counts = std::make_shared<capture::StepCounts>(capture::StepCounts{steps});
          for (int64_t& s : counts->steps) --s;  // each run (the captured one too) counts one step
          capture::optimizer_step("Adagrad", params, grads, [=](const TensorList& g) {
            for (int64_t& s : counts->steps) ++s;
            optim::adagrad_step(params, g, sums, counts->steps, options);
          });
          return counts;
        },
        arg("params"), arg("grads"), arg("sums"), arg("steps"), arg("lr"), arg("lr_decay"), arg("weight_decay"),
        arg("eps"), arg("maximize"), no_gil, "Adagrad step over one parameter group, in place.");

  m.def("_rmsprop_step",
        [](const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
           const TensorList& grad_avgs, const TensorList& momentum_buffers, double lr, double alpha, double eps,
           double weight_decay, double momentum, bool centered, bool maximize) {
          const optim::RmspropOptions options{lr, alpha, eps, weight_decay, momentum, centered, maximize};
          capture::optimizer_step("RMSprop", params, grads, [=](const TensorList& g) {
            optim::rmsprop_step(params, g, square_avgs, grad_avgs, momentum_buffers, options);
          });
        },
        arg("params"), arg("grads"), arg("square_avgs"), arg("grad_avgs"), arg("momentum_buffers"), arg("lr"),
        arg("alpha"), arg("eps"), arg("weight_decay"), arg("momentum"), arg("centered"), arg("maximize"), no_gil,
        "RMSprop step over one parameter group, in place.");

  m.def("_adadelta_step",
        [](const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
           const TensorList& acc_deltas, double lr, double rho, double eps, double weight_decay, bool maximize) {
          const optim::AdadeltaOptions options{lr, rho, eps, weight_decay, maximize};
          capture::optimizer_step("Adadelta", params, grads, [=](const TensorList& g) {
            optim::adadelta_step(params, g, square_avgs, acc_deltas, options);
          });
        },
        arg("params"), arg("grads"), arg("square_avgs"), arg("acc_deltas"), arg("lr"), arg("rho"), arg("eps"),
        arg("weight_decay"), arg("maximize"), no_gil, "Adadelta step over one parameter group, in place.");

  m.def("_adam_step",
        [](const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
           const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, const std::vector<int64_t>& steps,
           double lr, double beta1, double beta2, double eps, double weight_decay, bool amsgrad, bool maximize,
           bool decoupled_weight_decay) {
          const optim::AdamOptions options{lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
                                           decoupled_weight_decay};
          if (!capture::is_capturing()) {
            optim::adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, options);
            return std::shared_ptr<capture::StepCounts>();
          }
          auto counts = std::make_shared<capture::StepCounts>(capture::StepCounts{steps});
          for (int64_t& s : counts->steps) --s;  // each run (the captured one too) counts one step
          capture::optimizer_step("Adam", params, grads, [=](const TensorList& g) {
            for (int64_t& s : counts->steps) ++s;
            optim::adam_step(params, g, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, counts->steps, options);
          });
          return counts;
        },
        arg("params"), arg("grads"), arg("exp_avgs"), arg("exp_avg_sqs"), arg("max_exp_avg_sqs"), arg("steps"),
        arg("lr"), arg("beta1"), arg("beta2"), arg("eps"), arg("weight_decay"), arg("amsgrad"), arg("maximize"),
        arg("decoupled_weight_decay"), no_gil, "Adam / AdamW step over one parameter group, in place.");
}

}  // namespace gdcore::bind
