// Sparse (CSR) input for the first layer: a view of scipy's three arrays, and the two
// products the first layer needs from it. The first layer's dX is never needed, so X is
// only ever read: never densified, never copied, never converted up front.
//
// Sums run in the dense GEMM's order: for each output element the terms are added in
// increasing K (column of X forward, batch row backward), from zero within each K block
// of gemm_blocking().kc, block sums added in block order, with a fused multiply-add
// exactly where the active GEMM micro-kernel uses one. A zero term changes no sum, so
// when each row's indices are sorted and unique (scipy's canonical format) the results
// are bitwise those of the dense path on X.toarray().
#pragma once
#include <cstdint>
#include <vector>

#include "activations.hpp"
#include "dropout.hpp"
#include "gemm.hpp"

namespace nnfast {

// A CSR matrix as scipy stores it, viewed in place: row i's nonzeros are data[k] at
// column indices[k], for k in [indptr[i], indptr[i + 1]). Each array keeps the dtype
// scipy chose: data float32 or float64 (a value becomes the kernels' element type when
// it is used), indices and indptr int32 or int64 (independently).
// The kernels and tiles below are templates on that element type T (float, double),
// defined in sparse_input.cpp for both.
struct CsrMatrix {
  const void* data = nullptr;
  const void* indices = nullptr;
  const void* indptr = nullptr;  // rows + 1 entries
  bool data_is_double = false, indices_are_64 = false, indptr_is_64 = false;
  index_t rows = 0, cols = 0;
  index_t stored = 0;  // entries data and indices hold (scipy may keep spare capacity)

  index_t row_begin(index_t i) const {
    return indptr_is_64 ? static_cast<const std::int64_t*>(indptr)[i]
                        : static_cast<const std::int32_t*>(indptr)[i];
  }
  index_t column(index_t k) const {
    return indices_are_64 ? static_cast<const std::int64_t*>(indices)[k]
                          : static_cast<const std::int32_t*>(indices)[k];
  }
  template <class T = float>
  T value(index_t k) const {
    return data_is_double ? T(static_cast<const double*>(data)[k])
                          : T(static_cast<const float*>(data)[k]);
  }
  // Throws std::invalid_argument("[fn] X.indptr ...") unless indptr starts at 0, never
  // decreases and ends within `stored`, and every index of a row is a column of X.
  // O(nnz); called by every entry point before any parallel region.
  void check(const char* fn) const;
};

// The rows of X that form a batch: batch row r is X's row ids[r], or first + r when
// ids is null (consecutive rows).
struct RowSelection {
  const std::int64_t* ids = nullptr;
  index_t first = 0, count = 0;
  index_t operator[](index_t r) const { return ids ? ids[r] : first + r; }
};

// Number of nonzeros in the selected rows.
index_t csr_nnz(const CsrMatrix& x, RowSelection rows);

// True when every value in the selected rows is finite as a T.
template <class T = float>
bool csr_all_finite(const CsrMatrix& x, RowSelection rows);

// Scratch for the kernels, sized once before any parallel region, reused per batch.
template <class T>
struct CsrScratchOf {
  index_t fan_out = 0;
  std::vector<T> partial;            // per thread slot: one row (fan_out) of block sums
  std::vector<index_t> column_end;   // (x.cols,): X[rows]^T in CSC order, column ends
  std::vector<index_t> entry_row;    // (nnz of the batch): batch row of each entry
  std::vector<T> entry_value;        // (nnz of the batch): its value
  CsrScratchOf() = default;
  // For batches of at most max_batch_nnz nonzeros; `gradient` adds the transposition
  // buffers that csr_weight_gradient_team needs.
  CsrScratchOf(const CsrMatrix& x, index_t max_batch_nnz, index_t fan_out, int nthreads,
               bool gradient);
  T* partial_of(int slot) { return partial.data() + slot * fan_out; }
};
using CsrScratch = CsrScratchOf<float>;

// y (m, n) := act(X[rows] @ w + b), m = rows.count; w (x.cols, n) rows contiguous, b (n,)
// or null. Each nonzero x_ik adds x_ik * w[k, :] to row i. A tile is a fixed range of
// rows (the tiles of one stage, thread_pool.hpp); scratch has a slot per thread.
template <class T>
class CsrForwardTilesOf {
 public:
  // pre: where the pre-activation is also kept (data null: not kept), as the dense
  // layer's bias_activation_epilogue.
  CsrForwardTilesOf(MatrixViewOf<T> y, const CsrMatrix& x, RowSelection rows,
                    ConstMatrixViewOf<T> w, const T* b, Activation act, CsrScratchOf<T>& scratch,
                    int threads, MatrixViewOf<T> pre = {},
                    const DropoutLayerOf<T>* dropout = nullptr, const T* column_scale = nullptr);
  index_t count() const { return groups_; }
  void operator()(index_t tile, int slot) const;

 private:
  MatrixViewOf<T> y_;
  const CsrMatrix& x_;
  RowSelection rows_;
  ConstMatrixViewOf<T> w_;
  const T* b_;
  Activation act_;
  CsrScratchOf<T>& scratch_;
  index_t groups_;
  MatrixViewOf<T> pre_;
  const DropoutLayerOf<T>* dropout_;
  const T* column_scale_;  // predict's batch norm (bias_activation_epilogue), or null
};
using CsrForwardTiles = CsrForwardTilesOf<float>;

// dw (x.cols, n) := X[rows]^T @ dz, or dw += X[rows]^T @ dz when accumulate; dz (m, n).
// A tile is a fixed range of dw's rows (features), one per thread of the team it is made
// for: it transposes its share of the batch into (column_end, entry_row, entry_value)
// and sums each dw row in batch-row order, so each element is summed in a fixed order.
// Every row of dw is written (rows of features absent from the batch become zero).
template <class T>
class CsrWeightGradientTilesOf {
 public:
  CsrWeightGradientTilesOf(MatrixViewOf<T> dw, const CsrMatrix& x, RowSelection rows,
                           ConstMatrixViewOf<T> dz, bool accumulate, CsrScratchOf<T>& scratch,
                           int threads);
  index_t count() const { return groups_; }
  void operator()(index_t tile, int slot) const;
  // The rows [p0, p1) of dw (features) a tile computes.
  std::pair<index_t, index_t> rows_of(index_t tile) const;

 private:
  MatrixViewOf<T> dw_;
  const CsrMatrix& x_;
  RowSelection rows_;
  ConstMatrixViewOf<T> dz_;
  bool accumulate_;
  CsrScratchOf<T>& scratch_;
  index_t groups_;
};
using CsrWeightGradientTiles = CsrWeightGradientTilesOf<float>;

// Whole-call forms (tests, the Python kernel API; float32): check everything, allocate
// the scratch, run on get_num_threads() threads.
void csr_dense_forward(MatrixView y, const CsrMatrix& x, RowSelection rows, ConstMatrixView w,
                       const float* b, Activation act);
void csr_weight_gradient(MatrixView dw, const CsrMatrix& x, RowSelection rows,
                         ConstMatrixView dz, bool accumulate);

// Shape checks shared by the entry points (std::invalid_argument; rows.ids in range).
template <class T>
void check_csr_forward(const char* fn, MatrixViewOf<T> y, const CsrMatrix& x, RowSelection rows,
                       ConstMatrixViewOf<T> w);
template <class T>
void check_csr_weight_gradient(const char* fn, MatrixViewOf<T> dw, const CsrMatrix& x,
                               RowSelection rows, ConstMatrixViewOf<T> dz);

}  // namespace nnfast
