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

template <class T>
DropoutLayerOf<T>::DropoutLayerOf(const DropoutConfig& config, size_t layer,
                                  const std::int64_t* rows, T* keep, index_t ld, T* output,
                                  index_t ld_output)
    : rate(config.rate_of(layer)), scale(T(1) / (T(1) - T(rate))),
      threshold(std::uint32_t(std::lround(double(rate) * 16777216.0))),
      key(splitmix64(splitmix64(config.seed, std::uint64_t(config.epoch)), layer)),
      rows(rows), keep(keep), ld(ld), output(output), ld_output(ld_output) {}

template <class T>
DropoutLayerOf<T> DropoutLayerOf<T>::from_row(index_t r0) const {
  DropoutLayerOf d = *this;
  if (d.rows) d.rows += r0;
  d.keep += r0 * ld;
  if (d.output) d.output += r0 * ld_output;
  return d;
}

template <class T>
void DropoutLayerOf<T>::forward(T* c, index_t ldc, index_t i0, index_t j0, index_t m,
                                index_t n) const {
  for (index_t i = 0; i < m; ++i) {
    const index_t r = i0 + i;
    T* row = c + i * ldc;
    if (output) {
      T* kept = output + r * ld_output + j0;
      for (index_t j = 0; j < n; ++j) kept[j] = row[j];
    }
    const std::uint64_t row_key = splitmix64(key, std::uint64_t(rows ? rows[r] : r));
    T* k = keep + r * ld + j0;
    for (index_t j = 0; j < n; ++j) {
      const std::uint32_t draw = std::uint32_t(splitmix64(row_key, std::uint64_t(j0 + j)) >> 40);
      k[j] = draw < threshold ? T(0) : scale;
      row[j] *= k[j];
    }
  }
}

template <class T>
void DropoutLayerOf<T>::backward(T* c, index_t ldc, index_t i0, index_t j0, index_t m,
                                 index_t n) const {
  for (index_t i = 0; i < m; ++i) {
    const T* k = keep + (i0 + i) * ld + j0;
    T* row = c + i * ldc;
    for (index_t j = 0; j < n; ++j) row[j] *= k[j];
  }
}

template struct DropoutLayerOf<float>;
template struct DropoutLayerOf<double>;

}  // namespace nnfast
