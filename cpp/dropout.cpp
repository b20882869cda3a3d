#include "dropout.hpp"

#include <cmath>

namespace nnfast {

void DropoutConfig::check(const char* fn, size_t hidden_layers) const {
  NNFAST_CHECK(rate.empty() || rate.size() == hidden_layers, fn, "dropout has ", rate.size(),
               " rates, the network has ", hidden_layers, " hidden layers");
  for (size_t l = 0; l < rate.size(); ++l)
    NNFAST_CHECK(std::isfinite(rate[l]) && rate[l] >= 0.0f && rate[l] < 1.0f, fn, "dropout[", l,
                 "] must be in [0, 1), got ", rate[l]);
  NNFAST_CHECK(epoch >= 0, fn, "the dropout epoch must be >= 0, got ", epoch);
}

DropoutLayer::DropoutLayer(const DropoutConfig& config, size_t layer, const std::int64_t* rows,
                           float* keep, index_t ld, float* output, index_t ld_output)
    : rate(config.rate_of(layer)), scale(1.0f / (1.0f - rate)),
      threshold(std::uint32_t(std::lround(double(rate) * 16777216.0))),
      key(splitmix64(splitmix64(config.seed, std::uint64_t(config.epoch)), layer)),
      rows(rows), keep(keep), ld(ld), output(output), ld_output(ld_output) {}

DropoutLayer DropoutLayer::from_row(index_t r0) const {
  DropoutLayer d = *this;
  if (d.rows) d.rows += r0;
  d.keep += r0 * ld;
  if (d.output) d.output += r0 * ld_output;
  return d;
}

void DropoutLayer::forward(float* c, index_t ldc, index_t i0, index_t j0, index_t m,
                           index_t n) const {
  for (index_t i = 0; i < m; ++i) {
    const index_t r = i0 + i;
    float* row = c + i * ldc;
    if (output) {
      float* kept = output + r * ld_output + j0;
      for (index_t j = 0; j < n; ++j) kept[j] = row[j];
    }
    const std::uint64_t row_key = splitmix64(key, std::uint64_t(rows ? rows[r] : r));
    float* k = keep + r * ld + j0;
    for (index_t j = 0; j < n; ++j) {
      const std::uint32_t draw = std::uint32_t(splitmix64(row_key, std::uint64_t(j0 + j)) >> 40);
      k[j] = draw < threshold ? 0.0f : scale;
      row[j] *= k[j];
    }
  }
}

void DropoutLayer::backward(float* c, index_t ldc, index_t i0, index_t j0, index_t m,
                            index_t n) const {
  for (index_t i = 0; i < m; ++i) {
    const float* k = keep + (i0 + i) * ld + j0;
    float* row = c + i * ldc;
    for (index_t j = 0; j < n; ++j) row[j] *= k[j];
  }
}

}  // namespace nnfast
