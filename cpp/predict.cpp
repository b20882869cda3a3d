// Inference: rows in cache-sized chunks, each chunk through the whole network on one
// thread (weights stay in cache, no barrier), a chunk a tile of one stage. One row takes the
// serial path with no parallel region and no copy of input of the network's type. A CSR X's chunk goes
// through the first layer with the CSR kernel, reading the nonzeros in place.
#include <algorithm>
#include <vector>

#include "dense.hpp"
#include "mlp.hpp"
#include "thread_pool.hpp"
#include "threads.hpp"

namespace nnfast {

namespace {

constexpr index_t kPredictRows = 128;

// Rows [r0, r0 + m) of X through the network into out rows; a and b are scratch of
// kPredictRows * widest_output floats, xbuf of kPredictRows * n_inputs (float64 input),
// csr_scratch this thread's for the CSR kernel (CSR input), packed the layers' packed W
// (an empty one: the GEMM packs that W itself).
// Returns false if the chunk's input holds a NaN or an infinity.
template <class T>
bool forward_chunk(const NetworkOf<T>& net, const InputRows& X, index_t r0, index_t m, MatrixViewOf<T> out,
                   T* xbuf, T* a, T* b, CsrScratchOf<T>* csr_scratch,
                   const std::vector<PackedBOf<T>>& packed) {
  const size_t L = net.layers.size();
  // Layer l's output: the caller's rows of out for the last layer, else scratch a.
  auto output_of = [&](size_t l) {
    const index_t n = net.layers[l].fan_out;
    return l + 1 == L ? MatrixViewOf<T>{out.data + r0 * out.ld, m, n, out.ld}
                      : MatrixViewOf<T>{a, m, n, n};
  };
  ConstMatrixViewOf<T> input;
  size_t first_dense = 0;  // the first layer computed with the GEMM
  bool finite = true;
  if (X.is_csr()) {
    const RowSelection rows{nullptr, r0, m};
    finite = csr_all_finite<T>(X.csr, rows);
    const DenseParamsOf<T>& p = net.layers[0];
    const MatrixViewOf<T> y = output_of(0);
    const CsrForwardTilesOf<T> one_tile(y, X.csr, rows, {p.w, p.fan_in, p.fan_out, p.fan_out, 1},
                                   p.b, net.activation_of(0), *csr_scratch, 1, {}, nullptr,
                                   p.column_scale);
    for (index_t t = 0; t < one_tile.count(); ++t) one_tile(t, 0);
    input = as_const(y);
    std::swap(a, b);
    first_dense = 1;
  } else if (!X.holds<T>()) {  // converted, to float32 or float64
    for (index_t r = 0; r < m; ++r) X.copy_row(r0 + r, xbuf + r * X.cols);
    input = {xbuf, m, X.cols, X.cols, 1};
    finite = all_finite(xbuf, m * X.cols);  // a double too large for float32 counts as inf
  } else {
    input = {static_cast<const T*>(X.data) + r0 * X.row_stride, m, X.cols, X.row_stride, 1};
    for (index_t r = 0; r < m && finite; ++r) finite = all_finite(input.data + r * input.rs, X.cols);
  }
  for (size_t l = first_dense; l < L; ++l) {
    const DenseParamsOf<T>& p = net.layers[l];
    const MatrixViewOf<T> y = output_of(l);
    const GemmTilesOf<T> one_tile(y, input, {p.w, p.fan_in, p.fan_out, p.fan_out, 1}, T(1), T(0),
                             bias_activation_epilogue<T>(net.activation_of(l), p.b, {}, nullptr,
                                                      p.column_scale),
                             1,
                             &packed[l]);
    one_tile(0, 0);
    input = as_const(y);
    std::swap(a, b);
  }
  for (index_t r = 0; r < m; ++r) {
    T* row = out.data + (r0 + r) * out.ld;
    output_activation(net.loss, row, row, 1, out.cols);
  }
  return finite;
}

}  // namespace

template <class T>
bool all_finite(const T* x, index_t n) {
  // x - x is 0 for finite x and NaN for NaN or +-inf; 16 lanes so it vectorizes.
  constexpr int L = 16;
  T lanes[L] = {};
  index_t i = 0;
  for (; i + L <= n; i += L)
    for (int j = 0; j < L; ++j) lanes[j] += x[i + j] - x[i + j];
  T total = T(0);
  for (int j = 0; j < L; ++j) total += lanes[j];
  for (; i < n; ++i) total += x[i] - x[i];
  return total == T(0);
}

template <class T>
bool predict(const NetworkOf<T>& net, const InputRows& X, MatrixViewOf<T> out) {
  net.check("predict");
  NNFAST_CHECK(X.cols == net.n_inputs(), "predict", "X has ", X.cols,
               " features, the network expects ", net.n_inputs());
  if (X.is_csr()) {
    NNFAST_CHECK(X.rows == X.csr.rows && X.cols == X.csr.cols, "predict",
                 "X's shape and CSR differ");
    X.csr.check("predict");
  }
  NNFAST_CHECK(out.rows == X.rows && out.cols == net.n_outputs(), "predict", "out is ", out.rows,
               "x", out.cols, ", expected ", X.rows, "x", net.n_outputs());
  const index_t chunks = (X.rows + kPredictRows - 1) / kPredictRows;
  // All scratch is allocated here, before any stage runs (nothing may throw in one).
  Team team(int(std::min<index_t>(get_num_threads(), chunks)));
  const int slots = team.slots();
  const index_t rows = std::min(kPredictRows, X.rows), width = net.widest_output();
  const bool gathers = !X.holds<T>() && !X.is_csr();  // dense rows of the other type: converted
  const index_t per_slot = 2 * rows * width + (gathers ? rows * X.cols : 0);
  std::vector<T> scratch(size_t(per_slot * slots));
  std::vector<CsrScratchOf<T>> csr_scratch;  // one per slot (CSR input only)
  if (X.is_csr())
    for (int t = 0; t < slots; ++t) csr_scratch.emplace_back(X.csr, 0, net.layers[0].fan_out, 1, false);
  std::vector<char> finite(size_t(slots), 1);  // one flag per slot
  // Every chunk would pack each large W again: with several chunks, each is packed once
  // here, and every thread reads that copy (memory: one more copy of those W per call).
  std::vector<PackedBOf<T>> packed(net.layers.size());
  for (size_t l = X.is_csr() ? 1 : 0; l < net.layers.size() && chunks > 1; ++l) {
    const DenseParamsOf<T>& p = net.layers[l];
    const ConstMatrixViewOf<T> w{p.w, p.fan_in, p.fan_out, p.fan_out, 1};
    if (PackedBOf<T>::worth_keeping(w)) packed[l] = PackedBOf<T>(w);
  }
  team.run(chunks, [&](index_t c, int slot) {
    T* a = scratch.data() + slot * per_slot;
    T* b = a + rows * width;
    T* xbuf = b + rows * width;
    const index_t r0 = c * kPredictRows;
    if (!forward_chunk<T>(net, X, r0, std::min(kPredictRows, X.rows - r0), out, xbuf, a, b,
                       X.is_csr() ? &csr_scratch[size_t(slot)] : nullptr, packed))
      finite[size_t(slot)] = 0;
  });
  return std::all_of(finite.begin(), finite.end(), [](char f) { return f != 0; });
}

template bool all_finite(const float*, index_t);
template bool all_finite(const double*, index_t);
template bool predict(const NetworkOf<float>&, const InputRows&, MatrixViewOf<float>);
template bool predict(const NetworkOf<double>&, const InputRows&, MatrixViewOf<double>);

}  // namespace nnfast
