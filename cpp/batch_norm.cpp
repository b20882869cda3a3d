#include "batch_norm.hpp"

#include <algorithm>
#include <cmath>

namespace nnfast {

void BatchNormConfig::check(const char* fn, size_t hidden_layers) const {
  if (layers.empty()) return;
  NNFAST_CHECK(layers.size() == hidden_layers, fn, "batch norm needs one set of arrays per "
               "hidden layer (", hidden_layers, "), got ", layers.size());
  NNFAST_CHECK(momentum >= 0.0 && momentum <= 1.0, fn, "batch norm momentum must be in [0, 1], "
               "got ", momentum);
  NNFAST_CHECK(epsilon > 0.0 && std::isfinite(epsilon), fn, "batch norm epsilon must be "
               "positive and finite, got ", epsilon);
}

BatchNormLayer::BatchNormLayer(const BatchNormParams& params, index_t capacity, index_t width)
    : params_(params), width_(width), zhat_(size_t(capacity * width)), mean_(size_t(width)),
      inv_std_(size_t(width)), var_(size_t(width)), grad_scale_(size_t(width)),
      grad_shift_(size_t(width)), coef_(size_t(width)), dy_mean_(size_t(width)),
      dyzhat_mean_(size_t(width)) {}

std::pair<index_t, index_t> BatchNormLayer::columns_of(index_t tile) const {
  return {tile * kColumns, std::min(width_, (tile + 1) * kColumns)};
}

void BatchNormLayer::statistics(ConstMatrixView z, index_t tile, double epsilon) {
  const auto [j0, j1] = columns_of(tile);
  const index_t m = z.rows;
  for (index_t j = j0; j < j1; ++j) {
    // Two passes (the mean, then the squares about it): no cancellation in E[z^2] - E[z]^2.
    double sum = 0.0;
    for (index_t r = 0; r < m; ++r) sum += z.data[r * z.rs + j];
    const double mean = sum / double(m);
    double squares = 0.0;
    for (index_t r = 0; r < m; ++r) {
      const double d = z.data[r * z.rs + j] - mean;
      squares += d * d;
    }
    var_[j] = squares / double(m);
    mean_[j] = float(mean);
    inv_std_[j] = float(1.0 / std::sqrt(var_[j] + epsilon));
  }
}

void BatchNormLayer::normalize(MatrixView z, index_t r0, index_t r1) {
  const float* scale = params_.scale;
  for (index_t r = r0; r < r1; ++r) {
    float* row = z.data + r * z.ld;
    float* zh = zhat_.data() + r * width_;
    for (index_t j = 0; j < width_; ++j) {
      zh[j] = (row[j] - mean_[j]) * inv_std_[j];
      row[j] = scale[j] * zh[j];
    }
  }
}

void BatchNormLayer::reduce_gradient(ConstMatrixView dy, index_t tile) {
  const auto [j0, j1] = columns_of(tile);
  const index_t m = dy.rows;
  for (index_t j = j0; j < j1; ++j) {
    double sum = 0.0, sum_zhat = 0.0;
    for (index_t r = 0; r < m; ++r) {
      const double g = dy.data[r * dy.rs + j];
      sum += g;
      sum_zhat += g * double(zhat_[size_t(r * width_ + j)]);
    }
    grad_shift_[j] = float(sum);
    grad_scale_[j] = float(sum_zhat);
    coef_[j] = params_.scale[j] * inv_std_[j];  // read before the step updates scale
    dy_mean_[j] = float(sum / double(m));
    dyzhat_mean_[j] = float(sum_zhat / double(m));
  }
}

void BatchNormLayer::input_gradient(MatrixView dy, index_t r0, index_t r1) const {
  for (index_t r = r0; r < r1; ++r) {
    float* row = dy.data + r * dy.ld;
    const float* zh = zhat_.data() + r * width_;
    for (index_t j = 0; j < width_; ++j)
      row[j] = coef_[j] * ((row[j] - dy_mean_[j]) - zh[j] * dyzhat_mean_[j]);
  }
}

void BatchNormLayer::update_running(index_t m, double momentum) {
  if (m < 2) return;
  const double unbiased = double(m) / double(m - 1);
  for (index_t j = 0; j < width_; ++j) {
    float& mean = params_.running_mean[j];
    float& var = params_.running_var[j];
    mean = float((1.0 - momentum) * mean + momentum * double(mean_[j]));
    var = float((1.0 - momentum) * var + momentum * var_[j] * unbiased);
  }
}

}  // namespace nnfast
