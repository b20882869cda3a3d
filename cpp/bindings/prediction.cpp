// Prediction: `predict` (the whole network from lists, each call), and `Predictor`, the
// same network prepared once for repeated calls. An estimator keeps a Predictor, so that
// one-row latency is not spent converting the activation enums and re-checking six
// arrays on every call.
#include <pybind11/stl.h>

#include <memory>
#include <type_traits>

#include "arguments.hpp"
#include "sections.hpp"

namespace nnfast::bindings {

namespace {

// out := the network's output for X (GIL released); NaN or infinity in X is a ValueError.
template <class T>
void predict_checked(const NetworkOf<T>& net, const InputRows& X, MatrixViewOf<T> out) {
  bool finite;
  {
    py::gil_scoped_release release;
    finite = predict(net, X, out);
  }
  // a finite float64 beyond float32's range turns infinite in a float32 network
  if (!finite && X.is_double && std::is_same_v<T, float>)
    throw py::value_error(
        "Input X contains NaN or infinity, or a value beyond float32's range (|x| > "
        "3.4028235e+38; nnfast computes in float32).");
  if (!finite) throw py::value_error("Input X contains NaN or infinity.");
}

// What an object looked like when the network was checked: the same object with the same
// data, shape, dtype (byte order included) and layout needs no new check. (The network
// holds a reference, so the address cannot be reused by another object; shape and dtype
// can change in place.) A list is recorded with its length.
struct ArraySeen {
  PyObject* object;
  const void* data = nullptr;
  py::ssize_t ndim = -1, rows = 0, cols = 0;
  int dtype = 0;  // 1: float32, 2: float64, 0: other
  bool c_contiguous = false;

  static ArraySeen of_list(const py::list& l) { return {l.ptr(), nullptr, -1, py::ssize_t(l.size())}; }
  static ArraySeen of(const py::handle& h) {
    if (!py::isinstance<py::array>(h)) return {h.ptr()};
    const auto a = py::reinterpret_borrow<py::array>(h);
    const int dtype = a.dtype().equal(py::dtype::of<float>())    ? 1
                      : a.dtype().equal(py::dtype::of<double>()) ? 2
                                                                 : 0;
    return {h.ptr(), a.data(), a.ndim(), a.ndim() > 0 ? a.shape(0) : 0,
            a.ndim() > 1 ? a.shape(1) : 0, dtype, (a.flags() & py::array::c_style) != 0};
  }
  bool operator==(const ArraySeen& o) const {
    return object == o.object && data == o.data && ndim == o.ndim && rows == o.rows &&
           cols == o.cols && dtype == o.dtype && c_contiguous == o.c_contiguous;
  }
};

// A checked network and the Python objects its pointers point into: a call keeps the
// pair alive (shared_ptr) while it predicts without the GIL, even if another thread
// meanwhile replaces the arrays and the Predictor's cache.
struct PreparedNetwork {
  bool is_double = false;  // float64 parameters: net64, else net32
  NetworkOf<float> net32;
  NetworkOf<double> net64;
  py::list held;  // the lists and every array in them

  template <class T>
  NetworkOf<T>& net() {
    if constexpr (std::is_same_v<T, double>) return net64;
    else return net32;
  }
};

class Predictor {
 public:
  Predictor(std::vector<Activation> hidden, Loss loss) : hidden_(std::move(hidden)), loss_(loss) {}

  // The network's output for X: float64 for float64 parameters; else in X's float dtype
  // (float64 for float64 X, dense or CSR). column_scales: none, or one (fan_out,) array per
  // hidden layer, of the parameters' dtype (DenseParams).
  py::array operator()(const py::object& X, const py::list& coefs, const py::list& intercepts,
                       const py::list& column_scales) {
    const char* fn = "Predictor";
    const std::shared_ptr<const PreparedNetwork> prepared =
        network_for(coefs, intercepts, column_scales);
    py::list keep;
    const InputRows rows = input_of(X, fn, keep);
    if (prepared->is_double) {
      const NetworkOf<double>& net = prepared->net64;
      py::array_t<double> out({rows.rows, net.n_outputs()});
      predict_checked(net, rows, {out.mutable_data(), rows.rows, net.n_outputs(), net.n_outputs()});
      return out;
    }
    const NetworkOf<float>& net = prepared->net32;
    const index_t n = rows.rows, k = net.n_outputs();
    if (!rows.is_double) {
      py::array_t<float> out({n, k});
      predict_checked(net, rows, {out.mutable_data(), n, k, k});
      return out;
    }
    std::vector<float> out32(size_t(n * k));  // per call: calls may run in parallel
    predict_checked(net, rows, {out32.data(), n, k, k});
    py::array_t<double> out({n, k});
    double* d = out.mutable_data();
    for (size_t i = 0; i < out32.size(); ++i) d[i] = out32[i];
    return out;
  }

 private:
  // The checked network of these lists: the one of the last call when the lists and
  // every array in them are unchanged, else checked anew. Runs with the GIL held, so
  // the cache is consistent; each call keeps its own shared_ptr to what it uses.
  std::shared_ptr<const PreparedNetwork> network_for(const py::list& coefs,
                                                     const py::list& intercepts,
                                                     const py::list& scales) {
    std::vector<ArraySeen> seen;
    seen.reserve(coefs.size() + intercepts.size() + scales.size() + 3);
    for (const py::list* l : {&coefs, &intercepts, &scales}) {
      // No scales (no batch norm) is the same whichever empty list brings it: a new one
      // per call must not cost a new check (one-row latency).
      seen.push_back(l == &scales && l->empty() ? ArraySeen{nullptr} : ArraySeen::of_list(*l));
      for (const auto& a : *l) seen.push_back(ArraySeen::of(a));
    }
    if (prepared_ && seen == seen_) return prepared_;
    auto prepared = std::make_shared<PreparedNetwork>();
    if (coefs.empty()) throw py::value_error(where("Predictor", "coefs") + " is empty");
    with_element_type(array_item(coefs[0], "Predictor", "coefs[0]"), "Predictor", "coefs[0]", [&](auto type) {
      using T = decltype(type);
      NetworkOf<T>& net = prepared->net<T>();
      prepared->is_double = std::is_same_v<T, double>;
      net = network<T>(coefs, intercepts, hidden_, loss_, "Predictor", false);
      if (!scales.empty() && scales.size() + 1 != net.layers.size())
        throw py::value_error(where("Predictor", "column_scales") + " needs one array per "
                              "hidden layer (" + std::to_string(net.layers.size() - 1) +
                              "), got " + std::to_string(scales.size()));
      for (size_t l = 0; l < scales.size(); ++l) {
        auto s = array_item(scales[l], "Predictor", "column_scales[i]");
        net.layers[l].column_scale = data_of<T>(s, "Predictor", "column_scales[i]", 1);
        require_shape(s, {net.layers[l].fan_out}, "Predictor", "column_scales[i]");
      }
    });
    for (const py::list* l : {&coefs, &intercepts, &scales}) {
      prepared->held.append(*l);
      for (const auto& a : *l) prepared->held.append(a);
    }
    prepared_ = std::move(prepared), seen_ = std::move(seen);
    return prepared_;
  }

  std::vector<Activation> hidden_;
  Loss loss_;
  std::shared_ptr<const PreparedNetwork> prepared_;
  std::vector<ArraySeen> seen_;
};

}  // namespace

void bind_prediction(py::module_& m) {
  m.def("predict", [](py::list coefs, py::list intercepts, std::vector<Activation> hidden, Loss loss,
                      py::object X, std::optional<py::array> out) {
    const char* fn = "predict";
    if (coefs.empty()) throw py::value_error(where(fn, "coefs") + " is empty");
    py::array result;
    with_element_type(array_item(coefs[0], fn, "coefs[0]"), fn, "coefs[0]", [&](auto type) {
      using T = decltype(type);
      const NetworkOf<T> net = network<T>(coefs, intercepts, hidden, loss, fn, false);
      py::list keep;
      const InputRows rows = input_of(X, fn, keep);
      result = out ? *out : py::array_t<T>({rows.rows, net.n_outputs()});
      predict_checked(net, rows, out_matrix<T>(result, fn, "out"));
    });
    return result;
  }, py::arg("coefs"), py::arg("intercepts"), py::arg("activations"), py::arg("loss"), py::arg("X"),
     py::arg("out") = py::none());

  py::class_<Predictor>(m, "Predictor")
      .def(py::init<std::vector<Activation>, Loss>(), py::arg("activations"), py::arg("loss"))
      .def("__call__", &Predictor::operator(), py::arg("X"), py::arg("coefs"),
           py::arg("intercepts"), py::arg("column_scales") = py::list());
}

}  // namespace nnfast::bindings
