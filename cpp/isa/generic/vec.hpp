// The portable vector: 4 floats as a GCC/Clang vector extension, which the compiler maps
// to the baseline instruction set (SSE2 on x86-64, NEON on aarch64). fma is a multiply
// and an add (two roundings): the baseline has no fused multiply-add on x86-64.
// The contract every instruction set's Vec meets: cpp/vector_math.hpp.
#pragma once
#include <cstdint>
#include <cstring>

#include "common.hpp"

namespace nnfast::generic {

template <class T>
struct Vec;

template <>
struct Vec<float> {
  using scalar = float;
  static constexpr int width = 4;
  typedef float Native __attribute__((vector_size(16)));
  typedef std::int32_t Mask __attribute__((vector_size(16)));  // lanes all ones / zero
  typedef std::uint32_t Bits __attribute__((vector_size(16)));
  Native v;

  static Vec zero() { return {Native{0.0f, 0.0f, 0.0f, 0.0f}}; }
  static Vec broadcast(float x) { return {Native{x, x, x, x}}; }
  static Vec load(const float* p) {
    Vec r;
    std::memcpy(&r.v, p, sizeof r.v);
    return r;
  }
  void store(float* p) const { std::memcpy(p, &v, sizeof v); }
  // The first n (0 <= n <= width) lanes from p, the others zero; nothing past p[n-1] read.
  static Vec load_first(const float* p, index_t n) {
    Vec r = zero();
    for (index_t i = 0; i < n && i < width; ++i) r.v[i] = p[i];
    return r;
  }
  void store_first(float* p, index_t n) const {
    for (index_t i = 0; i < n && i < width; ++i) p[i] = v[i];
  }

  friend Vec operator+(Vec a, Vec b) { return {a.v + b.v}; }
  friend Vec operator-(Vec a, Vec b) { return {a.v - b.v}; }
  friend Vec operator*(Vec a, Vec b) { return {a.v * b.v}; }
  friend Vec operator/(Vec a, Vec b) { return {a.v / b.v}; }
  static Vec fma(Vec a, Vec b, Vec c) { return {a.v * b.v + c.v}; }  // -ffp-contract=off
  static Vec sqrt(Vec a) {
    for (int i = 0; i < width; ++i) a.v[i] = __builtin_sqrtf(a.v[i]);
    return a;
  }
  static Vec abs(Vec a) { return {reinterpret<Native>(reinterpret<Mask>(a.v) & 0x7fffffff)}; }

  friend Mask operator<(Vec a, Vec b) { return a.v < b.v; }
  friend Mask operator<=(Vec a, Vec b) { return a.v <= b.v; }
  friend Mask operator>(Vec a, Vec b) { return a.v > b.v; }
  friend Mask operator>=(Vec a, Vec b) { return a.v >= b.v; }
  // Lane-wise m ? a : b.
  static Vec select(Mask m, Vec a, Vec b) {
    return {reinterpret<Native>((m & reinterpret<Mask>(a.v)) | (~m & reinterpret<Mask>(b.v)))};
  }
  // 2^n for integral n in [-126, 127], from the bits of n + 1.5 * 2^23 (no conversion,
  // and unsigned arithmetic: other lanes, NaN included, give garbage, never undefined
  // behaviour).
  static Vec pow2i(Vec n) {
    const Bits bits = reinterpret<Bits>((n.v + 12582912.0f)) - 0x4B400000u;
    return {reinterpret<Native>((bits + 127u) << 23)};
  }

 private:
  template <class To, class From>
  static To reinterpret(From x) {
    To r;
    std::memcpy(&r, &x, sizeof r);
    return r;
  }
};

}  // namespace nnfast::generic
