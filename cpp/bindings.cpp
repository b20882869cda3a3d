// The only file that includes pybind11: take arrays, check them, release the GIL,
// call one core function. std::invalid_argument from the core becomes ValueError.
#include <pybind11/functional.h>
#include <pybind11/native_enum.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <optional>
#include <string>

#include "cpu_features.hpp"
#include "dense.hpp"
#include "gemm.hpp"
#include "losses.hpp"
#include "mlp.hpp"
#include "optimizers.hpp"
#include "reference.hpp"
#include "sparse_input.hpp"
#include "threads.hpp"

namespace py = pybind11;
using namespace nnfast;

namespace {

// ---- argument checks: a wrong dtype is a TypeError, a wrong shape/layout a ValueError ----
std::string where(const char* fn, const char* name) { return std::string("[") + fn + "] " + name; }

void require_dtype(const py::array& a, const py::dtype& dt, const char* fn, const char* name) {
  if (!a.dtype().equal(dt))  // equal, not is: an unpickled array has its own dtype object
    throw py::type_error(where(fn, name) + " must be " + std::string(py::str(dt)) + ", got " +
                         std::string(py::str(a.dtype())));
}

// A float32 C-contiguous array of the given rank (-1: any rank).
template <class T = float>
T* data_of(py::array& a, const char* fn, const char* name, int ndim, bool writable = false) {
  require_dtype(a, py::dtype::of<T>(), fn, name);
  if (ndim >= 0 && a.ndim() != ndim)
    throw py::value_error(where(fn, name) + " must be " + std::to_string(ndim) + "-D, got " +
                          std::to_string(a.ndim()) + "-D");
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(where(fn, name) + " must be C-contiguous");
  if (writable && !a.writeable()) throw py::value_error(where(fn, name) + " must be writable");
  return static_cast<T*>(writable ? a.mutable_data() : const_cast<void*>(a.data()));
}

std::string shape_string(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

void require_shape(const py::array& a, std::initializer_list<index_t> shape, const char* fn,
                   const char* name) {
  bool ok = a.ndim() == py::ssize_t(shape.size());
  std::string want = "(";
  int i = 0;
  for (index_t s : shape) {
    if (ok && a.shape(i) != s) ok = false;
    want += (i++ ? ", " : "") + std::to_string(s);
  }
  want += shape.size() == 1 ? ",)" : ")";
  if (!ok) throw py::value_error(where(fn, name) + " has shape " + shape_string(a) + ", expected " + want);
}

ConstMatrixView matrix(py::array& a, const char* fn, const char* name, bool trans = false) {
  const float* p = data_of(a, fn, name, 2);
  ConstMatrixView v{p, index_t(a.shape(0)), index_t(a.shape(1)), index_t(a.shape(1)), 1};
  return trans ? v.transposed() : v;
}
MatrixView out_matrix(py::array& a, const char* fn, const char* name) {
  float* p = data_of(a, fn, name, 2, true);
  return {p, index_t(a.shape(0)), index_t(a.shape(1)), index_t(a.shape(1))};
}

// X for whole-network calls: float32 or float64, 2-D, each row contiguous.
InputRows input_rows(py::array& X, const char* fn) {
  const bool is_double = X.dtype().equal(py::dtype::of<double>());
  if (!is_double) require_dtype(X, py::dtype::of<float>(), fn, "X");
  if (X.ndim() != 2) throw py::value_error(where(fn, "X") + " must be 2-D");
  const py::ssize_t item = X.itemsize();
  const index_t rows = X.shape(0), cols = X.shape(1);
  if (rows == 0 || cols == 0) return {X.data(), is_double, rows, cols, cols};  // strides are moot
  if (cols > 1 && X.strides(1) != item) throw py::value_error(where(fn, "X") + " rows must be contiguous");
  if (rows > 1 && (X.strides(0) % item != 0 || X.strides(0) < cols * item))
    throw py::value_error(where(fn, "X") + " rows must not overlap");
  return {X.data(), is_double, rows, cols, rows > 1 ? index_t(X.strides(0) / item) : cols};
}

// One array attribute of a CSR matrix: 1-D, contiguous, of dtype First or Second (a
// TypeError names the attribute otherwise); `second` says which.
template <class First, class Second>
py::array csr_part(const py::handle& X, const char* attr, const char* fn, const char* dtypes,
                   bool& second) {
  const py::object part = X.attr(attr);
  const std::string name = std::string("X.") + attr;
  if (!py::isinstance<py::array>(part))
    throw py::type_error(where(fn, name.c_str()) + " must be a numpy array");
  auto a = py::reinterpret_borrow<py::array>(part);
  second = a.dtype().equal(py::dtype::of<Second>());
  if (!second && !a.dtype().equal(py::dtype::of<First>()))
    throw py::type_error(where(fn, name.c_str()) + " must be " + dtypes + ", got " +
                         std::string(py::str(a.dtype())));
  if (a.ndim() != 1) throw py::value_error(where(fn, name.c_str()) + " must be 1-D");
  if (a.size() > 1 && a.strides(0) != a.itemsize())
    throw py::value_error(where(fn, name.c_str()) + " must be contiguous");
  return a;
}

bool is_csr(const py::handle& X) {
  return py::hasattr(X, "format") && py::hasattr(X, "indptr") &&
         py::str(X.attr("format")).equal(py::str("csr"));
}

// A scipy.sparse CSR matrix or array, viewed in place (no copy, no conversion): data
// float32/float64, indices and indptr int32/int64. Sizes are checked here, the contents
// (indptr monotone, indices in range) by the core before any parallel region. `keep`
// holds the three arrays until the call returns (X.data could be rebound meanwhile).
CsrMatrix csr_matrix(const py::handle& X, const char* fn, py::list& keep) {
  const auto shape = X.attr("shape").cast<std::pair<index_t, index_t>>();
  CsrMatrix x;
  x.rows = shape.first, x.cols = shape.second;
  const py::array data =
      csr_part<float, double>(X, "data", fn, "float32 or float64", x.data_is_double);
  const py::array indices =
      csr_part<std::int32_t, std::int64_t>(X, "indices", fn, "int32 or int64", x.indices_are_64);
  const py::array indptr =
      csr_part<std::int32_t, std::int64_t>(X, "indptr", fn, "int32 or int64", x.indptr_is_64);
  if (x.rows < 0 || x.cols < 0) throw py::value_error(where(fn, "X") + " has a negative dimension");
  if (indptr.size() != x.rows + 1)
    throw py::value_error(where(fn, "X.indptr") + " has " + std::to_string(indptr.size()) +
                          " entries, expected rows + 1 = " + std::to_string(x.rows + 1));
  if (data.size() != indices.size())
    throw py::value_error(where(fn, "X.data") + " has " + std::to_string(data.size()) +
                          " entries, X.indices " + std::to_string(indices.size()));
  x.data = data.data(), x.indices = indices.data(), x.indptr = indptr.data();
  x.stored = index_t(data.size());
  keep.append(data), keep.append(indices), keep.append(indptr);
  return x;
}

// X for whole-network calls: a dense array (input_rows) or a scipy.sparse CSR matrix or
// array (read in place). `keep` holds X's arrays until the call returns.
InputRows input_of(const py::object& X, const char* fn, py::list& keep) {
  if (py::isinstance<py::array>(X)) {
    auto a = py::reinterpret_borrow<py::array>(X);
    keep.append(a);
    return input_rows(a, fn);
  }
  if (is_csr(X)) return InputRows::from_csr(csr_matrix(X, fn, keep));
  throw py::type_error(where(fn, "X") +
                       " must be a numpy array or a scipy.sparse CSR matrix, got " +
                       std::string(py::str(py::type::of(X))));
}

// x of the CSR kernels: a scipy.sparse CSR matrix or array only.
CsrMatrix csr_kernel_input(const py::object& x, const char* fn, py::list& keep) {
  if (!is_csr(x)) throw py::type_error(where(fn, "x") + " must be a scipy.sparse CSR matrix");
  return csr_matrix(x, fn, keep);
}

// The optional batch rows of the CSR kernels: int64 row ids, or all of X's rows.
RowSelection row_selection(std::optional<py::array>& rows, const CsrMatrix& x, const char* fn) {
  if (!rows) return {nullptr, 0, x.rows};
  return {data_of<std::int64_t>(*rows, fn, "rows", 1), 0, index_t(rows->size())};
}

// writable: training updates the parameters in place; predict and loss_and_gradient only
// read them (a model loaded read-only, e.g. memory-mapped, still predicts).
Network network(py::list coefs, py::list intercepts, const std::vector<Activation>& hidden,
                Loss loss, const char* fn, bool writable) {
  if (coefs.size() != intercepts.size() || coefs.empty())
    throw py::value_error(where(fn, "coefs") + " and intercepts must be non-empty lists of equal length");
  Network net;
  net.hidden = hidden;
  net.loss = loss;
  for (size_t l = 0; l < coefs.size(); ++l) {
    auto w = coefs[l].cast<py::array>();
    auto b = intercepts[l].cast<py::array>();
    float* wp = data_of(w, fn, "coefs[i]", 2, writable);
    float* bp = data_of(b, fn, "intercepts[i]", 1, writable);
    require_shape(b, {index_t(w.shape(1))}, fn, "intercepts[i]");
    net.layers.push_back({wp, bp, index_t(w.shape(0)), index_t(w.shape(1))});
  }
  net.check(fn);
  return net;
}

// Views of a list of float32 arrays shaped like the parameters (coefs..., intercepts...):
// 2 * n_layers of them.
std::vector<float*> like_params(py::list arrays, const Network& net, const char* fn,
                                const char* name) {
  const size_t L = net.layers.size();
  if (arrays.size() < 2 * L)
    throw py::value_error(where(fn, name) + " needs " + std::to_string(2 * L) + " arrays");
  std::vector<float*> out;
  for (size_t i = 0; i < 2 * L; ++i) {
    auto a = arrays[i].cast<py::array>();
    const DenseParams& p = net.layers[i % L];
    if (i < L)
      require_shape(a, {p.fan_in, p.fan_out}, fn, name);
    else
      require_shape(a, {p.fan_out}, fn, name);
    out.push_back(data_of(a, fn, name, -1, true));
  }
  return out;
}

const float* optional_weights(std::optional<py::array>& sw, index_t n, const char* fn) {
  if (!sw) return nullptr;
  const float* p = data_of(*sw, fn, "sample_weight", 1);
  require_shape(*sw, {n}, fn, "sample_weight");
  return p;
}

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

void gemm_binding(py::array a, py::array b, py::array out, float alpha, float beta, bool ta,
                  bool tb, bool reference) {
  const char* fn = reference ? "gemm_reference" : "gemm";
  ConstMatrixView av = matrix(a, fn, "a", ta), bv = matrix(b, fn, "b", tb);
  MatrixView cv = out_matrix(out, fn, "out");
  check_gemm_shapes(fn, cv, av, bv);
  py::gil_scoped_release release;
  if (reference)
    reference::gemm(cv, av, bv, alpha, beta);
  else
    gemm(cv, av, bv, alpha, beta);
}

// Elementwise kernels: `b` must have exactly the shape of `a`.
void elementwise_same_shape(const py::array& a, const py::array& b, const char* fn,
                            const char* name) {
  bool same = a.ndim() == b.ndim();
  for (py::ssize_t d = 0; same && d < a.ndim(); ++d) same = a.shape(d) == b.shape(d);
  if (!same)
    throw py::value_error(where(fn, name) + " has shape " + shape_string(b) + ", expected " +
                          shape_string(a));
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "nnfast's C++ kernels (see _core.pyi for the documented contract)";

  py::native_enum<Activation>(m, "Activation", "enum.IntEnum")
      .value("identity", Activation::identity)
      .value("logistic", Activation::logistic)
      .value("tanh", Activation::tanh)
      .value("relu", Activation::relu)
      .finalize();
  py::native_enum<Loss>(m, "Loss", "enum.IntEnum")
      .value("softmax_cross_entropy", Loss::softmax_cross_entropy)
      .value("logistic_cross_entropy", Loss::logistic_cross_entropy)
      .value("squared_error", Loss::squared_error)
      .value("poisson", Loss::poisson)
      .finalize();

  // ---- machine ----
  m.def("isa", [] { return std::string(isa_name(active_isa())); });
  m.def("cpu_supports_avx2", &cpu_supports_avx2_fma);
  m.def("set_isa", [](const std::string& name) {
    if (name == "generic") return set_active_isa(Isa::generic);
    if (name == "avx2") return set_active_isa(Isa::avx2);
    throw py::value_error("[set_isa] name must be 'generic' or 'avx2', got '" + name + "'");
  });
  m.def("get_num_threads", &get_num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_gemm_blocking", [] {
    const GemmBlocking b = gemm_blocking();
    return py::make_tuple(b.kc, b.mc);
  });
  m.def("set_gemm_blocking", [](index_t kc, index_t mc) { set_gemm_blocking({kc, mc}); },
        py::arg("kc"), py::arg("mc"));

  // ---- kernels ----
  for (bool ref : {false, true})
    m.def(ref ? "gemm_reference" : "gemm",
          [ref](py::array a, py::array b, py::array out, float alpha, float beta, bool ta, bool tb) {
            gemm_binding(a, b, out, alpha, beta, ta, tb, ref);
          },
          py::arg("a"), py::arg("b"), py::arg("out"), py::arg("alpha") = 1.0f,
          py::arg("beta") = 0.0f, py::arg("trans_a") = false, py::arg("trans_b") = false);

  m.def("dense_forward", [](py::array x, py::array w, py::array b, Activation act, py::array out) {
    const char* fn = "dense_forward";
    ConstMatrixView xv = matrix(x, fn, "x"), wv = matrix(w, fn, "w");
    const float* bp = data_of(b, fn, "b", 1);
    require_shape(b, {wv.cols}, fn, "b");
    MatrixView yv = out_matrix(out, fn, "out");
    check_gemm_shapes(fn, yv, xv, wv);
    py::gil_scoped_release release;
    dense_forward(yv, xv, wv, bp, act);
  }, py::arg("x"), py::arg("w"), py::arg("b"), py::arg("activation"), py::arg("out"));

  m.def("dense_backward", [](py::array dz, py::array x, py::array w, py::array dw, py::array db,
                             std::optional<py::array> dx) {
    const char* fn = "dense_backward";
    ConstMatrixView dzv = matrix(dz, fn, "dz"), xv = matrix(x, fn, "x"), wv = matrix(w, fn, "w");
    MatrixView dwv = out_matrix(dw, fn, "dw");
    float* dbp = data_of(db, fn, "db", 1, true);
    require_shape(db, {dzv.cols}, fn, "db");
    MatrixView dxv{nullptr, 0, 0, 0};
    if (dx) dxv = out_matrix(*dx, fn, "dx");
    NNFAST_CHECK(dzv.rows == xv.rows, fn, "dz has ", dzv.rows, " rows, x has ", xv.rows);
    py::gil_scoped_release release;
    dense_backward(dxv, dwv, dbp, dzv, xv, wv);
  }, py::arg("dz"), py::arg("x"), py::arg("w"), py::arg("dw"), py::arg("db"), py::arg("dx") = py::none());

  for (bool ref : {false, true}) {
    m.def(ref ? "csr_dense_forward_reference" : "csr_dense_forward",
          [ref](py::object x, py::array w, py::array b, Activation act, py::array out,
                std::optional<py::array> rows) {
            const char* fn = ref ? "csr_dense_forward_reference" : "csr_dense_forward";
            py::list keep;
            const CsrMatrix xv = csr_kernel_input(x, fn, keep);
            const ConstMatrixView wv = matrix(w, fn, "w");
            const float* bp = data_of(b, fn, "b", 1);
            require_shape(b, {wv.cols}, fn, "b");
            const MatrixView yv = out_matrix(out, fn, "out");
            const RowSelection rs = row_selection(rows, xv, fn);
            py::gil_scoped_release release;
            if (ref)
              reference::csr_dense_forward(yv, xv, rs, wv, bp, act);
            else
              csr_dense_forward(yv, xv, rs, wv, bp, act);
          },
          py::arg("x"), py::arg("w"), py::arg("b"), py::arg("activation"), py::arg("out"),
          py::arg("rows") = py::none());
    m.def(ref ? "csr_weight_gradient_reference" : "csr_weight_gradient",
          [ref](py::array dz, py::object x, py::array dw, std::optional<py::array> rows,
                bool accumulate) {
            const char* fn = ref ? "csr_weight_gradient_reference" : "csr_weight_gradient";
            py::list keep;
            const CsrMatrix xv = csr_kernel_input(x, fn, keep);
            const ConstMatrixView dzv = matrix(dz, fn, "dz");
            const MatrixView dwv = out_matrix(dw, fn, "dw");
            const RowSelection rs = row_selection(rows, xv, fn);
            py::gil_scoped_release release;
            if (ref)
              reference::csr_weight_gradient(dwv, xv, rs, dzv, accumulate);
            else
              csr_weight_gradient(dwv, xv, rs, dzv, accumulate);
          },
          py::arg("dz"), py::arg("x"), py::arg("dw"), py::arg("rows") = py::none(),
          py::arg("accumulate") = false);
  }

  m.def("activation_forward", [](py::array x, Activation act, py::array out) {
    const char* fn = "activation_forward";
    const float* xp = data_of(x, fn, "x", -1);
    float* op = data_of(out, fn, "out", -1, true);
    elementwise_same_shape(x, out, fn, "out");
    py::gil_scoped_release release;
    activation_forward(act, op, xp, index_t(x.size()));
  }, py::arg("x"), py::arg("activation"), py::arg("out"));

  m.def("activation_backward", [](py::array dy, py::array y, Activation act, py::array out) {
    const char* fn = "activation_backward";
    const float* dyp = data_of(dy, fn, "dy", -1);
    const float* yp = data_of(y, fn, "y", -1);
    float* op = data_of(out, fn, "out", -1, true);
    elementwise_same_shape(dy, y, fn, "y");
    elementwise_same_shape(dy, out, fn, "out");
    py::gil_scoped_release release;
    activation_backward(act, op, dyp, yp, index_t(dy.size()));
  }, py::arg("dy"), py::arg("y"), py::arg("activation"), py::arg("out"));

  m.def("output_activation", [](py::array z, Loss loss, py::array out) {
    const char* fn = "output_activation";
    const float* zp = data_of(z, fn, "z", 2);
    float* op = data_of(out, fn, "out", 2, true);
    require_shape(out, {index_t(z.shape(0)), index_t(z.shape(1))}, fn, "out");
    py::gil_scoped_release release;
    output_activation(loss, op, zp, z.shape(0), z.shape(1));
  }, py::arg("z"), py::arg("loss"), py::arg("out"));

  m.def("loss_forward_backward", [](py::array z, py::array y, Loss loss, py::array grad,
                                    std::optional<py::array> sw) {
    const char* fn = "loss_forward_backward";
    const float* zp = data_of(z, fn, "z", 2);
    const index_t n = z.shape(0), k = z.shape(1);
    const float* yp = data_of(y, fn, "y", 2);
    require_shape(y, {n, k}, fn, "y");
    float* gp = data_of(grad, fn, "grad", 2, true);
    require_shape(grad, {n, k}, fn, "grad");
    const float* swp = optional_weights(sw, n, fn);
    std::vector<double> row_loss(static_cast<size_t>(n));
    double total = 0.0;
    {
      py::gil_scoped_release release;
      loss_forward_backward(loss, gp, row_loss.data(), zp, yp, swp, n, k);
      for (index_t i = 0; i < n; ++i) total += (swp ? swp[i] : 1.0) * row_loss[size_t(i)];
    }
    return total;
  }, py::arg("z"), py::arg("y"), py::arg("loss"), py::arg("grad"), py::arg("sample_weight") = py::none());

  m.def("adam_update", [](py::array param, py::array grad, py::array mm, py::array v, std::int64_t step,
                          float lr, float beta1, float beta2, float eps, float alpha, float scale) {
    const char* fn = "adam_update";
    float* p = data_of(param, fn, "param", -1, true);
    const float* g = data_of(grad, fn, "grad", -1);
    float* mp = data_of(mm, fn, "m", -1, true);
    float* vp = data_of(v, fn, "v", -1, true);
    elementwise_same_shape(param, grad, fn, "grad");
    elementwise_same_shape(param, mm, fn, "m");
    elementwise_same_shape(param, v, fn, "v");
    NNFAST_CHECK(step >= 1, fn, "step must be >= 1, got ", step);
    const AdamStep s{adam_learning_rate(lr, beta1, beta2, step), beta1, beta2, eps};
    py::gil_scoped_release release;
    adam_update(p, g, mp, vp, index_t(param.size()), s, alpha, scale);
  }, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::kw_only(), py::arg("step"),
     py::arg("learning_rate"), py::arg("beta1") = 0.9f, py::arg("beta2") = 0.999f,
     py::arg("epsilon") = 1e-8f, py::arg("alpha") = 0.0f, py::arg("grad_scale") = 1.0f);

  m.def("sgd_update", [](py::array param, py::array grad, py::array vel, float lr, float momentum,
                         bool nesterov, float alpha, float scale) {
    const char* fn = "sgd_update";
    float* p = data_of(param, fn, "param", -1, true);
    const float* g = data_of(grad, fn, "grad", -1);
    float* vp = data_of(vel, fn, "velocity", -1, true);
    elementwise_same_shape(param, grad, fn, "grad");
    elementwise_same_shape(param, vel, fn, "velocity");
    py::gil_scoped_release release;
    sgd_update(p, g, vp, index_t(param.size()), lr, momentum, nesterov, alpha, scale);
  }, py::arg("param"), py::arg("grad"), py::arg("velocity"), py::kw_only(), py::arg("learning_rate"),
     py::arg("momentum") = 0.0f, py::arg("nesterov") = false, py::arg("alpha") = 0.0f,
     py::arg("grad_scale") = 1.0f);

  // ---- whole network ----
  py::class_<OptimizerConfig>(m, "OptimizerConfig")
      .def(py::init([](const std::string& kind, float lr, float b1, float b2, float eps,
                       float momentum, bool nesterov) {
             if (kind != "adam" && kind != "sgd")
               throw py::value_error("[OptimizerConfig] kind must be 'adam' or 'sgd', got '" + kind + "'");
             OptimizerConfig c;
             c.kind = kind == "adam" ? OptimizerConfig::Kind::adam : OptimizerConfig::Kind::sgd;
             c.learning_rate = lr, c.beta1 = b1, c.beta2 = b2, c.epsilon = eps;
             c.momentum = momentum, c.nesterov = nesterov;
             return c;
           }),
           py::arg("kind"), py::arg("learning_rate"), py::arg("beta1") = 0.9f,
           py::arg("beta2") = 0.999f, py::arg("epsilon") = 1e-8f, py::arg("momentum") = 0.0f,
           py::arg("nesterov") = false)
      .def_readwrite("learning_rate", &OptimizerConfig::learning_rate);

  m.def("train_epoch", [](py::list coefs, py::list intercepts, std::vector<Activation> hidden,
                          Loss loss, py::object X, py::array Y, std::optional<py::array> sw,
                          py::array order, index_t batch_size, float alpha,
                          const OptimizerConfig& opt, py::list state1, py::list state2,
                          py::array step) {
    const char* fn = "train_epoch";
    const Network net = network(coefs, intercepts, hidden, loss, fn, true);
    py::list keep;
    const InputRows rows = input_of(X, fn, keep);
    const float* yp = data_of(Y, fn, "Y", 2);
    require_shape(Y, {rows.rows, net.n_outputs()}, fn, "Y");
    const float* swp = optional_weights(sw, rows.rows, fn);
    const std::int64_t* op = data_of<std::int64_t>(order, fn, "order", 1);
    OptimizerState state;
    state.first = like_params(state1, net, fn, "state1");
    if (opt.kind == OptimizerConfig::Kind::adam)
      state.second = like_params(state2, net, fn, "state2");
    state.step = data_of<std::int64_t>(step, fn, "step", 1, true);
    require_shape(step, {1}, fn, "step");
    SignalCheck signals;
    EpochResult result;
    {
      py::gil_scoped_release release;
      result = train_epoch(net, rows, yp, swp, op, index_t(order.size()), batch_size, alpha, opt,
                           state, std::ref(signals));
    }
    if (signals.pending) throw *signals.pending;
    return result.loss_sum;
  }, py::arg("coefs"), py::arg("intercepts"), py::arg("activations"), py::arg("loss"), py::arg("X"),
     py::arg("Y"), py::arg("sample_weight"), py::arg("order"), py::arg("batch_size"),
     py::arg("alpha"), py::arg("optimizer"), py::arg("state1"), py::arg("state2"), py::arg("step"));

  m.def("predict", [](py::list coefs, py::list intercepts, std::vector<Activation> hidden, Loss loss,
                      py::object X, std::optional<py::array> out) {
    const char* fn = "predict";
    const Network net = network(coefs, intercepts, hidden, loss, fn, false);
    py::list keep;
    const InputRows rows = input_of(X, fn, keep);
    py::array result = out ? *out : py::array_t<float>({rows.rows, net.n_outputs()});
    MatrixView ov = out_matrix(result, fn, "out");
    bool finite;
    {
      py::gil_scoped_release release;
      finite = predict(net, rows, ov);
    }
    if (!finite) throw py::value_error("Input X contains NaN or infinity.");
    return result;
  }, py::arg("coefs"), py::arg("intercepts"), py::arg("activations"), py::arg("loss"), py::arg("X"),
     py::arg("out") = py::none());

  m.def("loss_and_gradient", [](py::list coefs, py::list intercepts, std::vector<Activation> hidden,
                                Loss loss, py::object X, py::array Y, std::optional<py::array> sw,
                                float alpha, py::list grad_coefs, py::list grad_intercepts) {
    const char* fn = "loss_and_gradient";
    const Network net = network(coefs, intercepts, hidden, loss, fn, false);
    py::list keep;
    const InputRows rows = input_of(X, fn, keep);
    const float* yp = data_of(Y, fn, "Y", 2);
    require_shape(Y, {rows.rows, net.n_outputs()}, fn, "Y");
    const float* swp = optional_weights(sw, rows.rows, fn);
    const size_t L = net.layers.size();
    py::list grads;
    for (auto g : grad_coefs) grads.append(g);
    for (auto g : grad_intercepts) grads.append(g);
    if (grad_coefs.size() != L || grad_intercepts.size() != L)
      throw py::value_error(where(fn, "grad_coefs") + " and grad_intercepts need " + std::to_string(L) + " arrays each");
    const std::vector<float*> all = like_params(grads, net, fn, "grad");
    const std::vector<float*> gw(all.begin(), all.begin() + L), gb(all.begin() + L, all.end());
    py::gil_scoped_release release;
    return loss_and_gradient(net, rows, yp, swp, alpha, gw, gb);
  }, py::arg("coefs"), py::arg("intercepts"), py::arg("activations"), py::arg("loss"), py::arg("X"),
     py::arg("Y"), py::arg("sample_weight"), py::arg("alpha"), py::arg("grad_coefs"),
     py::arg("grad_intercepts"));
}
