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
//   V::pow2i(n)                             2^n for integral n in [-126, 127] (float),
//                                           [-1022, 1023] (double)
//
// Every instruction set evaluates the same operations in the same order, so a lane's
// result does not depend on the vector width: the AVX2 and AVX-512 kernels agree bit
// for bit (the kernel files are compiled with -ffp-contract=off, so only V::fma fuses).
// These are templates only: each instantiation is its instruction set's own code.
#pragma once
#include <cmath>  // the loss heads' libm calls (kernels/losses.inc)
#include <type_traits>

#include "platform.hpp"

namespace nnfast::vector_math {

// Each function has a float32 and a float64 evaluation (Cephes' float and double
// routines), chosen by V::scalar; both run the same operations on every instruction set.
template <class V>
constexpr bool kFloat32 = std::is_same_v<typename V::scalar, float>;

// The constant x in V's element type.
template <class V>
V constant(double x) {
  return V::broadcast(typename V::scalar(x));
}

// c[0] x^(N-1) + ... + c[N-1] by Horner's rule, one fma per step (the order every
// instruction set follows). The coefficients are in V's element type.
template <class V, class S, int N>
V horner(V x, const S (&c)[N]) {
  static_assert(std::is_same_v<S, typename V::scalar>, "coefficients of V's element type");
  V p = V::broadcast(c[0]);
NNFAST_UNROLL(16)
  for (int i = 1; i < N; ++i) p = V::fma(p, x, V::broadcast(c[i]));
  return p;
}

// round(x) to nearest (ties to even) for |x| < 2^22 (float) or 2^51 (double): adding and
// removing 1.5 * 2^23 (1.5 * 2^52) leaves no fraction bits. The same two additions on
// every instruction set.
template <class V>
V round_small(V x) {
  const V magic = kFloat32<V> ? constant<V>(12582912.0) : constant<V>(6755399441055744.0);
  return (x + magic) - magic;
}

// e^x - 1 for |x| <= 1/2, float64: Cephes' Pade form (exp.c, expm1.c),
// 2 x P(x^2) / (Q(x^2) - x P(x^2)), within 1 ulp.
template <class V>
V expm1_pade(V x) {
  static_assert(!kFloat32<V>, "float64 coefficients");
  const V xx = x * x;
  const V px = x * horner(xx, {1.26177193074810590878e-4, 3.02994407707441961300e-2,
      9.99999999999999999910e-1});
  const V q = horner(xx, {3.00198505138664455042e-6, 2.52448340349684104192e-3,
      2.27265548208155028766e-1, 2.00000000000000000009e0});
  const V r = px / (q - px);
  return r + r;
}

// e^x, float64, within 1 ulp on normal results (Cephes' exp.c): x = n ln2 + r with
// |r| <= ln2 / 2 (ln2 split in two so n * ln2 is exact), e^r = 1 + expm1_pade(r), then
// 2^n as two normal factors, as the float32 version below.
template <class V>
V exp_float64(V x) {
  x = V::select(constant<V>(-746.0) > x, constant<V>(-746.0), x);
  x = V::select(constant<V>(709.8) < x, constant<V>(709.8), x);
  const V n = round_small(x * constant<V>(1.4426950408889634073599));
  V r = V::fma(n, constant<V>(-6.93145751953125e-1), x);
  r = V::fma(n, constant<V>(-1.42860682030941723212e-6), r);
  const V p = expm1_pade(r) + constant<V>(1.0);
  const V n1 = round_small(n * constant<V>(0.5)), n2 = n - n1;  // each in [-538, 512]
  return (p * V::pow2i(n1)) * V::pow2i(n2);
}

// e^x, float32, within 1 ulp on normal results: Cephes' expf (S. L. Moshier, Cephes Math
// Library, expf.c): x = n ln2 + r with |r| <= ln2 / 2, e^r by its degree-7 polynomial
// (ln2 split in two so n * ln2 is exact), then 2^n applied as two factors 2^n1 * 2^n2,
// each a normal number, so that results in the subnormal range round once and results
// past FLT_MAX become +inf. e^NaN is NaN, e^-inf is 0, e^inf is inf.
template <class V>
V exp_float32(V x) {
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

template <class V>
V exp(V x) {
  if constexpr (kFloat32<V>) return exp_float32(x);
  else return exp_float64(x);
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

// tanh within 2 ulp (checked against a wider libm in the tests): Cephes' tanhf and
// tanh.c: for |x| < 0.625 an odd form x + x^3 R(x^2) (float32: R a polynomial; float64: a
// rational P / Q); above, 1 - 2 / (e^2|x| + 1) with x's sign (e^2|x| = inf gives exactly
// 1). NaN stays NaN, -0 stays -0.
template <class V>
V tanh(V x) {
  const V z = x * x;
  V p;
  if constexpr (kFloat32<V>)
    p = horner(z, {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f, 1.33314422036e-1f,
        -3.33332819422e-1f});
  else
    p = horner(z, {-9.64399179425052238628e-1, -9.92877231001918586564e1,
                   -1.61468768441708447952e3}) /
        horner(z, {1.0, 1.12811678491632931402e2, 2.23548839060100448583e3,
                   4.84406305325125486048e3});
  const V small = V::fma(p * z, x, x);
  const V ax = V::abs(x), one = V::broadcast(1.0f);
  const V big = one - V::broadcast(2.0f) / (exp(ax + ax) + one);
  const V signed_big = V::select(x < V::zero(), V::zero() - big, big);
  const V y = V::select(ax < V::broadcast(0.625f), small, signed_big);
  return V::select(ax <= V::zero(), x, y);  // +-0 as is (the polynomial would give +0)
}

// e^x - 1 for |x| <= ln2 / 2, where e^x - 1 would lose the low bits. float32: the
// Taylor series to x^8 (truncation below 1e-8 of the result), x + x^2 q(x) by Horner;
// float64: Cephes' Pade form.
template <class V>
V expm1_small(V x) {
  if constexpr (kFloat32<V>) {
    V q = horner(x, {1.0f / 40320.0f, 1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f,
        1.0f / 24.0f, 1.0f / 6.0f, 0.5f});
    return V::fma(x * x, q, x);
  } else {
    return expm1_pade(x);
  }
}

// e^x - 1 without the cancellation of exp(x) - 1 near 0 (as C's expm1): the series for
// |x| <= ln2 / 2 (float32; float64: the Pade form to |x| <= 1/2, where it holds),
// exp(x) - 1 beyond (within 3 ulp there). -0 stays -0, NaN stays NaN.
template <class V>
V expm1(V x) {
  const V big = exp(x) - V::broadcast(1.0f);
  const V ax = V::abs(x);
  const V small_limit = kFloat32<V> ? V::broadcast(0.34657359f) : constant<V>(0.5);
  const V y = V::select(ax <= small_limit, expm1_small(x), big);
  return V::select(ax <= V::zero(), x, y);  // +-0 as is (the series gives +0 for -0)
}

// e^(-z^2 / 2) without the rounding of z^2 (which e^ would magnify |z|^2 times: 3e-6
// at |z| = 10): z = h + l, h the multiple of 2^-8 nearest |z| (12 significant bits for
// |z| < 16, so h^2 / 2 is exact), z^2 / 2 = h^2 / 2 + l (|z| + h) / 2, and the small second
// part through expm1_small. |z| >= 15 gives 0, as e^-112 does in float32. float64: h a
// multiple of 2^-20 (26 bits for |z| < 64), and |z| >= 39 gives 0 (e^-760).
template <class V>
V exp_neg_half_square(V z) {
  V az = V::abs(z);
  const V limit = kFloat32<V> ? constant<V>(15.0) : constant<V>(39.0);
  az = V::select(az > limit, limit, az);  // NaN passes
  // 1.5 * 2^15 (1.5 * 2^32): rounds to a multiple of 2^-8 (2^-20)
  const V magic = kFloat32<V> ? constant<V>(49152.0) : constant<V>(6442450944.0);
  const V h = (az + magic) - magic;
  const V half = V::broadcast(0.5f);
  const V e_hi = exp(V::zero() - (h * h) * half);
  const V lo = ((az - h) * (az + h)) * half;
  return V::fma(e_hi, expm1_small(V::zero() - lo), e_hi);
}

// The standard normal CDF Phi(z) = erfc(-z / sqrt 2) / 2, within a few ulp over the whole
// range (measured in the tests), through Cephes' erf / erfc (S. L. Moshier, Cephes Math
// Library, ndtrf.c and ndtr.c): for |x| < 1 (x = z / sqrt 2), 1/2 + erf(x) / 2 with
// erf(x) = x T(x^2) (float64: x T(x^2) / U(x^2)); beyond, the tail
// erfc(|x|) / 2 = e^(-x^2) R(|x|) / 2, so that Phi of a large negative z keeps its
// precision. float32: R = P(1/x^2) / |x| for |x| < 2, else R(1/x^2) / |x|; float64:
// P(|x|) / Q(|x|) for |x| < 8, else R(|x|) / S(|x|).
// density, when given, receives phi(z) = e^(-z^2/2) / sqrt(2 pi), which the tail computes anyway.
// (The float32 constants, rounded from these double literals, are the float literals.)
static_assert(float(0.70710678118654752440) == 0.70710678118654752f &&
              float(0.39894228040143267794) == 0.39894228040143268f);
template <class V>
V normal_cdf(V z, V* density = nullptr) {
  const V x = z * constant<V>(0.70710678118654752440), ax = V::abs(x);
  const V x2 = x * x;
  const V half = V::broadcast(0.5f);
  V central, scale, ratio;  // 1/2 + erf(x) / 2; the tail's factors: e^(-x^2) scale ratio / 2
  if constexpr (kFloat32<V>) {
    const V t = horner(x2, {7.853861353153693e-5f, -8.010193625184903e-4f, 5.188327685732524e-3f,
        -2.685381193529856e-2f, 1.128358514861418e-1f, -3.761262582423300e-1f, 1.128379165726710f});
    central = V::fma(x * t, half, half);
    const V q = V::broadcast(1.0f) / ax, q2 = q * q;
    const V p = horner(q2, {2.326819970068386e-2f, -1.387039388740657e-1f, 3.687424674597105e-1f,
        -5.824733027278666e-1f, 6.210004621745983e-1f, -4.944515323274145e-1f, 3.404879937665872e-1f,
        -2.741127028184656e-1f, 5.638259427386472e-1f});
    const V r = horner(q2, {-1.047766399936249e1f, 1.297719955372516e1f, -7.495518717768503f,
        2.921019019210786f, -1.015265279202700f, 4.218463358204948e-1f, -2.820767439740514e-1f,
        5.641895067754075e-1f});
    scale = q;
    ratio = V::select(ax < V::broadcast(2.0f), p, r);
  } else {
    const V t = horner(x2, {9.60497373987051638749e0, 9.00260197203842689217e1,
        2.23200534594684319226e3, 7.00332514112805075473e3, 5.55923013010394962768e4});
    const V u = horner(x2, {1.0, 3.35617141647503099647e1, 5.21357949780152679795e2,
        4.59432382970980127987e3, 2.26290000613890934246e4, 4.92673942608635921086e4});
    central = V::fma(x * t / u, half, half);
    // The tail's rationals at |x| <= 30 (e^(-x^2) is 0 beyond, and they would be inf / inf).
    const V ar = V::select(ax > constant<V>(30.0), constant<V>(30.0), ax);
    const V p = horner(ar, {2.46196981473530512524e-10, 5.64189564831068821977e-1,
        7.46321056442269912687e0, 4.86371970985681366614e1, 1.96520832956077098242e2,
        5.26445194995477358631e2, 9.34528527171957607540e2, 1.02755188689515710272e3,
        5.57535335369399327526e2});
    const V q = horner(ar, {1.0, 1.32281951154744992508e1, 8.67072140885989742329e1,
        3.54937778887819891062e2, 9.75708501743205489753e2, 1.82390916687909736289e3,
        2.24633760818710981792e3, 1.65666309194161350182e3, 5.57535340817727675546e2});
    const V r = horner(ar, {5.64189583547755073984e-1, 1.27536670759978104416e0,
        5.01905042251180477414e0, 6.16021097993053585195e0, 7.40974269950448939160e0,
        2.97886665372100240670e0});
    const V s = horner(ar, {1.0, 2.26052863220117276590e0, 9.39603524938001434673e0,
        1.20489539808096656605e1, 1.70814450747565897222e1, 9.60896809063285878198e0,
        3.36907645100081516050e0});
    scale = V::broadcast(1.0);
    ratio = V::select(ax < constant<V>(8.0), p / q, r / s);
  }
  const V e = exp_neg_half_square(z);  // e^(-x^2)
  if (density) *density = e * constant<V>(0.39894228040143267794);
  const V tail = ((e * scale) * ratio) * half;
  const V beyond = V::select(x < V::zero(), tail, V::broadcast(1.0f) - tail);
  return V::select(ax < V::broadcast(1.0f), central, beyond);
}

}  // namespace nnfast::vector_math
