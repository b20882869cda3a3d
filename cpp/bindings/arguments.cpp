// Argument checks and conversions of the bindings (see arguments.hpp).
#include "arguments.hpp"

#include <cstdint>

namespace nnfast::bindings {

std::string where(const char* fn, const char* name) { return std::string("[") + fn + "] " + name; }

void require_dtype(const py::array& a, const py::dtype& dt, const char* fn, const char* name) {
  if (!a.dtype().equal(dt))  // equal, not is: an unpickled array has its own dtype object
    throw py::type_error(where(fn, name) + " must be " + std::string(py::str(dt)) + ", got " +
                         std::string(py::str(a.dtype())));
}

py::array array_item(const py::handle& item, const char* fn, const char* name) {
  if (!py::isinstance<py::array>(item))
    throw py::type_error(where(fn, name) + " must be a numpy array, got " +
                         std::string(py::str(py::type::of(item))));
  return py::reinterpret_borrow<py::array>(item);
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

void require_aligned(const py::array& a, const char* fn, const char* name) {
  if (a.size() > 0 && reinterpret_cast<std::uintptr_t>(a.data()) % std::uintptr_t(a.itemsize()) != 0)
    throw py::value_error(where(fn, name) + " is not aligned to its " +
                          std::to_string(a.itemsize()) +
                          "-byte items (a view at an odd offset of a buffer?): pass a copy");
}


namespace {

// X for whole-network calls: float32 or float64, 2-D, each row contiguous.
InputRows input_rows(py::array& X, const char* fn) {
  const bool is_double = X.dtype().equal(py::dtype::of<double>());
  if (!is_double) require_dtype(X, py::dtype::of<float>(), fn, "X");
  require_aligned(X, fn, "X");
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
  require_aligned(a, fn, name.c_str());
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

}  // namespace

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
template <class T>
NetworkOf<T> network(py::list coefs, py::list intercepts, const std::vector<Activation>& hidden,
                     Loss loss, const char* fn, bool writable, double loss_parameter) {
  if (coefs.size() != intercepts.size() || coefs.empty())
    throw py::value_error(where(fn, "coefs") + " and intercepts must be non-empty lists of equal length");
  NetworkOf<T> net;
  net.hidden = hidden;
  net.loss = loss;
  net.loss_parameter = loss_parameter;
  for (size_t l = 0; l < coefs.size(); ++l) {
    auto w = array_item(coefs[l], fn, "coefs[i]");
    auto b = array_item(intercepts[l], fn, "intercepts[i]");
    T* wp = data_of<T>(w, fn, "coefs[i]", 2, writable);
    T* bp = data_of<T>(b, fn, "intercepts[i]", 1, writable);
    require_shape(b, {index_t(w.shape(1))}, fn, "intercepts[i]");
    net.layers.push_back({wp, bp, index_t(w.shape(0)), index_t(w.shape(1))});
  }
  net.check(fn);
  return net;
}

// Views of a list of arrays of T shaped like the parameters (coefs..., intercepts...):
// 2 * n_layers of them.
template <class T>
std::vector<T*> like_params(py::list arrays, const NetworkOf<T>& net, const char* fn,
                            const char* name, size_t normalized_layers) {
  const size_t L = net.layers.size(), n = 2 * L + 2 * normalized_layers;
  if (arrays.size() < n)
    throw py::value_error(where(fn, name) + " needs " + std::to_string(n) + " arrays");
  std::vector<T*> out;
  for (size_t i = 0; i < n; ++i) {
    auto a = array_item(arrays[i], fn, name);
    if (i < L) {
      require_shape(a, {net.layers[i].fan_in, net.layers[i].fan_out}, fn, name);
    } else if (i < 2 * L) {
      require_shape(a, {net.layers[i - L].fan_out}, fn, name);
    } else {  // batch norm's scales, then shifts, of hidden layers 0, 1, ...
      require_shape(a, {net.layers[(i - 2 * L) % normalized_layers].fan_out}, fn, name);
    }
    out.push_back(data_of<T>(a, fn, name, -1, true));
  }
  return out;
}

template <class T>
BatchNormConfigOf<T> batch_norm_of(py::list scales, py::list shifts, py::list running_means,
                                   py::list running_vars, double momentum, double epsilon,
                                   const NetworkOf<T>& net, const char* fn) {
  BatchNormConfigOf<T> config;
  config.momentum = momentum, config.epsilon = epsilon;
  const size_t hidden = net.layers.size() - 1;
  if (scales.empty() && shifts.empty() && running_means.empty() && running_vars.empty())
    return config;
  const std::pair<const char*, py::list*> lists[] = {{"batch_norm_scales", &scales},
                                                     {"batch_norm_shifts", &shifts},
                                                     {"running_means", &running_means},
                                                     {"running_vars", &running_vars}};
  for (const auto& [name, list] : lists)
    if (list->size() != hidden)
      throw py::value_error(where(fn, name) + " needs one array per hidden layer (" +
                            std::to_string(hidden) + "), got " + std::to_string(list->size()));
  for (size_t l = 0; l < hidden; ++l) {
    T* p[4];
    for (int k = 0; k < 4; ++k) {
      auto a = array_item((*lists[k].second)[l], fn, lists[k].first);
      require_shape(a, {net.layers[l].fan_out}, fn, lists[k].first);
      p[k] = data_of<T>(a, fn, lists[k].first, 1, true);
    }
    config.layers.push_back({p[0], p[1], p[2], p[3]});
  }
  return config;
}

// The two element types.
#define NNFAST_NETWORK_ARGUMENTS(T)                                                          \
  template NetworkOf<T> network(py::list, py::list, const std::vector<Activation>&, Loss,    \
                                const char*, bool, double);                                  \
  template std::vector<T*> like_params(py::list, const NetworkOf<T>&, const char*,           \
                                       const char*, size_t);                                 \
  template BatchNormConfigOf<T> batch_norm_of(py::list, py::list, py::list, py::list, double, \
                                              double, const NetworkOf<T>&, const char*);
NNFAST_NETWORK_ARGUMENTS(float)
NNFAST_NETWORK_ARGUMENTS(double)
#undef NNFAST_NETWORK_ARGUMENTS

namespace {
bool overlap(const py::array& a, const py::array& b) {
  if (a.nbytes() == 0 || b.nbytes() == 0) return false;
  const char* a0 = static_cast<const char*>(a.data());
  const char* b0 = static_cast<const char*>(b.data());
  return a0 < b0 + b.nbytes() && b0 < a0 + a.nbytes();
}
}  // namespace

void require_no_overlap(const char* fn, std::initializer_list<Named> written,
                        std::initializer_list<Named> read) {
  auto fail_if = [fn](const Named& out, const Named& other) {
    if (overlap(out.array, other.array))
      throw py::value_error(where(fn, out.name) + " shares memory with " + other.name +
                            ": an output must not overlap any other argument (pass a copy)");
  };
  for (auto out = written.begin(); out != written.end(); ++out) {
    for (auto other = out + 1; other != written.end(); ++other) fail_if(*out, *other);
    for (const Named& other : read) fail_if(*out, other);
  }
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

}  // namespace nnfast::bindings
