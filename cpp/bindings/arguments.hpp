// Python arguments to core views: every check of a kernel's arguments happens here,
// before the GIL is released. A wrong dtype is a TypeError, a wrong shape or layout a
// ValueError; each message starts with "[function] argument".
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "../gemm.hpp"
#include "../mlp.hpp"
#include "../sparse_input.hpp"

namespace nnfast::bindings {

namespace py = pybind11;

std::string where(const char* fn, const char* name);
void require_dtype(const py::array& a, const py::dtype& dt, const char* fn, const char* name);
std::string shape_string(const py::array& a);
void require_shape(const py::array& a, std::initializer_list<index_t> shape, const char* fn,
                   const char* name);
// `b` must have exactly the shape of `a` (elementwise kernels).
void elementwise_same_shape(const py::array& a, const py::array& b, const char* fn,
                            const char* name);

// An array and its argument name, for require_no_overlap.
struct Named {
  const char* name;
  const py::array& array;
};
// Every array a kernel writes must share no byte with any other argument: a kernel reads
// and writes in an order set by its blocking and threads, so an overlap gives a wrong
// result (ops.gemm(a, b, out=a) was off by 1e4). Checked on the arrays' byte ranges
// (all are C-contiguous by then). ValueError naming both arguments.
void require_no_overlap(const char* fn, std::initializer_list<Named> written,
                        std::initializer_list<Named> read);

// The array's data must sit at a multiple of its item size (a view at an odd byte offset of
// a byte buffer does not; the kernels' loads assume it, and UBSan flags them): ValueError.
void require_aligned(const py::array& a, const char* fn, const char* name);

// The data of a C-contiguous, aligned array of T and the given rank (-1: any rank).
template <class T = float>
T* data_of(py::array& a, const char* fn, const char* name, int ndim, bool writable = false) {
  require_dtype(a, py::dtype::of<T>(), fn, name);
  require_aligned(a, fn, name);
  if (ndim >= 0 && a.ndim() != ndim)
    throw py::value_error(where(fn, name) + " must be " + std::to_string(ndim) + "-D, got " +
                          std::to_string(a.ndim()) + "-D");
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(where(fn, name) + " must be C-contiguous");
  if (writable && !a.writeable()) throw py::value_error(where(fn, name) + " must be writable");
  return static_cast<T*>(writable ? a.mutable_data() : const_cast<void*>(a.data()));
}

// A list item that must already be a NumPy array (TypeError naming it otherwise): the
// pointers taken into it must stay valid while the list holds it, which an array
// converted from a nested list (a temporary) would not.
py::array array_item(const py::handle& item, const char* fn, const char* name);

// Calls body(T()) with T the element type of `a`, float32 or float64 (TypeError naming the
// argument otherwise): the elementwise kernels of nnfast.ops take either, and data_of<T>
// then requires every other array of the call to have the same one.
template <class Body>
void with_element_type(const py::array& a, const char* fn, const char* name, Body&& body) {
  if (a.dtype().equal(py::dtype::of<double>())) return body(double());
  if (!a.dtype().equal(py::dtype::of<float>()))
    throw py::type_error(where(fn, name) + " must be float32 or float64, got " +
                         std::string(py::str(a.dtype())));
  body(float());
}

// A C-contiguous matrix of T (float32 by default; transposed view when `trans`), and a
// writable one.
template <class T = float>
ConstMatrixViewOf<T> matrix(py::array& a, const char* fn, const char* name, bool trans = false) {
  const T* p = data_of<T>(a, fn, name, 2);
  ConstMatrixViewOf<T> v{p, index_t(a.shape(0)), index_t(a.shape(1)), index_t(a.shape(1)), 1};
  return trans ? v.transposed() : v;
}
template <class T = float>
MatrixViewOf<T> out_matrix(py::array& a, const char* fn, const char* name) {
  T* p = data_of<T>(a, fn, name, 2, true);
  return {p, index_t(a.shape(0)), index_t(a.shape(1)), index_t(a.shape(1))};
}

// X of the whole-network calls: a dense float32/float64 array with contiguous rows, or a
// scipy.sparse CSR matrix or array read in place. `keep` holds X's arrays until the call
// returns (a CSR's X.data could be rebound meanwhile).
InputRows input_of(const py::object& X, const char* fn, py::list& keep);
// x of the CSR kernels: a scipy.sparse CSR matrix or array only.
CsrMatrix csr_kernel_input(const py::object& x, const char* fn, py::list& keep);
// The optional batch rows of the CSR kernels: int64 row ids, or all of X's rows.
RowSelection row_selection(std::optional<py::array>& rows, const CsrMatrix& x, const char* fn);

// The whole-network calls run in the element type T of the first coefs array (float32 or
// float64: with_element_type); every other array of the call must be of T.

// The network viewed from lists of arrays of T. writable: training updates them in
// place; predict and loss_and_gradient only read them (a read-only model still predicts).
template <class T>
NetworkOf<T> network(py::list coefs, py::list intercepts, const std::vector<Activation>& hidden,
                     Loss loss, const char* fn, bool writable, double loss_parameter = 0.0);
// Views of 2 * n_layers arrays of T shaped like the parameters (coefs..., intercepts...),
// then 2 * normalized_layers shaped like batch norm's (scales..., shifts...).
template <class T>
std::vector<T*> like_params(py::list arrays, const NetworkOf<T>& net, const char* fn,
                            const char* name, size_t normalized_layers = 0);
// Batch norm's arrays, four lists of one (fan_out,) array of T per hidden layer, or all
// four empty (no batch norm); std::invalid_argument on a bad momentum or epsilon (check).
template <class T>
BatchNormConfigOf<T> batch_norm_of(py::list scales, py::list shifts, py::list running_means,
                                   py::list running_vars, double momentum, double epsilon,
                                   const NetworkOf<T>& net, const char* fn);
// sample_weight: null, or n weights of T.
template <class T = float>
const T* optional_weights(std::optional<py::array>& sw, index_t n, const char* fn) {
  if (!sw) return nullptr;
  const T* p = data_of<T>(*sw, fn, "sample_weight", 1);
  require_shape(*sw, {n}, fn, "sample_weight");
  return p;
}

}  // namespace nnfast::bindings
