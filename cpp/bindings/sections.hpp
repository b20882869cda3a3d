// The parts of the _core module, each registered by its own file.
#pragma once
#include <pybind11/pybind11.h>

namespace nnfast::bindings {

void bind_kernels(pybind11::module_& m);  // kernels.cpp: the nnfast.ops kernels
void bind_network(pybind11::module_& m);  // network.cpp: training epoch, objective
void bind_prediction(pybind11::module_& m);  // prediction.cpp: predict, Predictor

}  // namespace nnfast::bindings
