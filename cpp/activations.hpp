// Hidden-layer activations: forward, and backward expressed through the output.
#pragma once
#include <type_traits>

#include "common.hpp"

namespace nnfast {

// Every hidden activation, declared once, in the order of its enum values: the enum,
// activation_name, kActivations, derivative_reads_input, with_activation's dispatch and
// the Python enum (bindings/module.cpp) are generated from this list. Each entry says what
// its derivative is written through, which is what the training step keeps of the
// forward: `output`, y = f(z) (today's memory traffic: y is kept anyway), or `input`, the
// pre-activation z (GELU and SiLU, whose derivative is no function of y; the step then
// keeps z as well). Adding one: a line here, its element math in
// cpp/kernels/activations.inc, its float64 twin in reference.cpp and its entry in
// python/nnfast/_activations.py.
//   leaky_relu: negative slope 0.01; elu: alpha 1 (PyTorch's defaults);
//   gelu: z * Phi(z), Phi the standard normal CDF (exact, through erf/erfc);
//   gelu_tanh: PyTorch's GELU(approximate="tanh"); silu: z * logistic(z).
#define NNFAST_ACTIVATIONS(X)                                                       \
  X(identity, output) X(logistic, output) X(tanh, output) X(relu, output)           \
  X(leaky_relu, output) X(elu, output) X(gelu, input) X(gelu_tanh, input) X(silu, input)

enum class Activation : int {
#define NNFAST_ACTIVATION_ENUMERATOR(name, reads) name,
  NNFAST_ACTIVATIONS(NNFAST_ACTIVATION_ENUMERATOR)
#undef NNFAST_ACTIVATION_ENUMERATOR
};

const char* activation_name(Activation act);

// Every activation, in enum order.
inline constexpr Activation kActivations[] = {
#define NNFAST_ACTIVATION_VALUE(name, reads) Activation::name,
    NNFAST_ACTIVATIONS(NNFAST_ACTIVATION_VALUE)
#undef NNFAST_ACTIVATION_VALUE
};

// True when f'(z) is written through the input z, false when through the output f(z).
constexpr bool derivative_reads_input(Activation act) {
  switch (act) {
#define NNFAST_ACTIVATION_READS(name, reads) \
  case Activation::name:                     \
    return #reads[0] == 'i';
    NNFAST_ACTIVATIONS(NNFAST_ACTIVATION_READS)
#undef NNFAST_ACTIVATION_READS
  }
  return false;
}

// The element math is cpp/kernels/activations.inc, over each instruction set's vectors
// (vector_math.hpp: exp, tanh, logistic); these run the active kernel table's.

// y = f(x), elementwise over n values (float32 or float64); y == x (in place) is allowed.
void activation_forward(Activation act, float* y, const float* x, index_t n);
void activation_forward(Activation act, double* y, const double* x, index_t n);

// dx = dy * f'(x), f' written through `saved`: the forward output y = f(x), or the input
// x where derivative_reads_input(act). Through y: logistic y(1-y), tanh 1-y^2, relu
// [y > 0], leaky_relu [y > 0] + 0.01 [y <= 0], elu [y > 0] + (y + 1) [y <= 0], identity 1.
// dx == dy is allowed.
void activation_backward(Activation act, float* dx, const float* dy, const float* saved,
                         index_t n);
void activation_backward(Activation act, double* dx, const double* dy, const double* saved,
                         index_t n);

// Calls fn(std::integral_constant<Activation, A>) for the runtime value act: one switch,
// then code specialised for A.
template <class Fn>
inline void with_activation(Activation act, Fn&& fn) {
  switch (act) {
#define NNFAST_ACTIVATION_CASE(name, reads) \
  case Activation::name:             \
    return fn(std::integral_constant<Activation, Activation::name>{});
    NNFAST_ACTIVATIONS(NNFAST_ACTIVATION_CASE)
#undef NNFAST_ACTIVATION_CASE
  }
}

}  // namespace nnfast
