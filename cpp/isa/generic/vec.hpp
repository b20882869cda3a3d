// The portable vector: 16 bytes (4 floats or 2 doubles) as a GCC/Clang vector extension,
// which the compiler maps to the baseline instruction set (SSE2 on x86-64, NEON on
// aarch64). fma is a multiply and an add (two roundings): the baseline has no fused
// multiply-add on x86-64. The contract every instruction set's Vec meets:
// cpp/vector_math.hpp.
// A compiler without vector extensions (MSVC), or NNFAST_GENERIC_PLAIN_ARRAYS (CI builds
// it with GCC, .ci/compilers), gets LaneArray instead: the same operations lane by lane,
// so the same results.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>

#include "common.hpp"

#if !defined(NNFAST_GENERIC_PLAIN_ARRAYS) && !defined(__GNUC__) && !defined(__clang__)
#define NNFAST_GENERIC_PLAIN_ARRAYS 1
#endif

namespace nnfast::generic {

// N lanes of E with a vector extension's lane-wise operators (only those Vec uses). A
// comparison gives the signed integer lanes of E's size: all ones where true, else zero.
template <class E, int N>
struct LaneArray {
  E lane[N];
  using MaskLanes = LaneArray<std::conditional_t<sizeof(E) == 4, std::int32_t, std::int64_t>, N>;

  E& operator[](int i) { return lane[i]; }
  E operator[](int i) const { return lane[i]; }
  template <class Op>
  friend LaneArray lanewise(LaneArray a, LaneArray b, Op op) {
    for (int i = 0; i < N; ++i) a.lane[i] = op(a.lane[i], b.lane[i]);
    return a;
  }
  friend LaneArray operator+(LaneArray a, LaneArray b) { return lanewise(a, b, std::plus<>()); }
  friend LaneArray operator-(LaneArray a, LaneArray b) { return lanewise(a, b, std::minus<>()); }
  friend LaneArray operator*(LaneArray a, LaneArray b) {
    return lanewise(a, b, std::multiplies<>());
  }
  friend LaneArray operator/(LaneArray a, LaneArray b) { return lanewise(a, b, std::divides<>()); }
  friend LaneArray operator&(LaneArray a, LaneArray b) { return lanewise(a, b, std::bit_and<>()); }
  friend LaneArray operator|(LaneArray a, LaneArray b) { return lanewise(a, b, std::bit_or<>()); }
  friend LaneArray operator+(LaneArray a, E x) { return a + broadcast(x); }
  friend LaneArray operator-(LaneArray a, E x) { return a - broadcast(x); }
  friend LaneArray operator&(LaneArray a, E x) { return a & broadcast(x); }
  friend LaneArray operator<<(LaneArray a, E x) {
    for (int i = 0; i < N; ++i) a.lane[i] = E(a.lane[i] << x);
    return a;
  }
  friend LaneArray operator~(LaneArray a) {
    for (int i = 0; i < N; ++i) a.lane[i] = E(~a.lane[i]);
    return a;
  }
  template <class Compare>
  friend MaskLanes compare(LaneArray a, LaneArray b, Compare op) {
    MaskLanes m;
    for (int i = 0; i < N; ++i) m.lane[i] = op(a.lane[i], b.lane[i]) ? -1 : 0;
    return m;
  }
  friend MaskLanes operator<(LaneArray a, LaneArray b) { return compare(a, b, std::less<>()); }
  friend MaskLanes operator<=(LaneArray a, LaneArray b) {
    return compare(a, b, std::less_equal<>());
  }
  friend MaskLanes operator>(LaneArray a, LaneArray b) { return compare(a, b, std::greater<>()); }
  friend MaskLanes operator>=(LaneArray a, LaneArray b) {
    return compare(a, b, std::greater_equal<>());
  }

 private:
  static LaneArray broadcast(E x) {
    LaneArray r;
    for (int i = 0; i < N; ++i) r.lane[i] = x;
    return r;
  }
};

// What differs between the element types: the lane types and the exponent's layout.
template <class T>
struct Lanes;

template <>
struct Lanes<float> {
#ifdef NNFAST_GENERIC_PLAIN_ARRAYS
  using Native = LaneArray<float, 4>;
  using Mask = LaneArray<std::int32_t, 4>;
  using Bits = LaneArray<std::uint32_t, 4>;
#else
  typedef float Native __attribute__((vector_size(16)));
  typedef std::int32_t Mask __attribute__((vector_size(16)));  // lanes all ones / zero
  typedef std::uint32_t Bits __attribute__((vector_size(16)));
#endif
  static constexpr std::uint32_t kAbs = 0x7fffffffu;  // all but the sign bit
  // 1.5 * 2^23 and its bits: adding it leaves an integral n in the low mantissa bits.
  static constexpr float kRoundMagic = 12582912.0f;
  static constexpr std::uint32_t kRoundMagicBits = 0x4B400000u;
  static constexpr std::uint32_t kExponentBias = 127, kMantissaBits = 23;
};

template <>
struct Lanes<double> {
#ifdef NNFAST_GENERIC_PLAIN_ARRAYS
  using Native = LaneArray<double, 2>;
  using Mask = LaneArray<std::int64_t, 2>;
  using Bits = LaneArray<std::uint64_t, 2>;
#else
  typedef double Native __attribute__((vector_size(16)));
  typedef std::int64_t Mask __attribute__((vector_size(16)));
  typedef std::uint64_t Bits __attribute__((vector_size(16)));
#endif
  static constexpr std::uint64_t kAbs = 0x7fffffffffffffffull;
  static constexpr double kRoundMagic = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr std::uint64_t kRoundMagicBits = 0x4338000000000000ull;
  static constexpr std::uint64_t kExponentBias = 1023, kMantissaBits = 52;
};

template <class T>
struct Vec {
  using scalar = T;
  static constexpr int width = int(16 / sizeof(T));
  using Native = typename Lanes<T>::Native;
  using Mask = typename Lanes<T>::Mask;
  using Bits = typename Lanes<T>::Bits;
  Native v;

  static Vec zero() { return {Native{}}; }
  static Vec broadcast(T x) {  // lane by lane: x + 0 would turn -0 into +0
    Vec r;
    for (int i = 0; i < width; ++i) r.v[i] = x;
    return r;
  }
  static Vec load(const T* p) {
    Vec r;
    std::memcpy(&r.v, p, sizeof r.v);
    return r;
  }
  void store(T* p) const { std::memcpy(p, &v, sizeof v); }
  // The first n (0 <= n <= width) lanes from p, the others zero; nothing past p[n-1] read.
  static Vec load_first(const T* p, index_t n) {
    Vec r = zero();
    for (index_t i = 0; i < n && i < width; ++i) r.v[i] = p[i];
    return r;
  }
  void store_first(T* p, index_t n) const {
    for (index_t i = 0; i < n && i < width; ++i) p[i] = v[i];
  }

  friend Vec operator+(Vec a, Vec b) { return {a.v + b.v}; }
  friend Vec operator-(Vec a, Vec b) { return {a.v - b.v}; }
  friend Vec operator*(Vec a, Vec b) { return {a.v * b.v}; }
  friend Vec operator/(Vec a, Vec b) { return {a.v / b.v}; }
  static Vec fma(Vec a, Vec b, Vec c) { return {a.v * b.v + c.v}; }  // -ffp-contract=off
  static Vec sqrt(Vec a) {
    for (int i = 0; i < width; ++i)
      a.v[i] = sizeof(T) == 4 ? std::sqrt(float(a.v[i])) : std::sqrt(a.v[i]);
    return a;
  }
  static Vec abs(Vec a) { return {reinterpret<Native>(reinterpret<Bits>(a.v) & Lanes<T>::kAbs)}; }

  friend Mask operator<(Vec a, Vec b) { return a.v < b.v; }
  friend Mask operator<=(Vec a, Vec b) { return a.v <= b.v; }
  friend Mask operator>(Vec a, Vec b) { return a.v > b.v; }
  friend Mask operator>=(Vec a, Vec b) { return a.v >= b.v; }
  // Lane-wise m ? a : b.
  static Vec select(Mask m, Vec a, Vec b) {
    return {reinterpret<Native>((m & reinterpret<Mask>(a.v)) | (~m & reinterpret<Mask>(b.v)))};
  }
  // 2^n for integral n in [-126, 127] (float) or [-1022, 1023] (double), from the bits of
  // n + 1.5 * 2^23 (2^52): no conversion, and unsigned arithmetic, so other lanes, NaN
  // included, give garbage, never undefined behaviour.
  static Vec pow2i(Vec n) {
    const Bits bits = reinterpret<Bits>(n.v + Lanes<T>::kRoundMagic) - Lanes<T>::kRoundMagicBits;
    return {reinterpret<Native>((bits + Lanes<T>::kExponentBias) << Lanes<T>::kMantissaBits)};
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
