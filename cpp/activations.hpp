// Hidden-layer activations: forward, and backward expressed through the output.
#pragma once
#include <cmath>

#include "common.hpp"

namespace nnfast {

// Every hidden activation, declared once, in the order of its enum values: the enum,
// activation_name, with_activation's dispatch and the Python enum (bindings/module.cpp)
// are generated from this list. Adding one: a name here, its element math in activate and
// derivative_from_output below, and its entry in python/nnfast/_activations.py.
#define NNFAST_ACTIVATIONS(X) X(identity) X(logistic) X(tanh) X(relu)

enum class Activation : int {
#define NNFAST_ACTIVATION_ENUMERATOR(name) name,
  NNFAST_ACTIVATIONS(NNFAST_ACTIVATION_ENUMERATOR)
#undef NNFAST_ACTIVATION_ENUMERATOR
};

const char* activation_name(Activation act);

// y = f(x), elementwise over n values; y == x (in place) is allowed.
void activation_forward(Activation act, float* y, const float* x, index_t n);

// dx = dy * f'(x), where f' is written through the forward output y = f(x):
// logistic y(1-y), tanh 1-y^2, relu [y > 0], identity 1. dx == dy is allowed.
void activation_backward(Activation act, float* dx, const float* dy, const float* y, index_t n);

// The element math, written once: the array kernels above and the GEMM's fused
// epilogues instantiate these per activation, so the switch is outside every loop.
template <Activation A>
inline float activate(float x) {
  if constexpr (A == Activation::logistic) {
    // 1 / (1 + exp(-x)) without overflow: exp of a non-positive number only.
    if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.0f + e);
  } else if constexpr (A == Activation::tanh) {
    return std::tanh(x);
  } else if constexpr (A == Activation::relu) {
    // A select, so it vectorizes; NaN fails the test and stays NaN (a NaN weight must
    // stay visible in the output, as in NumPy and scikit-learn), -0 becomes +0.
    return x <= 0.0f ? 0.0f : x;
  } else {
    return x;
  }
}

template <Activation A>
inline float derivative_from_output(float y) {
  if constexpr (A == Activation::logistic) return y * (1.0f - y);
  else if constexpr (A == Activation::tanh) return 1.0f - y * y;
  else if constexpr (A == Activation::relu) return y > 0.0f ? 1.0f : 0.0f;
  else return 1.0f;
}

// Calls fn(std::integral_constant<Activation, A>) for the runtime value act: one switch,
// then code specialised for A.
template <class Fn>
inline void with_activation(Activation act, Fn&& fn) {
  switch (act) {
#define NNFAST_ACTIVATION_CASE(name) \
  case Activation::name:             \
    return fn(std::integral_constant<Activation, Activation::name>{});
    NNFAST_ACTIVATIONS(NNFAST_ACTIVATION_CASE)
#undef NNFAST_ACTIVATION_CASE
  }
}

}  // namespace nnfast
