// Hidden-layer activations: forward, and backward expressed through the output.
#pragma once
#include <type_traits>

#include "common.hpp"

namespace nnfast {

// Every hidden activation, declared once, in the order of its enum values: the enum,
// activation_name, with_activation's dispatch and the Python enum (bindings/module.cpp)
// are generated from this list. Adding one: a name here, its element math in
// cpp/kernels/activations.inc, its float64 twin in reference.cpp and its entry in
// python/nnfast/_activations.py.
#define NNFAST_ACTIVATIONS(X) X(identity) X(logistic) X(tanh) X(relu)

enum class Activation : int {
#define NNFAST_ACTIVATION_ENUMERATOR(name) name,
  NNFAST_ACTIVATIONS(NNFAST_ACTIVATION_ENUMERATOR)
#undef NNFAST_ACTIVATION_ENUMERATOR
};

const char* activation_name(Activation act);

// The element math is cpp/kernels/activations.inc, over each instruction set's vectors
// (vector_math.hpp: exp, tanh, logistic); these run the active kernel table's.

// y = f(x), elementwise over n values; y == x (in place) is allowed.
void activation_forward(Activation act, float* y, const float* x, index_t n);

// dx = dy * f'(x), where f' is written through the forward output y = f(x):
// logistic y(1-y), tanh 1-y^2, relu [y > 0], identity 1. dx == dy is allowed.
void activation_backward(Activation act, float* dx, const float* dy, const float* y, index_t n);

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
