// The AVX2 tile: 6 rows x 2 vectors of 8 = 12 ymm accumulators, plus 2 loads of B and a
// broadcast of A per k: 15 of the 16 ymm registers, nothing spills. The row kernel keeps
// 8 independent FMA chains (64 columns) to cover the FMA latency.
#pragma once
#include "common.hpp"

namespace nnfast::avx2 {
constexpr index_t kGemmMR = 6, kGemmNR = 16, kGemmRowNR = 64;
}
