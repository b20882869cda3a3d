// Dense layer kernels over the GEMM driver, with fused epilogues.
// Shapes: x (n, in), w (in, out), b (out,), y (n, out), row-major.
// The *Tiles forms are the tiles of one stage (thread_pool.hpp), made for a team of
// `threads`; the plain forms check shapes and run on get_num_threads() threads.
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
GemmEpilogue bias_activation_epilogue(Activation act, const float* bias, MatrixView pre = {},
                                      const DropoutLayer* dropout = nullptr,
                                      const float* column_scale = nullptr);
// c[i][j] *= scale[j] over an m x n block (scale points at the block's first column).
void scale_columns(float* c, index_t ldc, const float* scale, index_t m, index_t n);
GemmEpilogue activation_grad_epilogue(Activation act, const float* saved, index_t lds,
                                      const DropoutLayer* dropout = nullptr);

// y := act(x @ w + b); the bias and activation are applied in the GEMM's store.
void dense_forward(MatrixView y, ConstMatrixView x, ConstMatrixView w, const float* b,
                   Activation act);
GemmTiles dense_forward_tiles(MatrixView y, ConstMatrixView x, ConstMatrixView w,
                              const float* b, Activation act, int threads,
                              const PackedB* packed_w = nullptr, MatrixView pre = {},
                              const DropoutLayer* dropout = nullptr);

// Gradients of a dense layer from dz = dL/d(pre-activation):
//   dw := x^T @ dz;  db := sum over rows of dz;  dx := dz @ w^T (skipped if dx.data null).
void dense_backward(MatrixView dx, MatrixView dw, float* db, ConstMatrixView dz,
                    ConstMatrixView x, ConstMatrixView w);

// dw := x^T @ dz, or dw += x^T @ dz when accumulate; then `epilogue` on each finished
// block of dw (the training step's optimizer update, mlp.cpp).
GemmTiles dense_weight_gradient_tiles(MatrixView dw, ConstMatrixView x, ConstMatrixView dz,
                                      bool accumulate, int threads,
                                      const GemmEpilogue& epilogue = {});

// The previous layer's gradient with its activation folded in (the training step's path):
//   dprev := (dz @ w^T) * act'(.) through that layer's `saved` output (or pre-activation,
//   where derivative_reads_input(act)).
GemmTiles dense_backward_input_tiles(MatrixView dprev, ConstMatrixView dz, ConstMatrixView w,
                                     Activation act, ConstMatrixView saved, int threads,
                                     const DropoutLayer* dropout = nullptr);

// db := column sums of dz (db += ... when accumulate). A tile is a fixed range of
// columns, summed down the rows in order, so the sums are bitwise the same for any
// thread count. The row-major walk vectorizes across columns.
class ColumnSumTiles {
 public:
  ColumnSumTiles(float* db, ConstMatrixView dz, bool accumulate)
      : db_(db), dz_(dz), accumulate_(accumulate) {}
  index_t count() const { return (dz_.cols + kColumns - 1) / kColumns; }
  void operator()(index_t tile, int slot) const;
  // The columns [j0, j1) of db a tile sums.
  std::pair<index_t, index_t> columns_of(index_t tile) const {
    return {tile * kColumns, std::min(dz_.cols, (tile + 1) * kColumns)};
  }

 private:
  static constexpr index_t kColumns = 64;
  float* db_;
  ConstMatrixView dz_;
  bool accumulate_;
};

}  // namespace nnfast
