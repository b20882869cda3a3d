// Elementwise math written once over a vector type V, for every instruction set.
//
// V, the vector contract (cpp/isa/<isa>/vec.hpp maps it, one Vec<T> per scalar type T):
//   V::scalar, V::width                     element type, lanes
//   V::zero(), V::broadcast(x)              constants
//   V::load(p), v.store(p)                  width elements, no alignment assumed
//   V::load_first(p, n), v.store_first(p, n)
//                                           the first n lanes (0 <= n <= width); the rest
//                                           read as zero and are never touched in memory
//   + - * /, V::fma(a, b, c) = a * b + c    fma fused where the instruction set has it
//   V::sqrt, V::abs
//   < <= > >= -> V::Mask, V::select(m, a, b) = m ? a : b lane-wise (NaN compares false)
//   V::pow2i(n)                             2^n for integral n in [-126, 127]
//
// Every instruction set evaluates the same operations in the same order, so a lane's
// result does not depend on the vector width: the AVX2 and AVX-512 kernels agree bit
// for bit (the kernel files are compiled with -ffp-contract=off, so only V::fma fuses).
// These are templates only: each instantiation is its instruction set's own code.
#pragma once
#include <type_traits>

namespace nnfast::vector_math {

// The polynomials below are float32's; float64 needs its own (Cephes' exp.c, tanh.c).
template <class V>
constexpr bool kFloat32 = std::is_same_v<typename V::scalar, float>;

// round(x) to nearest (ties to even) for |x| < 2^22: adding and removing 1.5 * 2^23
// leaves no fraction bits. The same two additions on every instruction set.
template <class V>
V round_small(V x) {
  const V magic = V::broadcast(12582912.0f);
  return (x + magic) - magic;
}

// e^x, float32, within 1 ulp on normal results: Cephes' expf (S. L. Moshier, Cephes Math
// Library, expf.c): x = n ln2 + r with |r| <= ln2 / 2, e^r by its degree-7 polynomial
// (ln2 split in two so n * ln2 is exact), then 2^n applied as two factors 2^n1 * 2^n2,
// each a normal number, so that results in the subnormal range round once and results
// past FLT_MAX become +inf. e^NaN is NaN, e^-inf is 0, e^inf is inf.
template <class V>
V exp(V x) {
  static_assert(kFloat32<V>, "float32 coefficients");
  // Clamped (NaN passes: the bound is compared first) to where e^x is 0 or inf anyway.
  x = V::select(V::broadcast(-104.0f) > x, V::broadcast(-104.0f), x);
  x = V::select(V::broadcast(88.8f) < x, V::broadcast(88.8f), x);
  const V n = round_small(x * V::broadcast(1.44269504088896341f));
  V r = V::fma(n, V::broadcast(-0.693359375f), x);
  r = V::fma(n, V::broadcast(2.12194440e-4f), r);
  V p = V::broadcast(1.9875691500e-4f);
  p = V::fma(p, r, V::broadcast(1.3981999507e-3f));
  p = V::fma(p, r, V::broadcast(8.3334519073e-3f));
  p = V::fma(p, r, V::broadcast(4.1665795894e-2f));
  p = V::fma(p, r, V::broadcast(1.6666665459e-1f));
  p = V::fma(p, r, V::broadcast(5.0000001201e-1f));
  p = V::fma(p, r * r, r) + V::broadcast(1.0f);
  const V n1 = round_small(n * V::broadcast(0.5f)), n2 = n - n1;  // each in [-75, 64]
  return (p * V::pow2i(n1)) * V::pow2i(n2);
}

// The logistic sigmoid 1 / (1 + e^-x) without overflow: with e = e^-|x|, 1 / (1 + e) for
// x >= 0 and e / (1 + e) below (one division either way).
template <class V>
V logistic(V x) {
  const V e = exp(V::zero() - V::abs(x));
  return V::select(x >= V::zero(), V::broadcast(1.0f), e) / (V::broadcast(1.0f) + e);
}

// tanh, float32, within 2 ulp (checked against float64 in the tests): Cephes' tanhf:
// for |x| < 0.625 an odd polynomial, x + x^3 P(x^2); above, 1 - 2 / (e^2|x| + 1) with
// x's sign (e^2|x| = inf gives exactly 1). NaN stays NaN, -0 stays -0.
template <class V>
V tanh(V x) {
  static_assert(kFloat32<V>, "float32 coefficients");
  const V z = x * x;
  V p = V::broadcast(-5.70498872745e-3f);
  p = V::fma(p, z, V::broadcast(2.06390887954e-2f));
  p = V::fma(p, z, V::broadcast(-5.37397155531e-2f));
  p = V::fma(p, z, V::broadcast(1.33314422036e-1f));
  p = V::fma(p, z, V::broadcast(-3.33332819422e-1f));
  const V small = V::fma(p * z, x, x);
  const V ax = V::abs(x), one = V::broadcast(1.0f);
  const V big = one - V::broadcast(2.0f) / (exp(ax + ax) + one);
  const V signed_big = V::select(x < V::zero(), V::zero() - big, big);
  const V y = V::select(ax < V::broadcast(0.625f), small, signed_big);
  return V::select(ax <= V::zero(), x, y);  // +-0 as is (the polynomial would give +0)
}

}  // namespace nnfast::vector_math
