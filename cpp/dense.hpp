// Dense layer kernels over the GEMM driver, with fused epilogues.
// Shapes: x (n, in), w (in, out), b (out,), y (n, out), row-major.
// The *Tiles forms are the tiles of one stage (thread_pool.hpp), made for a team of
// `threads`; the plain forms check shapes and run on get_num_threads() threads.
// Templates on the element type T (float, double), defined in dense.cpp for both.
#pragma once
#include <algorithm>
#include <utility>

#include "activations.hpp"
#include "dropout.hpp"
#include "gemm.hpp"

namespace nnfast {

// The dense layer's GEMM epilogues (through the kernel table's activation kernels):
//   c[i][j] = act(c[i][j] + bias[j])           (bias may be null), the pre-activation
//                                              c[i][j] + bias[j] also into pre (unless
//                                              pre.data is null: the training step keeps
//                                              it where derivative_reads_input(act))
//   c[i][j] *= act'(.) through saved[i * lds + j] (the activation's output, or its input
//                                              where derivative_reads_input(act))
// With dropout (training), each also applies the layer's keep factors after the
// activation (DropoutLayer::forward / backward); it must outlive the GEMM.
// With column_scale (predict's batch norm, mlp.hpp's DenseParams), c[i][j] is first
// multiplied by column_scale[j].
template <class T>
GemmEpilogueOf<T> bias_activation_epilogue(Activation act, const T* bias,
                                           MatrixViewOf<T> pre = {},
                                           const DropoutLayerOf<T>* dropout = nullptr,
                                           const T* column_scale = nullptr);
// c[i][j] *= scale[j] over an m x n block (scale points at the block's first column).
template <class T>
void scale_columns(T* c, index_t ldc, const T* scale, index_t m, index_t n);
template <class T>
GemmEpilogueOf<T> activation_grad_epilogue(Activation act, const T* saved, index_t lds,
                                           const DropoutLayerOf<T>* dropout = nullptr);

// y := act(x @ w + b); the bias and activation are applied in the GEMM's store.
template <class T>
void dense_forward(MatrixViewOf<T> y, ConstMatrixViewOf<T> x, ConstMatrixViewOf<T> w,
                   const T* b, Activation act);
template <class T>
GemmTilesOf<T> dense_forward_tiles(MatrixViewOf<T> y, ConstMatrixViewOf<T> x,
                                   ConstMatrixViewOf<T> w, const T* b, Activation act,
                                   int threads, const PackedBOf<T>* packed_w = nullptr,
                                   MatrixViewOf<T> pre = {},
                                   const DropoutLayerOf<T>* dropout = nullptr);

// Gradients of a dense layer from dz = dL/d(pre-activation):
//   dw := x^T @ dz;  db := sum over rows of dz;  dx := dz @ w^T (skipped if dx.data null).
template <class T>
void dense_backward(MatrixViewOf<T> dx, MatrixViewOf<T> dw, T* db, ConstMatrixViewOf<T> dz,
                    ConstMatrixViewOf<T> x, ConstMatrixViewOf<T> w);

// dw := x^T @ dz, or dw += x^T @ dz when accumulate; then `epilogue` on each finished
// block of dw (the training step's optimizer update, mlp.cpp).
template <class T>
GemmTilesOf<T> dense_weight_gradient_tiles(MatrixViewOf<T> dw, ConstMatrixViewOf<T> x,
                                           ConstMatrixViewOf<T> dz, bool accumulate,
                                           int threads, const GemmEpilogueOf<T>& epilogue = {});

// The previous layer's gradient with its activation folded in (the training step's path):
//   dprev := (dz @ w^T) * act'(.) through that layer's `saved` output (or pre-activation,
//   where derivative_reads_input(act)).
template <class T>
GemmTilesOf<T> dense_backward_input_tiles(MatrixViewOf<T> dprev, ConstMatrixViewOf<T> dz,
                                          ConstMatrixViewOf<T> w, Activation act,
                                          ConstMatrixViewOf<T> saved, int threads,
                                          const DropoutLayerOf<T>* dropout = nullptr);

// db := column sums of dz (db += ... when accumulate). A tile is a fixed range of
// columns, summed down the rows in order, so the sums are bitwise the same for any
// thread count. The row-major walk vectorizes across columns.
template <class T>
class ColumnSumTilesOf {
 public:
  ColumnSumTilesOf(T* db, ConstMatrixViewOf<T> dz, bool accumulate)
      : db_(db), dz_(dz), accumulate_(accumulate) {}
  index_t count() const { return (dz_.cols + kColumns - 1) / kColumns; }
  void operator()(index_t tile, int slot) const;
  // The columns [j0, j1) of db a tile sums.
  std::pair<index_t, index_t> columns_of(index_t tile) const {
    return {tile * kColumns, std::min(dz_.cols, (tile + 1) * kColumns)};
  }

 private:
  static constexpr index_t kColumns = 64;
  T* db_;
  ConstMatrixViewOf<T> dz_;
  bool accumulate_;
};
using ColumnSumTiles = ColumnSumTilesOf<float>;

}  // namespace nnfast
