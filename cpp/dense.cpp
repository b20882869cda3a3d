#include "dense.hpp"

#include <algorithm>

#include "kernel_table.hpp"
#include "thread_pool.hpp"
#include "threads.hpp"

namespace nnfast {

namespace {
int threads_worth(index_t n, index_t in, index_t out) {
  return 2.0 * n * in * out >= 2e5 ? get_num_threads() : 1;  // tiny: waking a thread costs more
}
void apply_bias_activation(const GemmEpilogue& ep, const KernelTable& kernels, float* c,
                           index_t ldc, index_t i0, index_t j0, index_t m, index_t n) {
  if (ep.scale) scale_columns(c, ldc, ep.scale + j0, m, n);
  kernels.f32.bias_activation(Activation(ep.code), c, ldc, ep.data ? ep.data + j0 : nullptr,
                          ep.out ? ep.out + i0 * ep.ld_out + j0 : nullptr, ep.ld_out, m, n);
  if (ep.context) static_cast<const DropoutLayer*>(ep.context)->forward(c, ldc, i0, j0, m, n);
}

void apply_activation_grad(const GemmEpilogue& ep, const KernelTable& kernels, float* c,
                           index_t ldc, index_t i0, index_t j0, index_t m, index_t n) {
  kernels.f32.activation_grad(Activation(ep.code), c, ldc, ep.data + i0 * ep.ld + j0, ep.ld, m, n);
  if (ep.context) static_cast<const DropoutLayer*>(ep.context)->backward(c, ldc, i0, j0, m, n);
}
}  // namespace

GemmEpilogue bias_activation_epilogue(Activation act, const float* bias, MatrixView pre,
                                      const DropoutLayer* dropout, const float* column_scale) {
  GemmEpilogue ep{apply_bias_activation, bias, 0, int(act)};
  ep.out = pre.data;
  ep.ld_out = pre.ld;
  ep.context = dropout;
  ep.scale = column_scale;
  return ep;
}

void scale_columns(float* c, index_t ldc, const float* scale, index_t m, index_t n) {
  for (index_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    for (index_t j = 0; j < n; ++j) row[j] *= scale[j];
  }
}

GemmEpilogue activation_grad_epilogue(Activation act, const float* saved, index_t lds,
                                      const DropoutLayer* dropout) {
  GemmEpilogue ep{apply_activation_grad, saved, lds, int(act)};
  ep.context = dropout;
  return ep;
}

GemmTiles dense_forward_tiles(MatrixView y, ConstMatrixView x, ConstMatrixView w,
                              const float* b, Activation act, int threads,
                              const PackedB* packed_w, MatrixView pre,
                              const DropoutLayer* dropout) {
  return GemmTiles(y, x, w, 1.0f, 0.0f, bias_activation_epilogue(act, b, pre, dropout), threads,
                   packed_w);
}

void dense_forward(MatrixView y, ConstMatrixView x, ConstMatrixView w, const float* b,
                   Activation act) {
  check_gemm_shapes("dense_forward", y, x, w);
  Team team(threads_worth(x.rows, x.cols, w.cols));
  GemmTiles tiles = dense_forward_tiles(y, x, w, b, act, team.slots());
  team.run(tiles.count(), tiles);
}

GemmTiles dense_weight_gradient_tiles(MatrixView dw, ConstMatrixView x, ConstMatrixView dz,
                                      bool accumulate, int threads,
                                      const GemmEpilogue& epilogue) {
  return GemmTiles(dw, x.transposed(), dz, 1.0f, accumulate ? 1.0f : 0.0f, epilogue, threads);
}

GemmTiles dense_backward_input_tiles(MatrixView dprev, ConstMatrixView dz, ConstMatrixView w,
                                     Activation act, ConstMatrixView saved, int threads,
                                     const DropoutLayer* dropout) {
  return GemmTiles(dprev, dz, w.transposed(), 1.0f, 0.0f,
                   activation_grad_epilogue(act, saved.data, saved.rs, dropout), threads);
}

void dense_backward(MatrixView dx, MatrixView dw, float* db, ConstMatrixView dz,
                    ConstMatrixView x, ConstMatrixView w) {
  check_gemm_shapes("dense_backward", dw, x.transposed(), dz);
  if (dx.data) check_gemm_shapes("dense_backward", dx, dz, w.transposed());
  Team team(threads_worth(x.rows, x.cols, w.cols));
  GemmTiles weights = dense_weight_gradient_tiles(dw, x, dz, false, team.slots());
  ColumnSumTiles bias(db, dz, false);
  GemmTiles input(dx, dz, w.transposed(), 1.0f, 0.0f, {}, team.slots());
  Stage stage;
  stage.add(weights.count(), weights).add(dx.data ? input.count() : 0, input).add(bias.count(), bias);
  team.run(stage);
}

void ColumnSumTiles::operator()(index_t tile, int) const {
  const index_t j0 = tile * kColumns, j1 = std::min(dz_.cols, j0 + kColumns);
  float* db = db_;
  const ConstMatrixView& dz = dz_;
  if (!accumulate_)
    for (index_t j = j0; j < j1; ++j) db[j] = 0.0f;
  if (dz.cs == 1) {
    // The layout of every training step. 16 columns at a time, summed down the rows in
    // registers (the same additions in the same order as the loop below), rather than
    // a load and store of db per row.
    constexpr index_t W = 16;
    index_t j = j0;
    for (; j + W <= j1; j += W) {
      float acc[W];
      for (index_t c = 0; c < W; ++c) acc[c] = db[j + c];
      for (index_t i = 0; i < dz.rows; ++i) {
        const float* row = dz.data + i * dz.rs + j;
        for (index_t c = 0; c < W; ++c) acc[c] += row[c];
      }
      for (index_t c = 0; c < W; ++c) db[j + c] = acc[c];
    }
    for (; j < j1; ++j) {
      float acc = db[j];
      for (index_t i = 0; i < dz.rows; ++i) acc += dz.data[i * dz.rs + j];
      db[j] = acc;
    }
    return;
  }
  for (index_t i = 0; i < dz.rows; ++i) {
    const float* row = dz.data + i * dz.rs;
    for (index_t j = j0; j < j1; ++j) db[j] += row[j * dz.cs];
  }
}

}  // namespace nnfast
