// Hidden-layer activations: forward, and backward expressed through the output.
#pragma once
#include "common.hpp"

namespace nnfast {

enum class Activation : int { identity = 0, logistic = 1, tanh = 2, relu = 3 };

const char* activation_name(Activation act);

// y = f(x), elementwise over n values; y == x (in place) is allowed.
void activation_forward(Activation act, float* y, const float* x, index_t n);

// dx = dy * f'(x), where f' is written through the forward output y = f(x):
// logistic y(1-y), tanh 1-y^2, relu [y > 0], identity 1. dx == dy is allowed.
void activation_backward(Activation act, float* dx, const float* dy, const float* y, index_t n);

}  // namespace nnfast
