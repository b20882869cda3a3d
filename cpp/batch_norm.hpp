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

// One hidden layer's parameters and statistics, each (fan_out,), owned by the caller.
struct BatchNormParams {
  float* scale = nullptr;  // gamma (PyTorch's weight), trained
  float* shift = nullptr;  // beta (PyTorch's bias), trained
  float* running_mean = nullptr;
  float* running_var = nullptr;
};

// Which hidden layers normalize, and how.
struct BatchNormConfig {
  std::vector<BatchNormParams> layers;  // one per hidden layer, or empty: none normalizes
  double momentum = 0.1, epsilon = 1e-5;
  bool on(size_t layer) const { return layer < layers.size(); }
  size_t count() const { return layers.size(); }
  void check(const char* fn, size_t hidden_layers) const;  // std::invalid_argument
};

// One normalized layer's working arrays for batches of up to `capacity` rows of `width`
// units, and the stages of its step over a batch of m rows, whose z is in `z` (m x width).
class BatchNormLayer {
 public:
  BatchNormLayer(const BatchNormParams& params, index_t capacity, index_t width);

  // Forward, stage 1 (column tiles): the batch mean and variance of z.
  index_t column_tiles() const { return (width_ + kColumns - 1) / kColumns; }
  void statistics(ConstMatrixView z, index_t tile, double epsilon);
  // Forward, stage 2 (any rows [r0, r1)): zhat kept, z := scale * zhat (the caller's
  // epilogue then adds shift and applies the activation).
  void normalize(MatrixView z, index_t r0, index_t r1);
  // Backward, stage 1 (column tiles): from dy = dL/dy (m x width), the gradients of scale
  // and shift and the coefficients of stage 2.
  void reduce_gradient(ConstMatrixView dy, index_t tile);
  // Backward, stage 2 (any rows): dy := dL/dz = scale / sqrt(var + eps) *
  //   (dy - mean(dy) - zhat * mean(dy * zhat)), in place.
  void input_gradient(MatrixView dy, index_t r0, index_t r1) const;
  // After the step's loss is known finite: running statistics (batches of 2 rows or more).
  void update_running(index_t m, double momentum);

  const float* grad_scale() const { return grad_scale_.data(); }
  const float* grad_shift() const { return grad_shift_.data(); }
  const BatchNormParams& params() const { return params_; }

 private:
  static constexpr index_t kColumns = 64;
  std::pair<index_t, index_t> columns_of(index_t tile) const;
  BatchNormParams params_;
  index_t width_;
  std::vector<float> zhat_;               // (m, width)
  std::vector<float> mean_, inv_std_;     // the batch's, float32 as they are applied
  std::vector<double> var_;               // the batch's biased variance
  std::vector<float> grad_scale_, grad_shift_;  // sum(dy * zhat), sum(dy)
  std::vector<float> coef_, dy_mean_, dyzhat_mean_;  // stage 2's per-column terms
};

}  // namespace nnfast
