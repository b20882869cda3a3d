// CSR first-layer kernels: checks and tile grids. The loops themselves are in
// kernels/sparse_input.inc, compiled per instruction set in cpp/isa/ (with FMA where the
// GEMM micro-kernel has it, to round exactly as it does) and reached through the
// active KernelTable.
#include "sparse_input.hpp"

#include <algorithm>
#include <cmath>

#include "dense.hpp"
#include "kernel_table.hpp"
#include "thread_pool.hpp"
#include "threads.hpp"

namespace nnfast {

void CsrMatrix::check(const char* fn) const {
  NNFAST_CHECK(rows >= 0 && cols >= 0, fn, "X has a negative dimension");
  NNFAST_CHECK(indptr && (stored == 0 || (data && indices)), fn, "X's CSR arrays are missing");
  NNFAST_CHECK(row_begin(0) == 0, fn, "X.indptr[0] is ", row_begin(0), ", expected 0");
  for (index_t i = 0; i < rows; ++i) {
    const index_t begin = row_begin(i), end = row_begin(i + 1);
    NNFAST_CHECK(end >= begin, fn, "X.indptr must not decrease: indptr[", i + 1, "] = ", end,
                 " < indptr[", i, "] = ", begin);
  }
  const index_t nnz = row_begin(rows);
  NNFAST_CHECK(nnz <= stored, fn, "X.indptr[-1] is ", nnz, " but X.data and X.indices hold ",
               stored, " entries");
  for (index_t k = 0; k < nnz; ++k) {
    const index_t c = column(k);
    if (c < 0 || c >= cols)  // the message is built only on failure
      fail(fn, "X.indices[", k, "] = ", c, " is not a column of X (", cols, " columns)");
  }
}

index_t csr_nnz(const CsrMatrix& x, RowSelection rows) {
  if (!rows.ids) return x.row_begin(rows.first + rows.count) - x.row_begin(rows.first);
  index_t nnz = 0;
  for (index_t r = 0; r < rows.count; ++r) nnz += x.row_begin(rows[r] + 1) - x.row_begin(rows[r]);
  return nnz;
}

template <class T>
bool csr_all_finite(const CsrMatrix& x, RowSelection rows) {
  for (index_t r = 0; r < rows.count; ++r) {
    const index_t i = rows[r];
    for (index_t k = x.row_begin(i); k < x.row_begin(i + 1); ++k)
      if (!std::isfinite(x.value<T>(k))) return false;  // a float64 beyond float32 counts as inf
  }
  return true;
}

template <class T>
CsrScratchOf<T>::CsrScratchOf(const CsrMatrix& x, index_t max_batch_nnz, index_t fan_out_,
                              int nthreads, bool gradient)
    : fan_out(fan_out_), partial(size_t(fan_out_ * std::max(nthreads, 1))) {
  if (!gradient) return;
  column_end.resize(size_t(x.cols));
  entry_row.resize(size_t(max_batch_nnz));
  entry_value.resize(size_t(max_batch_nnz));
}

namespace {

std::pair<index_t, index_t> split(index_t n, index_t part, index_t parts) {
  return {n * part / parts, n * (part + 1) / parts};
}

void check_rows(const char* fn, const CsrMatrix& x, RowSelection rows) {
  NNFAST_CHECK(rows.count >= 0, fn, "negative row count");
  if (!rows.ids) {
    NNFAST_CHECK(rows.first >= 0 && rows.first + rows.count <= x.rows, fn, "rows [", rows.first,
                 ", ", rows.first + rows.count, ") are not rows of X (", x.rows, " rows)");
    return;
  }
  for (index_t r = 0; r < rows.count; ++r)
    NNFAST_CHECK(rows.ids[r] >= 0 && rows.ids[r] < x.rows, fn, "rows[", r, "] = ", rows.ids[r],
                 " is not a row of X (", x.rows, " rows)");
}

}  // namespace

template <class T>
void check_csr_forward(const char* fn, MatrixViewOf<T> y, const CsrMatrix& x, RowSelection rows,
                       ConstMatrixViewOf<T> w) {
  check_rows(fn, x, rows);
  NNFAST_CHECK(w.rows == x.cols, fn, "X has ", x.cols, " columns, w has ", w.rows, " rows");
  NNFAST_CHECK(w.cs == 1, fn, "w's rows must be contiguous");
  NNFAST_CHECK(y.rows == rows.count && y.cols == w.cols, fn, "out is ", y.rows, "x", y.cols,
               ", expected ", rows.count, "x", w.cols);
}

template <class T>
void check_csr_weight_gradient(const char* fn, MatrixViewOf<T> dw, const CsrMatrix& x,
                               RowSelection rows, ConstMatrixViewOf<T> dz) {
  check_rows(fn, x, rows);
  NNFAST_CHECK(dz.rows == rows.count, fn, "dz has ", dz.rows, " rows, the batch has ",
               rows.count);
  NNFAST_CHECK(dz.cs == 1, fn, "dz's rows must be contiguous");
  NNFAST_CHECK(dw.rows == x.cols && dw.cols == dz.cols, fn, "dw is ", dw.rows, "x", dw.cols,
               ", expected ", x.cols, "x", dz.cols);
}

namespace {
// Row groups of the forward tiles: a few per thread, for balance.
constexpr index_t kRowGroupsPerThread = 4;
}  // namespace

template <class T>
CsrForwardTilesOf<T>::CsrForwardTilesOf(MatrixViewOf<T> y, const CsrMatrix& x, RowSelection rows,
                                        ConstMatrixViewOf<T> w, const T* b, Activation act,
                                        CsrScratchOf<T>& scratch, int threads, MatrixViewOf<T> pre,
                                        const DropoutLayerOf<T>* dropout, const T* column_scale)
    : y_(y), x_(x), rows_(rows), w_(w), b_(b), act_(act), scratch_(scratch),
      groups_(std::min<index_t>(rows.count, kRowGroupsPerThread * std::max(threads, 1))),
      pre_(pre), dropout_(dropout), column_scale_(column_scale) {}

template <class T>
void CsrForwardTilesOf<T>::operator()(index_t tile, int slot) const {
  const auto [r0, r1] = split(rows_.count, tile, groups_);
  if (r0 >= r1) return;
  active_kernels().of<T>().csr_forward_rows(y_, x_, rows_, r0, r1, w_, scratch_.partial_of(slot),
                  gemm_blocking().kc);
  // The dense layer's epilogue, the same kernel: CSR and dense input give the same values.
  if (column_scale_) scale_columns(y_.data + r0 * y_.ld, y_.ld, column_scale_, r1 - r0, y_.cols);
  active_kernels().of<T>().bias_activation(act_, y_.data + r0 * y_.ld, y_.ld, b_,
                                   pre_.data ? pre_.data + r0 * pre_.ld : nullptr, pre_.ld,
                                   r1 - r0, y_.cols);
  if (dropout_) dropout_->forward(y_.data + r0 * y_.ld, y_.ld, r0, 0, r1 - r0, y_.cols);
}

template <class T>
CsrWeightGradientTilesOf<T>::CsrWeightGradientTilesOf(MatrixViewOf<T> dw, const CsrMatrix& x,
                                                      RowSelection rows, ConstMatrixViewOf<T> dz,
                                                      bool accumulate, CsrScratchOf<T>& scratch,
                                                      int threads)
    : dw_(dw), x_(x), rows_(rows), dz_(dz), accumulate_(accumulate), scratch_(scratch),
      groups_(std::min<index_t>(x.cols, std::max(threads, 1))) {}

template <class T>
std::pair<index_t, index_t> CsrWeightGradientTilesOf<T>::rows_of(index_t tile) const {
  return split(x_.cols, tile, groups_);
}

template <class T>
void CsrWeightGradientTilesOf<T>::operator()(index_t tile, int slot) const {
  const auto [p0, p1] = rows_of(tile);
  if (p0 >= p1) return;
  active_kernels().of<T>().csr_gradient_features(dw_, x_, rows_, dz_, accumulate_, p0, p1,
                  scratch_.column_end.data(), scratch_.entry_row.data(),
                  scratch_.entry_value.data(), scratch_.partial_of(slot), gemm_blocking().kc);
}

void csr_dense_forward(MatrixView y, const CsrMatrix& x, RowSelection rows, ConstMatrixView w,
                       const float* b, Activation act) {
  x.check("csr_dense_forward");
  check_csr_forward("csr_dense_forward", y, x, rows, w);
  Team team(get_num_threads());
  CsrScratch scratch(x, 0, w.cols, team.slots(), false);
  CsrForwardTiles tiles(y, x, rows, w, b, act, scratch, team.slots());
  team.run(tiles.count(), tiles);
}

void csr_weight_gradient(MatrixView dw, const CsrMatrix& x, RowSelection rows,
                         ConstMatrixView dz, bool accumulate) {
  x.check("csr_weight_gradient");
  check_csr_weight_gradient("csr_weight_gradient", dw, x, rows, dz);
  Team team(get_num_threads());
  CsrScratch scratch(x, csr_nnz(x, rows), dz.cols, team.slots(), true);
  CsrWeightGradientTiles tiles(dw, x, rows, dz, accumulate, scratch, team.slots());
  team.run(tiles.count(), tiles);
}

// The two element types.
#define NNFAST_CSR_INSTANCES(T)                                                              \
  template bool csr_all_finite<T>(const CsrMatrix&, RowSelection);                           \
  template struct CsrScratchOf<T>;                                                           \
  template class CsrForwardTilesOf<T>;                                                       \
  template class CsrWeightGradientTilesOf<T>;                                                \
  template void check_csr_forward(const char*, MatrixViewOf<T>, const CsrMatrix&,            \
                                  RowSelection, ConstMatrixViewOf<T>);                       \
  template void check_csr_weight_gradient(const char*, MatrixViewOf<T>, const CsrMatrix&,    \
                                          RowSelection, ConstMatrixViewOf<T>);
NNFAST_CSR_INSTANCES(float)
NNFAST_CSR_INSTANCES(double)
#undef NNFAST_CSR_INSTANCES

}  // namespace nnfast
