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
template <class T>
void apply_bias_activation(const GemmEpilogueOf<T>& ep, const KernelTable& kernels, T* c,
                           index_t ldc, index_t i0, index_t j0, index_t m, index_t n) {
  if (ep.scale) scale_columns(c, ldc, ep.scale + j0, m, n);
  kernels.of<T>().bias_activation(Activation(ep.code), c, ldc, ep.data ? ep.data + j0 : nullptr,
                          ep.out ? ep.out + i0 * ep.ld_out + j0 : nullptr, ep.ld_out, m, n);
  if (ep.context) static_cast<const DropoutLayerOf<T>*>(ep.context)->forward(c, ldc, i0, j0, m, n);
}

template <class T>
void apply_activation_grad(const GemmEpilogueOf<T>& ep, const KernelTable& kernels, T* c,
                           index_t ldc, index_t i0, index_t j0, index_t m, index_t n) {
  kernels.of<T>().activation_grad(Activation(ep.code), c, ldc, ep.data + i0 * ep.ld + j0, ep.ld, m, n);
  if (ep.context) static_cast<const DropoutLayerOf<T>*>(ep.context)->backward(c, ldc, i0, j0, m, n);
}
}  // namespace

template <class T>
GemmEpilogueOf<T> bias_activation_epilogue(Activation act, const T* bias, MatrixViewOf<T> pre,
                                           const DropoutLayerOf<T>* dropout, const T* column_scale) {
  GemmEpilogueOf<T> ep{apply_bias_activation<T>, bias, 0, int(act)};
  ep.out = pre.data;
  ep.ld_out = pre.ld;
  ep.context = dropout;
  ep.scale = column_scale;
  return ep;
}

template <class T>
void scale_columns(T* c, index_t ldc, const T* scale, index_t m, index_t n) {
  for (index_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    for (index_t j = 0; j < n; ++j) row[j] *= scale[j];
  }
}

template <class T>
GemmEpilogueOf<T> activation_grad_epilogue(Activation act, const T* saved, index_t lds,
                                           const DropoutLayerOf<T>* dropout) {
  GemmEpilogueOf<T> ep{apply_activation_grad<T>, saved, lds, int(act)};
  ep.context = dropout;
  return ep;
}

template <class T>
GemmTilesOf<T> dense_forward_tiles(MatrixViewOf<T> y, ConstMatrixViewOf<T> x,
                                   ConstMatrixViewOf<T> w, const T* b, Activation act,
                                   int threads, const PackedBOf<T>* packed_w, MatrixViewOf<T> pre,
                                   const DropoutLayerOf<T>* dropout) {
  return GemmTilesOf<T>(y, x, w, T(1), T(0), bias_activation_epilogue(act, b, pre, dropout),
                        threads, packed_w);
}

template <class T>
void dense_forward(MatrixViewOf<T> y, ConstMatrixViewOf<T> x, ConstMatrixViewOf<T> w,
                   const T* b, Activation act) {
  check_gemm_shapes("dense_forward", y, x, w);
  Team team(threads_worth(x.rows, x.cols, w.cols));
  GemmTilesOf<T> tiles = dense_forward_tiles(y, x, w, b, act, team.slots());
  team.run(tiles.count(), tiles);
}

template <class T>
GemmTilesOf<T> dense_weight_gradient_tiles(MatrixViewOf<T> dw, ConstMatrixViewOf<T> x,
                                           ConstMatrixViewOf<T> dz, bool accumulate,
                                           int threads, const GemmEpilogueOf<T>& epilogue) {
  return GemmTilesOf<T>(dw, x.transposed(), dz, T(1), accumulate ? T(1) : T(0), epilogue,
                        threads);
}

template <class T>
GemmTilesOf<T> dense_backward_input_tiles(MatrixViewOf<T> dprev, ConstMatrixViewOf<T> dz,
                                          ConstMatrixViewOf<T> w, Activation act,
                                          ConstMatrixViewOf<T> saved, int threads,
                                          const DropoutLayerOf<T>* dropout) {
  return GemmTilesOf<T>(dprev, dz, w.transposed(), T(1), T(0),
                        activation_grad_epilogue(act, saved.data, saved.rs, dropout), threads);
}

template <class T>
void dense_backward(MatrixViewOf<T> dx, MatrixViewOf<T> dw, T* db, ConstMatrixViewOf<T> dz,
                    ConstMatrixViewOf<T> x, ConstMatrixViewOf<T> w) {
  check_gemm_shapes("dense_backward", dw, x.transposed(), dz);
  if (dx.data) check_gemm_shapes("dense_backward", dx, dz, w.transposed());
  Team team(threads_worth(x.rows, x.cols, w.cols));
  GemmTilesOf<T> weights = dense_weight_gradient_tiles(dw, x, dz, false, team.slots());
  ColumnSumTilesOf<T> bias(db, dz, false);
  GemmTilesOf<T> input(dx, dz, w.transposed(), T(1), T(0), {}, team.slots());
  Stage stage;
  stage.add(weights.count(), weights).add(dx.data ? input.count() : 0, input).add(bias.count(), bias);
  team.run(stage);
}

template <class T>
void ColumnSumTilesOf<T>::operator()(index_t tile, int) const {
  const index_t j0 = tile * kColumns, j1 = std::min(dz_.cols, j0 + kColumns);
  T* db = db_;
  const ConstMatrixViewOf<T>& dz = dz_;
  if (!accumulate_)
    for (index_t j = j0; j < j1; ++j) db[j] = T(0);
  if (dz.cs == 1) {
    // The layout of every training step. 16 columns at a time, summed down the rows in
    // registers (the same additions in the same order as the loop below), rather than
    // a load and store of db per row.
    constexpr index_t W = 16;
    index_t j = j0;
    for (; j + W <= j1; j += W) {
      T acc[W];
      for (index_t c = 0; c < W; ++c) acc[c] = db[j + c];
      for (index_t i = 0; i < dz.rows; ++i) {
        const T* row = dz.data + i * dz.rs + j;
        for (index_t c = 0; c < W; ++c) acc[c] += row[c];
      }
      for (index_t c = 0; c < W; ++c) db[j + c] = acc[c];
    }
    for (; j < j1; ++j) {
      T acc = db[j];
      for (index_t i = 0; i < dz.rows; ++i) acc += dz.data[i * dz.rs + j];
      db[j] = acc;
    }
    return;
  }
  for (index_t i = 0; i < dz.rows; ++i) {
    const T* row = dz.data + i * dz.rs;
    for (index_t j = j0; j < j1; ++j) db[j] += row[j * dz.cs];
  }
}

// The two element types.
#define NNFAST_DENSE_INSTANCES(T)                                                            \
  template GemmEpilogueOf<T> bias_activation_epilogue(Activation, const T*, MatrixViewOf<T>, \
                                                      const DropoutLayerOf<T>*, const T*); \
  template void scale_columns(T*, index_t, const T*, index_t, index_t);                      \
  template GemmEpilogueOf<T> activation_grad_epilogue(Activation, const T*, index_t,         \
                                                      const DropoutLayerOf<T>*);                  \
  template void dense_forward(MatrixViewOf<T>, ConstMatrixViewOf<T>, ConstMatrixViewOf<T>,   \
                              const T*, Activation);                                         \
  template GemmTilesOf<T> dense_forward_tiles(MatrixViewOf<T>, ConstMatrixViewOf<T>,         \
                                              ConstMatrixViewOf<T>, const T*, Activation,    \
                                              int, const PackedBOf<T>*, MatrixViewOf<T>,     \
                                              const DropoutLayerOf<T>*);                          \
  template void dense_backward(MatrixViewOf<T>, MatrixViewOf<T>, T*, ConstMatrixViewOf<T>,   \
                               ConstMatrixViewOf<T>, ConstMatrixViewOf<T>);                  \
  template GemmTilesOf<T> dense_weight_gradient_tiles(MatrixViewOf<T>, ConstMatrixViewOf<T>, \
                                                      ConstMatrixViewOf<T>, bool, int,       \
                                                      const GemmEpilogueOf<T>&);             \
  template GemmTilesOf<T> dense_backward_input_tiles(MatrixViewOf<T>, ConstMatrixViewOf<T>,  \
                                                     ConstMatrixViewOf<T>, Activation,       \
                                                     ConstMatrixViewOf<T>, int,              \
                                                     const DropoutLayerOf<T>*);                   \
  template class ColumnSumTilesOf<T>;
NNFAST_DENSE_INSTANCES(float)
NNFAST_DENSE_INSTANCES(double)
#undef NNFAST_DENSE_INSTANCES

}  // namespace nnfast
