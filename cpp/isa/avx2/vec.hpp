// The AVX2 + FMA vector: 8 floats in a ymm register. Included only by this folder's
// kernel files (compiled with -mavx2 -mfma). Contract: cpp/vector_math.hpp.
#pragma once
#include <immintrin.h>

#include "common.hpp"

namespace nnfast::avx2 {

template <class T>
struct Vec;

template <>
struct Vec<float> {
  using scalar = float;
  static constexpr int width = 8;
  using Mask = __m256;  // lanes all ones / zero (a comparison's result)
  __m256 v;

  static Vec zero() { return {_mm256_setzero_ps()}; }
  static Vec broadcast(float x) { return {_mm256_set1_ps(x)}; }
  static Vec load(const float* p) { return {_mm256_loadu_ps(p)}; }
  void store(float* p) const { _mm256_storeu_ps(p, v); }
  // The first n (0 <= n <= width) lanes; masked lanes are neither read nor written.
  static Vec load_first(const float* p, index_t n) { return {_mm256_maskload_ps(p, first(n))}; }
  void store_first(float* p, index_t n) const { _mm256_maskstore_ps(p, first(n), v); }

  friend Vec operator+(Vec a, Vec b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend Vec operator/(Vec a, Vec b) { return {_mm256_div_ps(a.v, b.v)}; }
  static Vec fma(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  static Vec sqrt(Vec a) { return {_mm256_sqrt_ps(a.v)}; }
  static Vec abs(Vec a) {
    return {_mm256_and_ps(a.v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)))};
  }

  friend Mask operator<(Vec a, Vec b) { return _mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ); }
  friend Mask operator<=(Vec a, Vec b) { return _mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ); }
  friend Mask operator>(Vec a, Vec b) { return _mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ); }
  friend Mask operator>=(Vec a, Vec b) { return _mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ); }
  static Vec select(Mask m, Vec a, Vec b) { return {_mm256_blendv_ps(b.v, a.v, m)}; }
  // 2^n for integral n in [-126, 127] (other lanes: garbage).
  static Vec pow2i(Vec n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127));
    return {_mm256_castsi256_ps(_mm256_slli_epi32(e, 23))};
  }

 private:
  static __m256i first(index_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
};

// 4 doubles in a ymm register.
template <>
struct Vec<double> {
  using scalar = double;
  static constexpr int width = 4;
  using Mask = __m256d;
  __m256d v;

  static Vec zero() { return {_mm256_setzero_pd()}; }
  static Vec broadcast(double x) { return {_mm256_set1_pd(x)}; }
  static Vec load(const double* p) { return {_mm256_loadu_pd(p)}; }
  void store(double* p) const { _mm256_storeu_pd(p, v); }
  static Vec load_first(const double* p, index_t n) { return {_mm256_maskload_pd(p, first(n))}; }
  void store_first(double* p, index_t n) const { _mm256_maskstore_pd(p, first(n), v); }

  friend Vec operator+(Vec a, Vec b) { return {_mm256_add_pd(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm256_sub_pd(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm256_mul_pd(a.v, b.v)}; }
  friend Vec operator/(Vec a, Vec b) { return {_mm256_div_pd(a.v, b.v)}; }
  static Vec fma(Vec a, Vec b, Vec c) { return {_mm256_fmadd_pd(a.v, b.v, c.v)}; }
  static Vec sqrt(Vec a) { return {_mm256_sqrt_pd(a.v)}; }
  static Vec abs(Vec a) {
    return {_mm256_and_pd(a.v, _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL)))};
  }

  friend Mask operator<(Vec a, Vec b) { return _mm256_cmp_pd(a.v, b.v, _CMP_LT_OQ); }
  friend Mask operator<=(Vec a, Vec b) { return _mm256_cmp_pd(a.v, b.v, _CMP_LE_OQ); }
  friend Mask operator>(Vec a, Vec b) { return _mm256_cmp_pd(a.v, b.v, _CMP_GT_OQ); }
  friend Mask operator>=(Vec a, Vec b) { return _mm256_cmp_pd(a.v, b.v, _CMP_GE_OQ); }
  static Vec select(Mask m, Vec a, Vec b) { return {_mm256_blendv_pd(b.v, a.v, m)}; }
  // 2^n for integral n in [-1022, 1023] (other lanes: garbage): AVX2 has no double to
  // int64 conversion, so from the bits of n + 1.5 * 2^52.
  static Vec pow2i(Vec n) {
    const __m256i bits = _mm256_sub_epi64(
        _mm256_castpd_si256(_mm256_add_pd(n.v, _mm256_set1_pd(6755399441055744.0))),
        _mm256_set1_epi64x(0x4338000000000000LL));
    return {_mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(bits, _mm256_set1_epi64x(1023)), 52))};
  }

 private:
  static __m256i first(index_t n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  }
};

}  // namespace nnfast::avx2
