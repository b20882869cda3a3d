// The generic table's GEMM tile: 6 x 16 (the AVX2 shape, so the two block alike).
#pragma once
#include "common.hpp"

namespace nnfast::generic {
constexpr index_t kGemmMR = 6, kGemmNR = 16, kGemmRowNR = 64;
}
