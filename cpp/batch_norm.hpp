// Batch normalization (Ioffe & Szegedy, 2015), as PyTorch's nn.BatchNorm1d between a hidden
// layer's dense product z = x W + b and its activation:
//   training:  zhat = (z - mean) / sqrt(var + epsilon),  y = scale * zhat + shift,
//              mean and var (biased) over the batch's rows, per unit;
//              running = (1 - momentum) * running + momentum * batch statistic, the
//              variance's unbiased (times m / (m - 1), as PyTorch);
//   predict:   the running statistics instead, which the estimators fold into W and b.
// The batch statistics are unweighted (sample weights weigh the loss only, as in PyTorch
// and Keras). A one-row batch normalizes to zhat = 0 (its variance is 0): train_epoch
// counts its loss and updates nothing, running statistics included (PyTorch refuses it).
// Every reduction runs over the rows in order, in double, one column tile per task, so the
// results are bitwise the same for any thread count; the per-element work is plain scalar
// code compiled once, the same on every instruction set.
#pragma once
#include <utility>
#include <vector>

#include "common.hpp"
#include "gemm.hpp"

namespace nnfast {

// Templates on the element type T (float, double), defined in batch_norm.cpp for both.

// One hidden layer's parameters and statistics, each (fan_out,), owned by the caller.
template <class T>
struct BatchNormParamsOf {
  T* scale = nullptr;  // gamma (PyTorch's weight), trained
  T* shift = nullptr;  // beta (PyTorch's bias), trained
  T* running_mean = nullptr;
  T* running_var = nullptr;
};
using BatchNormParams = BatchNormParamsOf<float>;

// Which hidden layers normalize, and how.
template <class T>
struct BatchNormConfigOf {
  std::vector<BatchNormParamsOf<T>> layers;  // one per hidden layer, or empty: none normalizes
  double momentum = 0.1, epsilon = 1e-5;
  bool on(size_t layer) const { return layer < layers.size(); }
  size_t count() const { return layers.size(); }
  void check(const char* fn, size_t hidden_layers) const;  // std::invalid_argument
};
using BatchNormConfig = BatchNormConfigOf<float>;

// One normalized layer's working arrays for batches of up to `capacity` rows of `width`
// units, and the stages of its step over a batch of m rows, whose z is in `z` (m x width).
template <class T>
class BatchNormLayerOf {
 public:
  BatchNormLayerOf(const BatchNormParamsOf<T>& params, index_t capacity, index_t width);

  // Forward, stage 1 (column tiles): the batch mean and variance of z.
  index_t column_tiles() const { return (width_ + kColumns - 1) / kColumns; }
  void statistics(ConstMatrixViewOf<T> z, index_t tile, double epsilon);
  // Forward, stage 2 (any rows [r0, r1)): zhat kept, z := scale * zhat (the caller's
  // epilogue then adds shift and applies the activation).
  void normalize(MatrixViewOf<T> z, index_t r0, index_t r1);
  // Backward, stage 1 (column tiles): from dy = dL/dy (m x width), the gradients of scale
  // and shift and the coefficients of stage 2.
  void reduce_gradient(ConstMatrixViewOf<T> dy, index_t tile);
  // Backward, stage 2 (any rows): dy := dL/dz = scale / sqrt(var + eps) *
  //   (dy - mean(dy) - zhat * mean(dy * zhat)), in place.
  void input_gradient(MatrixViewOf<T> dy, index_t r0, index_t r1) const;
  // After the step's loss is known finite: running statistics (batches of 2 rows or more).
  void update_running(index_t m, double momentum);

  const T* grad_scale() const { return grad_scale_.data(); }
  const T* grad_shift() const { return grad_shift_.data(); }
  const BatchNormParamsOf<T>& params() const { return params_; }

 private:
  static constexpr index_t kColumns = 64;
  std::pair<index_t, index_t> columns_of(index_t tile) const;
  BatchNormParamsOf<T> params_;
  index_t width_;
  std::vector<T> zhat_;               // (m, width)
  std::vector<T> mean_, inv_std_;     // the batch's, in T as they are applied
  std::vector<double> var_;           // the batch's biased variance
  std::vector<T> grad_scale_, grad_shift_;  // sum(dy * zhat), sum(dy)
  std::vector<T> coef_, dy_mean_, dyzhat_mean_;  // stage 2's per-column terms
};
using BatchNormLayer = BatchNormLayerOf<float>;

}  // namespace nnfast
