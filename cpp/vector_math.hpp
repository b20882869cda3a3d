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

// c[0] x^(N-1) + ... + c[N-1] by Horner's rule, one fma per step (the order every
// instruction set follows).
template <class V, int N>
V horner(V x, const float (&c)[N]) {
  V p = V::broadcast(c[0]);
#pragma GCC unroll 16
  for (int i = 1; i < N; ++i) p = V::fma(p, x, V::broadcast(c[i]));
  return p;
}

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
  V p = horner(r, {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
      1.6666665459e-1f, 5.0000001201e-1f});
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

// logistic(x), and 1 - logistic(x) = logistic(-x) into *complement, from the same e^-|x|:
// the complement keeps its precision where 1 - logistic(x) would cancel (x >> 0).
template <class V>
V logistic(V x, V* complement) {
  const V e = exp(V::zero() - V::abs(x)), one = V::broadcast(1.0f);
  const auto positive = x >= V::zero();
  const V denominator = one + e;
  *complement = V::select(positive, e, one) / denominator;
  return V::select(positive, one, e) / denominator;
}

// tanh, float32, within 2 ulp (checked against float64 in the tests): Cephes' tanhf:
// for |x| < 0.625 an odd polynomial, x + x^3 P(x^2); above, 1 - 2 / (e^2|x| + 1) with
// x's sign (e^2|x| = inf gives exactly 1). NaN stays NaN, -0 stays -0.
template <class V>
V tanh(V x) {
  static_assert(kFloat32<V>, "float32 coefficients");
  const V z = x * x;
  V p = horner(z, {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f, 1.33314422036e-1f,
      -3.33332819422e-1f});
  const V small = V::fma(p * z, x, x);
  const V ax = V::abs(x), one = V::broadcast(1.0f);
  const V big = one - V::broadcast(2.0f) / (exp(ax + ax) + one);
  const V signed_big = V::select(x < V::zero(), V::zero() - big, big);
  const V y = V::select(ax < V::broadcast(0.625f), small, signed_big);
  return V::select(ax <= V::zero(), x, y);  // +-0 as is (the polynomial would give +0)
}

// e^x - 1 for |x| <= ln2 / 2, where e^x - 1 would lose the low bits: the Taylor series
// to x^8 (truncation below 1e-8 of the result), x + x^2 q(x) by Horner.
template <class V>
V expm1_small(V x) {
  static_assert(kFloat32<V>, "float32 coefficients");
  V q = horner(x, {1.0f / 40320.0f, 1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f,
      1.0f / 6.0f, 0.5f});
  return V::fma(x * x, q, x);
}

// e^x - 1 without the cancellation of exp(x) - 1 near 0 (as C's expm1): the series for
// |x| <= ln2 / 2, exp(x) - 1 beyond (within 3 ulp there). -0 stays -0, NaN stays NaN.
template <class V>
V expm1(V x) {
  const V big = exp(x) - V::broadcast(1.0f);
  const V ax = V::abs(x);
  const V y = V::select(ax <= V::broadcast(0.34657359f), expm1_small(x), big);
  return V::select(ax <= V::zero(), x, y);  // +-0 as is (the series gives +0 for -0)
}

// e^(-z^2 / 2) without the rounding of z^2 (which e^ would magnify |z|^2 times: 3e-6
// at |z| = 10): z = h + l, h the multiple of 2^-8 nearest |z| (12 significant bits for
// |z| < 16, so h^2 / 2 is exact), z^2 / 2 = h^2 / 2 + l (|z| + h) / 2, and the small second
// part through expm1_small. |z| >= 15 gives 0, as e^-112 does in float32.
template <class V>
V exp_neg_half_square(V z) {
  V az = V::abs(z);
  az = V::select(az > V::broadcast(15.0f), V::broadcast(15.0f), az);  // NaN passes
  const V magic = V::broadcast(49152.0f);  // 1.5 * 2^15: rounds to a multiple of 2^-8
  const V h = (az + magic) - magic;
  const V half = V::broadcast(0.5f);
  const V e_hi = exp(V::zero() - (h * h) * half);
  const V lo = ((az - h) * (az + h)) * half;
  return V::fma(e_hi, expm1_small(V::zero() - lo), e_hi);
}

// The standard normal CDF Phi(z) = erfc(-z / sqrt 2) / 2, within a few ulp over the whole
// float range (measured in the tests), through Cephes' erff / erfcf polynomials (S. L.
// Moshier, Cephes Math Library, ndtrf.c): for |x| < 1 (x = z / sqrt 2), 1/2 + erf(x) / 2
// with erf(x) = x T(x^2); beyond, the tail erfc(|x|) / 2 = e^(-x^2) P(1/x^2) / (2|x|)
// (P for |x| < 2, R above), so that Phi of a large negative z keeps its precision.
// density, when given, receives phi(z) = e^(-z^2/2) / sqrt(2 pi), which the tail computes anyway.
template <class V>
V normal_cdf(V z, V* density = nullptr) {
  static_assert(kFloat32<V>, "float32 coefficients");
  const V x = z * V::broadcast(0.70710678118654752f), ax = V::abs(x);
  const V x2 = x * x;
  const V t = horner(x2, {7.853861353153693e-5f, -8.010193625184903e-4f, 5.188327685732524e-3f,
      -2.685381193529856e-2f, 1.128358514861418e-1f, -3.761262582423300e-1f, 1.128379165726710f});
  const V half = V::broadcast(0.5f);
  const V central = V::fma(x * t, half, half);
  const V q = V::broadcast(1.0f) / ax, q2 = q * q;
  const V p = horner(q2, {2.326819970068386e-2f, -1.387039388740657e-1f, 3.687424674597105e-1f,
      -5.824733027278666e-1f, 6.210004621745983e-1f, -4.944515323274145e-1f, 3.404879937665872e-1f,
      -2.741127028184656e-1f, 5.638259427386472e-1f});
  const V r = horner(q2, {-1.047766399936249e1f, 1.297719955372516e1f, -7.495518717768503f,
      2.921019019210786f, -1.015265279202700f, 4.218463358204948e-1f, -2.820767439740514e-1f,
      5.641895067754075e-1f});
  const V e = exp_neg_half_square(z);  // e^(-x^2)
  if (density) *density = e * V::broadcast(0.39894228040143268f);
  const V tail = ((e * q) * V::select(ax < V::broadcast(2.0f), p, r)) * half;
  const V beyond = V::select(x < V::zero(), tail, V::broadcast(1.0f) - tail);
  return V::select(ax < V::broadcast(1.0f), central, beyond);
}

}  // namespace nnfast::vector_math
