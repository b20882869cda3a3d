// The AVX-512 vector (x86-64-v4: AVX512F/BW/DQ/VL): 16 floats in a zmm register, edges
// through mask registers. Included only by this folder's kernel files (compiled with the
// AVX-512 flags). Contract: cpp/vector_math.hpp.
//
// NNFAST_EMULATE_AVX512 (CI and tests on CPUs without AVX-512, CMake option of the same
// name): the same intrinsics from SIMDe, built from AVX2 + FMA, so this code runs, and is
// tested bit for bit against the AVX2 table, on any AVX2 machine.
#pragma once
#ifdef NNFAST_EMULATE_AVX512
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#else
#include <immintrin.h>
#endif

#include "common.hpp"

namespace nnfast::avx512 {

template <class T>
struct Vec;

template <>
struct Vec<float> {
  using scalar = float;
  static constexpr int width = 16;
  using Mask = __mmask16;
  __m512 v;

  static Vec zero() { return {_mm512_setzero_ps()}; }
  static Vec broadcast(float x) { return {_mm512_set1_ps(x)}; }
  static Vec load(const float* p) { return {_mm512_loadu_ps(p)}; }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  // The first n (0 <= n <= width) lanes; masked lanes are neither read nor written.
#ifndef NNFAST_EMULATE_AVX512
  static Vec load_first(const float* p, index_t n) { return {_mm512_maskz_loadu_ps(first(n), p)}; }
  void store_first(float* p, index_t n) const { _mm512_mask_storeu_ps(p, first(n), v); }
#else
  // SIMDe 0.8's masked store writes all 16 lanes (zeros in the masked ones) and its
  // masked load reads all 16: both would touch memory past the edge. Lane by lane
  // instead. (Kernels reach masked memory only through these two functions.)
  static Vec load_first(const float* p, index_t n) {
    alignas(64) float lanes[16] = {};
    for (index_t i = 0; i < n && i < width; ++i) lanes[i] = p[i];
    return load(lanes);
  }
  void store_first(float* p, index_t n) const {
    alignas(64) float lanes[16];
    store(lanes);
    for (index_t i = 0; i < n && i < width; ++i) p[i] = lanes[i];
  }
#endif

  friend Vec operator+(Vec a, Vec b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm512_mul_ps(a.v, b.v)}; }
  friend Vec operator/(Vec a, Vec b) { return {_mm512_div_ps(a.v, b.v)}; }
  static Vec fma(Vec a, Vec b, Vec c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  static Vec sqrt(Vec a) { return {_mm512_sqrt_ps(a.v)}; }
  static Vec abs(Vec a) {
    return {_mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(a.v), _mm512_set1_epi32(0x7fffffff)))};
  }

  friend Mask operator<(Vec a, Vec b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ); }
  friend Mask operator<=(Vec a, Vec b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ); }
  friend Mask operator>(Vec a, Vec b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ); }
  friend Mask operator>=(Vec a, Vec b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ); }
  static Vec select(Mask m, Vec a, Vec b) { return {_mm512_mask_blend_ps(m, b.v, a.v)}; }
  // 2^n for integral n in [-126, 127] (other lanes: garbage).
  static Vec pow2i(Vec n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n.v), _mm512_set1_epi32(127));
    return {_mm512_castsi512_ps(_mm512_slli_epi32(e, 23))};
  }

 private:
  static Mask first(index_t n) {
    return n >= width ? Mask(0xFFFF) : Mask((1u << unsigned(n < 0 ? 0 : n)) - 1u);
  }
};

// 8 doubles in a zmm register.
template <>
struct Vec<double> {
  using scalar = double;
  static constexpr int width = 8;
  using Mask = __mmask8;
  __m512d v;

  static Vec zero() { return {_mm512_setzero_pd()}; }
  static Vec broadcast(double x) { return {_mm512_set1_pd(x)}; }
  static Vec load(const double* p) { return {_mm512_loadu_pd(p)}; }
  void store(double* p) const { _mm512_storeu_pd(p, v); }
#ifndef NNFAST_EMULATE_AVX512
  static Vec load_first(const double* p, index_t n) { return {_mm512_maskz_loadu_pd(first(n), p)}; }
  void store_first(double* p, index_t n) const { _mm512_mask_storeu_pd(p, first(n), v); }
#else
  // Lane by lane, as Vec<float>'s (SIMDe's masked loads and stores touch every lane).
  static Vec load_first(const double* p, index_t n) {
    alignas(64) double lanes[8] = {};
    for (index_t i = 0; i < n && i < width; ++i) lanes[i] = p[i];
    return load(lanes);
  }
  void store_first(double* p, index_t n) const {
    alignas(64) double lanes[8];
    store(lanes);
    for (index_t i = 0; i < n && i < width; ++i) p[i] = lanes[i];
  }
#endif

  friend Vec operator+(Vec a, Vec b) { return {_mm512_add_pd(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm512_sub_pd(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm512_mul_pd(a.v, b.v)}; }
  friend Vec operator/(Vec a, Vec b) { return {_mm512_div_pd(a.v, b.v)}; }
  static Vec fma(Vec a, Vec b, Vec c) { return {_mm512_fmadd_pd(a.v, b.v, c.v)}; }
  static Vec sqrt(Vec a) { return {_mm512_sqrt_pd(a.v)}; }
  static Vec abs(Vec a) {
    return {_mm512_castsi512_pd(
        _mm512_and_si512(_mm512_castpd_si512(a.v), _mm512_set1_epi64(0x7fffffffffffffffLL)))};
  }

  friend Mask operator<(Vec a, Vec b) { return _mm512_cmp_pd_mask(a.v, b.v, _CMP_LT_OQ); }
  friend Mask operator<=(Vec a, Vec b) { return _mm512_cmp_pd_mask(a.v, b.v, _CMP_LE_OQ); }
  friend Mask operator>(Vec a, Vec b) { return _mm512_cmp_pd_mask(a.v, b.v, _CMP_GT_OQ); }
  friend Mask operator>=(Vec a, Vec b) { return _mm512_cmp_pd_mask(a.v, b.v, _CMP_GE_OQ); }
  static Vec select(Mask m, Vec a, Vec b) { return {_mm512_mask_blend_pd(m, b.v, a.v)}; }
  // 2^n for integral n in [-1022, 1023] (other lanes: garbage), from the bits of
  // n + 1.5 * 2^52 as in AVX2 (no AVX512DQ conversion, which SIMDe does not emulate).
  static Vec pow2i(Vec n) {
    const __m512i bits = _mm512_sub_epi64(
        _mm512_castpd_si512(_mm512_add_pd(n.v, _mm512_set1_pd(6755399441055744.0))),
        _mm512_set1_epi64(0x4338000000000000LL));
    return {_mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64(bits, _mm512_set1_epi64(1023)), 52))};
  }

 private:
  static Mask first(index_t n) {
    return n >= width ? Mask(0xFF) : Mask((1u << unsigned(n < 0 ? 0 : n)) - 1u);
  }
};

}  // namespace nnfast::avx512
