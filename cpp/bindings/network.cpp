// The whole-network training calls: an epoch, and the full-batch objective and gradient.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <chrono>

#include "arguments.hpp"
#include "sections.hpp"

namespace nnfast::bindings {

namespace {

// Between batches, at most every 50 ms: take the GIL and run Python's signal handlers,
// so Ctrl-C stops a long call quickly; the exception is raised once the core returns.
struct SignalCheck {
  std::optional<py::error_already_set> pending;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  bool operator()() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::milliseconds(50)) return false;
    last = now;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() == 0) return false;
    pending.emplace();
    return true;
  }
};

}  // namespace

void bind_network(py::module_& m) {
  py::class_<OptimizerConfig>(m, "OptimizerConfig")
      .def(py::init([](const std::string& kind, double lr, double b1, double b2, double eps,
                       double momentum, bool nesterov) {
             if (kind != "adam" && kind != "sgd")
               throw py::value_error("[OptimizerConfig] kind must be 'adam' or 'sgd', got '" + kind + "'");
             OptimizerConfig c;
             c.kind = kind == "adam" ? OptimizerConfig::Kind::adam : OptimizerConfig::Kind::sgd;
             c.learning_rate = lr, c.beta1 = b1, c.beta2 = b2, c.epsilon = eps;
             c.momentum = momentum, c.nesterov = nesterov;
             return c;
           }),
           py::arg("kind"), py::arg("learning_rate"), py::arg("beta1") = 0.9,
           py::arg("beta2") = 0.999, py::arg("epsilon") = 1e-8, py::arg("momentum") = 0.0,
           py::arg("nesterov") = false)
      .def_readwrite("learning_rate", &OptimizerConfig::learning_rate);

  m.def("train_epoch", [](py::list coefs, py::list intercepts, std::vector<Activation> hidden,
                          Loss loss, py::object X, py::array Y, std::optional<py::array> sw,
                          py::array order, index_t batch_size, double alpha,
                          const OptimizerConfig& opt, py::list state1, py::list state2,
                          py::array step, std::vector<float> dropout, std::uint64_t dropout_seed,
                          std::int64_t epoch, double loss_parameter, py::list bn_scales,
                          py::list bn_shifts, py::list running_means, py::list running_vars,
                          double bn_momentum, double bn_epsilon) {
    const char* fn = "train_epoch";
    if (coefs.empty()) throw py::value_error(where(fn, "coefs") + " is empty");
    SignalCheck signals;
    EpochResult result;
    with_element_type(array_item(coefs[0], fn, "coefs[0]"), fn, "coefs[0]", [&](auto type) {
      using T = decltype(type);
      const NetworkOf<T> net = network<T>(coefs, intercepts, hidden, loss, fn, true, loss_parameter);
      TrainingOptionsOf<T> options;
      options.batch_size = batch_size, options.alpha = alpha, options.optimizer = opt;
      options.dropout = DropoutConfig{std::move(dropout), dropout_seed, epoch};
      options.dropout.check(fn, net.layers.size() - 1);
      options.batch_norm = batch_norm_of(bn_scales, bn_shifts, running_means, running_vars,
                                         bn_momentum, bn_epsilon, net, fn);
      const BatchNormConfigOf<T>& norm = options.batch_norm;
      norm.check(fn, net.layers.size() - 1);
      py::list keep;
      const InputRows rows = input_of(X, fn, keep);
      const T* yp = data_of<T>(Y, fn, "Y", 2);
      require_shape(Y, {rows.rows, net.n_outputs()}, fn, "Y");
      const T* swp = optional_weights<T>(sw, rows.rows, fn);
      const std::int64_t* op = data_of<std::int64_t>(order, fn, "order", 1);
      OptimizerStateOf<T> state;
      state.first = like_params(state1, net, fn, "state1", norm.count());
      if (opt.kind == OptimizerConfig::Kind::adam)
        state.second = like_params(state2, net, fn, "state2", norm.count());
      state.step = data_of<std::int64_t>(step, fn, "step", 1, true);
      require_shape(step, {1}, fn, "step");
      py::gil_scoped_release release;
      result = train_epoch(net, rows, yp, swp, op, index_t(order.size()), options, state,
                           std::ref(signals));
    });
    if (signals.pending) throw *signals.pending;
    return result.loss_sum;
  }, py::arg("coefs"), py::arg("intercepts"), py::arg("activations"), py::arg("loss"), py::arg("X"),
     py::arg("Y"), py::arg("sample_weight"), py::arg("order"), py::arg("batch_size"),
     py::arg("alpha"), py::arg("optimizer"), py::arg("state1"), py::arg("state2"), py::arg("step"),
     py::arg("dropout") = std::vector<float>{}, py::arg("dropout_seed") = 0,
     py::arg("epoch") = 0, py::arg("loss_parameter") = 0.0,
     py::arg("batch_norm_scales") = py::list(), py::arg("batch_norm_shifts") = py::list(),
     py::arg("running_means") = py::list(), py::arg("running_vars") = py::list(),
     py::arg("batch_norm_momentum") = 0.1, py::arg("batch_norm_epsilon") = 1e-5);

  m.def("loss_and_gradient", [](py::list coefs, py::list intercepts, std::vector<Activation> hidden,
                                Loss loss, py::object X, py::array Y, std::optional<py::array> sw,
                                double alpha, py::list grad_coefs, py::list grad_intercepts,
                                double loss_parameter) {
    const char* fn = "loss_and_gradient";
    if (coefs.empty()) throw py::value_error(where(fn, "coefs") + " is empty");
    double objective = 0.0;
    with_element_type(array_item(coefs[0], fn, "coefs[0]"), fn, "coefs[0]", [&](auto type) {
      using T = decltype(type);
      const NetworkOf<T> net = network<T>(coefs, intercepts, hidden, loss, fn, false, loss_parameter);
      py::list keep;
      const InputRows rows = input_of(X, fn, keep);
      const T* yp = data_of<T>(Y, fn, "Y", 2);
      require_shape(Y, {rows.rows, net.n_outputs()}, fn, "Y");
      const T* swp = optional_weights<T>(sw, rows.rows, fn);
      const size_t L = net.layers.size();
      py::list grads;
      for (auto g : grad_coefs) grads.append(g);
      for (auto g : grad_intercepts) grads.append(g);
      if (grad_coefs.size() != L || grad_intercepts.size() != L)
        throw py::value_error(where(fn, "grad_coefs") + " and grad_intercepts need " + std::to_string(L) + " arrays each");
      const std::vector<T*> all = like_params(grads, net, fn, "grad");
      const std::vector<T*> gw(all.begin(), all.begin() + L), gb(all.begin() + L, all.end());
      py::gil_scoped_release release;
      objective = loss_and_gradient(net, rows, yp, swp, alpha, gw, gb);
    });
    return objective;
  }, py::arg("coefs"), py::arg("intercepts"), py::arg("activations"), py::arg("loss"), py::arg("X"),
     py::arg("Y"), py::arg("sample_weight"), py::arg("alpha"), py::arg("grad_coefs"),
     py::arg("grad_intercepts"), py::arg("loss_parameter") = 0.0);
}

}  // namespace nnfast::bindings
