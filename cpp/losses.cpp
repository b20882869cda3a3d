#include "losses.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nnfast {

const char* loss_name(Loss loss) {
  switch (loss) {
    case Loss::softmax_cross_entropy: return "softmax_cross_entropy";
    case Loss::logistic_cross_entropy: return "logistic_cross_entropy";
    case Loss::squared_error: return "squared_error";
    case Loss::poisson: return "poisson";
  }
  return "?";
}

namespace {

constexpr double kEps = std::numeric_limits<float>::epsilon();
const double kLogEps = std::log(kEps), kLog1mEps = std::log1p(-kEps);

// log(clip(p, eps, 1 - eps)) from log(p): the clip scikit-learn applies to probabilities.
inline double clipped_log(double log_p) { return std::clamp(log_p, kLogEps, kLog1mEps); }

// log(sigmoid(z)) = -log(1 + exp(-z)), stable for any sign of z.
inline double log_sigmoid(double z) { return z >= 0 ? -std::log1p(std::exp(-z)) : z - std::log1p(std::exp(z)); }

inline float sigmoid(float z) {
  if (z >= 0.0f) return 1.0f / (1.0f + std::exp(-z));
  const float e = std::exp(z);
  return e / (1.0f + e);
}

// One softmax row. Shifting by the max keeps exp() in range; log p comes from the
// log-sum-exp, not from log(p), so tiny probabilities keep their precision.
double softmax_row(float* grad, const float* z, const float* y, float w, index_t k) {
  float zmax = z[0];
  for (index_t j = 1; j < k; ++j) zmax = std::max(zmax, z[j]);
  double sum = 0.0;
  for (index_t j = 0; j < k; ++j) sum += std::exp(double(z[j]) - zmax);
  const double log_sum = std::log(sum);
  double loss = 0.0;
  for (index_t j = 0; j < k; ++j) {
    const double log_p = double(z[j]) - zmax - log_sum;
    if (y[j] != 0.0f) loss -= y[j] * clipped_log(log_p);  // xlogy: 0 * log 0 = 0
    grad[j] = (float(std::exp(log_p)) - y[j]) * w;
  }
  return loss;
}

double logistic_row(float* grad, const float* z, const float* y, float w, index_t k) {
  double loss = 0.0;
  for (index_t j = 0; j < k; ++j) {
    const double lp = log_sigmoid(z[j]), lq = log_sigmoid(-double(z[j]));  // log p, log(1-p)
    if (y[j] != 0.0f) loss -= y[j] * clipped_log(lp);
    if (y[j] != 1.0f) loss -= (1.0 - y[j]) * clipped_log(lq);
    grad[j] = (sigmoid(z[j]) - y[j]) * w;
  }
  return loss;
}

double squared_row(float* grad, const float* z, const float* y, float w, index_t k) {
  double loss = 0.0;
  for (index_t j = 0; j < k; ++j) {
    const float d = z[j] - y[j];
    loss += 0.5 * double(d) * d;
    grad[j] = d * w;
  }
  return loss;
}

// Half Poisson deviance with a log link, as scikit-learn writes it (constant included):
// xlogy(y, y / mu) - y + mu, mu = exp(z).
double poisson_row(float* grad, const float* z, const float* y, float w, index_t k) {
  double loss = 0.0;
  for (index_t j = 0; j < k; ++j) {
    const double mu = std::exp(double(z[j]));
    const double ylogy = y[j] != 0.0f ? double(y[j]) * (std::log(double(y[j])) - z[j]) : 0.0;
    loss += ylogy - y[j] + mu;
    grad[j] = (float(mu) - y[j]) * w;
  }
  return loss;
}

}  // namespace

void output_activation(Loss loss, float* out, const float* z, index_t n, index_t k) {
  for (index_t i = 0; i < n; ++i) {
    const float* zi = z + i * k;
    float* oi = out + i * k;
    switch (loss) {
      case Loss::softmax_cross_entropy: {
        float zmax = zi[0];
        for (index_t j = 1; j < k; ++j) zmax = std::max(zmax, zi[j]);
        float sum = 0.0f;
        for (index_t j = 0; j < k; ++j) sum += (oi[j] = std::exp(zi[j] - zmax));
        const float inv = 1.0f / sum;
        for (index_t j = 0; j < k; ++j) oi[j] *= inv;
        break;
      }
      case Loss::logistic_cross_entropy:
        for (index_t j = 0; j < k; ++j) oi[j] = sigmoid(zi[j]);
        break;
      case Loss::squared_error:
        if (oi != zi)
          for (index_t j = 0; j < k; ++j) oi[j] = zi[j];
        break;
      case Loss::poisson:
        for (index_t j = 0; j < k; ++j) oi[j] = std::exp(zi[j]);
        break;
    }
  }
}

void loss_forward_backward(Loss loss, float* grad, double* row_loss, const float* z,
                           const float* y, const float* sw, index_t n, index_t k) {
  for (index_t i = 0; i < n; ++i) {
    const float w = sw ? sw[i] : 1.0f;
    const index_t o = i * k;
    switch (loss) {
      case Loss::softmax_cross_entropy: row_loss[i] = softmax_row(grad + o, z + o, y + o, w, k); break;
      case Loss::logistic_cross_entropy: row_loss[i] = logistic_row(grad + o, z + o, y + o, w, k); break;
      case Loss::squared_error: row_loss[i] = squared_row(grad + o, z + o, y + o, w, k); break;
      case Loss::poisson: row_loss[i] = poisson_row(grad + o, z + o, y + o, w, k); break;
    }
  }
}

}  // namespace nnfast
