#include "batch_norm.hpp"

#include <algorithm>
#include <cmath>

namespace nnfast {

template <class T>
void BatchNormConfigOf<T>::check(const char* fn, size_t hidden_layers) const {
  if (layers.empty()) return;
  NNFAST_CHECK(layers.size() == hidden_layers, fn, "batch norm needs one set of arrays per "
               "hidden layer (", hidden_layers, "), got ", layers.size());
  NNFAST_CHECK(momentum >= 0.0 && momentum <= 1.0, fn, "batch norm momentum must be in [0, 1], "
               "got ", momentum);
  NNFAST_CHECK(epsilon > 0.0 && std::isfinite(epsilon), fn, "batch norm epsilon must be "
               "positive and finite, got ", epsilon);
}

template <class T>
BatchNormLayerOf<T>::BatchNormLayerOf(const BatchNormParamsOf<T>& params, index_t capacity, index_t width)
    : params_(params), width_(width), zhat_(size_t(capacity * width)), mean_(size_t(width)),
      inv_std_(size_t(width)), var_(size_t(width)), grad_scale_(size_t(width)),
      grad_shift_(size_t(width)), coef_(size_t(width)), dy_mean_(size_t(width)),
      dyzhat_mean_(size_t(width)) {}

template <class T>
std::pair<index_t, index_t> BatchNormLayerOf<T>::columns_of(index_t tile) const {
  return {tile * kColumns, std::min(width_, (tile + 1) * kColumns)};
}

// The column reductions walk the rows in order with one double accumulator per column of
// the tile (the row-major walk vectorizes across columns; each column's sum is in row order
// whatever the walk, so the results are the same).
template <class T>
void BatchNormLayerOf<T>::statistics(ConstMatrixViewOf<T> z, index_t tile, double epsilon) {
  const auto [j0, j1] = columns_of(tile);
  const index_t m = z.rows, n = j1 - j0;
  double mean[kColumns] = {}, squares[kColumns] = {};
  for (index_t r = 0; r < m; ++r) {
    const T* row = z.data + r * z.rs + j0;
    for (index_t j = 0; j < n; ++j) mean[j] += row[j];
  }
  for (index_t j = 0; j < n; ++j) mean[j] /= double(m);
  // Two passes (the mean, then the squares about it): no cancellation in E[z^2] - E[z]^2.
  for (index_t r = 0; r < m; ++r) {
    const T* row = z.data + r * z.rs + j0;
    for (index_t j = 0; j < n; ++j) {
      const double d = row[j] - mean[j];
      squares[j] += d * d;
    }
  }
  for (index_t j = 0; j < n; ++j) {
    var_[j0 + j] = squares[j] / double(m);
    mean_[j0 + j] = T(mean[j]);
    inv_std_[j0 + j] = T(1.0 / std::sqrt(var_[j0 + j] + epsilon));
  }
}

template <class T>
void BatchNormLayerOf<T>::normalize(MatrixViewOf<T> z, index_t r0, index_t r1) {
  const T* scale = params_.scale;
  for (index_t r = r0; r < r1; ++r) {
    T* row = z.data + r * z.ld;
    T* zh = zhat_.data() + r * width_;
    for (index_t j = 0; j < width_; ++j) {
      zh[j] = (row[j] - mean_[j]) * inv_std_[j];
      row[j] = scale[j] * zh[j];
    }
  }
}

template <class T>
void BatchNormLayerOf<T>::reduce_gradient(ConstMatrixViewOf<T> dy, index_t tile) {
  const auto [j0, j1] = columns_of(tile);
  const index_t m = dy.rows, n = j1 - j0;
  double sum[kColumns] = {}, sum_zhat[kColumns] = {};
  for (index_t r = 0; r < m; ++r) {
    const T* row = dy.data + r * dy.rs + j0;
    const T* zh = zhat_.data() + r * width_ + j0;
    for (index_t j = 0; j < n; ++j) {
      sum[j] += row[j];
      sum_zhat[j] += double(row[j]) * double(zh[j]);
    }
  }
  for (index_t j = 0; j < n; ++j) {
    const index_t c = j0 + j;
    grad_shift_[c] = T(sum[j]);
    grad_scale_[c] = T(sum_zhat[j]);
    coef_[c] = params_.scale[c] * inv_std_[c];  // read before the step updates scale
    dy_mean_[c] = T(sum[j] / double(m));
    dyzhat_mean_[c] = T(sum_zhat[j] / double(m));
  }
}

template <class T>
void BatchNormLayerOf<T>::input_gradient(MatrixViewOf<T> dy, index_t r0, index_t r1) const {
  for (index_t r = r0; r < r1; ++r) {
    T* row = dy.data + r * dy.ld;
    const T* zh = zhat_.data() + r * width_;
    for (index_t j = 0; j < width_; ++j)
      row[j] = coef_[j] * ((row[j] - dy_mean_[j]) - zh[j] * dyzhat_mean_[j]);
  }
}

template <class T>
void BatchNormLayerOf<T>::update_running(index_t m, double momentum) {
  if (m < 2) return;
  const double unbiased = double(m) / double(m - 1);
  for (index_t j = 0; j < width_; ++j) {
    T& mean = params_.running_mean[j];
    T& var = params_.running_var[j];
    mean = T((1.0 - momentum) * mean + momentum * double(mean_[j]));
    var = T((1.0 - momentum) * var + momentum * var_[j] * unbiased);
  }
}

template struct BatchNormConfigOf<float>;
template struct BatchNormConfigOf<double>;
template class BatchNormLayerOf<float>;
template class BatchNormLayerOf<double>;

}  // namespace nnfast
