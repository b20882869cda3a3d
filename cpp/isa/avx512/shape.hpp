// The AVX-512 tile: 12 rows x 2 vectors of 16 = 24 zmm accumulators, plus 2 loads of B
// and a broadcast of A per k: 27 of the 32 zmm registers (BLIS's SKX sgemm kernel is
// 32 x 12 in its column-major terms, the same shape). 12 broadcasts + 2 loads per 24
// FMAs keep the two load ports below the two FMA ports. Not yet measured against other
// shapes (14 x 32, 8 x 48) on an AVX-512 machine. The row kernel: 8 chains, 128 columns.
#pragma once
#include "common.hpp"

namespace nnfast::avx512 {
constexpr index_t kGemmMR = 12, kGemmNR = 32, kGemmRowNR = 128;
}
