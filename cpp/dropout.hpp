// Inverted dropout (Srivastava et al., 2014; as PyTorch's nn.Dropout): in training, each
// hidden unit's output is kept with probability 1 - rate and scaled by 1 / (1 - rate), or
// set to 0; predict runs the plain network. Whether a unit is kept is a counter-based
// draw, SplitMix64 (Steele, Lea & Flood, 2014) keyed by (seed, epoch, the sample's row in
// X, layer, unit): a sample's mask does not depend on the batch it falls in, on the tile
// or on the thread that computes it, so results stay bitwise identical for any thread
// count and instruction set. tests/_reference.py replays the same draws in NumPy.
#pragma once
#include <cstdint>
#include <vector>

#include "common.hpp"

namespace nnfast {

// What an epoch's dropout is: a rate per hidden layer (in [0, 1); 0: none) and the
// draws' keys. `epoch` must differ between epochs (the estimators pass t_, the samples
// seen before the epoch).
struct DropoutConfig {
  std::vector<float> rate;  // empty: no dropout
  std::uint64_t seed = 0;
  std::int64_t epoch = 0;
  float rate_of(size_t layer) const { return layer < rate.size() ? rate[layer] : 0.0f; }
  void check(const char* fn, size_t hidden_layers) const;  // std::invalid_argument
};

// One hidden layer's dropout in one batch, over elements of T (float, double; the same
// draws, from the float32 rate, for both): the forward writes each element's keep factor
// (0 or 1 / (1 - rate), in T) and multiplies the output by it; the backward multiplies the
// gradient by the same factor. Rows [0, m) of the views are the batch's rows, whose rows
// of X are rows[r] (rows null: r itself).
template <class T>
struct DropoutLayerOf {
  float rate = 0.0f;
  T scale = T(1);
  std::uint32_t threshold = 0;  // dropped when the draw's top 24 bits are below it
  std::uint64_t key = 0;        // seed, epoch and layer drawn through
  const std::int64_t* rows = nullptr;
  T* keep = nullptr;            // (m, n) keep factors, leading dimension ld
  index_t ld = 0;
  T* output = nullptr;          // where the undropped output is kept for a derivative that
  index_t ld_output = 0;        // reads it (null: the derivative reads the input)

  DropoutLayerOf() = default;
  DropoutLayerOf(const DropoutConfig& config, size_t layer, const std::int64_t* rows, T* keep,
                 index_t ld, T* output, index_t ld_output);
  // The same layer for the rows from r0 on (a tile of whole rows).
  DropoutLayerOf from_row(index_t r0) const;

  // Over the m x n block of the output at row i0, column j0 (c points at it), after the
  // activation: keep the undropped values (output set), draw, write keep, c *= keep.
  void forward(T* c, index_t ldc, index_t i0, index_t j0, index_t m, index_t n) const;
  // c *= keep over the block of the gradient at row i0, column j0.
  void backward(T* c, index_t ldc, index_t i0, index_t j0, index_t m, index_t n) const;
};
using DropoutLayer = DropoutLayerOf<float>;

// The i-th draw of the SplitMix64 sequence that starts at state (i >= 0).
constexpr std::uint64_t splitmix64(std::uint64_t state, std::uint64_t i) {
  std::uint64_t z = state + (i + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace nnfast
