// The single kernels behind nnfast.ops: check the arrays, release the GIL, call the core.
#include <pybind11/stl.h>

#include <type_traits>

#include "../dense.hpp"
#include "../losses.hpp"
#include "../optimizers.hpp"
#include "../reference.hpp"
#include "arguments.hpp"
#include "sections.hpp"

namespace nnfast::bindings {

namespace {

// An output head's z needs at least one column (the row max and sums read z[i][0]).
void require_outputs(const py::array& z, const char* fn) {
  if (z.shape(1) == 0)
    throw py::value_error(where(fn, "z") + " has no columns: a head needs at least one output");
}

void gemm_binding(py::array a, py::array b, py::array out, double alpha, double beta, bool ta,
                  bool tb, bool reference) {
  const char* fn = reference ? "gemm_reference" : "gemm";
  with_element_type(a, fn, "a", [&](auto type) {
    using T = decltype(type);
    if (reference && !std::is_same_v<T, float>) require_dtype(a, py::dtype::of<float>(), fn, "a");
    ConstMatrixViewOf<T> av = matrix<T>(a, fn, "a", ta), bv = matrix<T>(b, fn, "b", tb);
    MatrixViewOf<T> cv = out_matrix<T>(out, fn, "out");
    check_gemm_shapes(fn, cv, av, bv);
    require_no_overlap(fn, {{"out", out}}, {{"a", a}, {"b", b}});
    py::gil_scoped_release release;
    if constexpr (std::is_same_v<T, float>) {
      if (reference) return reference::gemm(cv, av, bv, float(alpha), float(beta));
    }
    gemm(cv, av, bv, T(alpha), T(beta));
  });
}

}  // namespace

void bind_kernels(py::module_& m) {
  for (bool ref : {false, true})
    m.def(ref ? "gemm_reference" : "gemm",
          [ref](py::array a, py::array b, py::array out, double alpha, double beta, bool ta,
                bool tb) { gemm_binding(a, b, out, alpha, beta, ta, tb, ref); },
          py::arg("a"), py::arg("b"), py::arg("out"), py::arg("alpha") = 1.0,
          py::arg("beta") = 0.0, py::arg("trans_a") = false, py::arg("trans_b") = false);

  // The dense layer: float32 or float64, the type of x / dz.
  m.def("dense_forward", [](py::array x, py::array w, py::array b, Activation act, py::array out) {
    const char* fn = "dense_forward";
    with_element_type(x, fn, "x", [&](auto type) {
      using T = decltype(type);
      ConstMatrixViewOf<T> xv = matrix<T>(x, fn, "x"), wv = matrix<T>(w, fn, "w");
      const T* bp = data_of<T>(b, fn, "b", 1);
      require_shape(b, {wv.cols}, fn, "b");
      MatrixViewOf<T> yv = out_matrix<T>(out, fn, "out");
      check_gemm_shapes(fn, yv, xv, wv);
      require_no_overlap(fn, {{"out", out}}, {{"x", x}, {"w", w}, {"b", b}});
      py::gil_scoped_release release;
      dense_forward(yv, xv, wv, bp, act);
    });
  }, py::arg("x"), py::arg("w"), py::arg("b"), py::arg("activation"), py::arg("out"));

  m.def("dense_backward", [](py::array dz, py::array x, py::array w, py::array dw, py::array db,
                             std::optional<py::array> dx) {
    const char* fn = "dense_backward";
    with_element_type(dz, fn, "dz", [&](auto type) {
      using T = decltype(type);
      ConstMatrixViewOf<T> dzv = matrix<T>(dz, fn, "dz"), xv = matrix<T>(x, fn, "x"),
                           wv = matrix<T>(w, fn, "w");
      MatrixViewOf<T> dwv = out_matrix<T>(dw, fn, "dw");
      T* dbp = data_of<T>(db, fn, "db", 1, true);
      require_shape(db, {dzv.cols}, fn, "db");
      MatrixViewOf<T> dxv{nullptr, 0, 0, 0};
      if (dx) dxv = out_matrix<T>(*dx, fn, "dx");
      NNFAST_CHECK(dzv.rows == xv.rows, fn, "dz has ", dzv.rows, " rows, x has ", xv.rows);
      if (dx)
        require_no_overlap(fn, {{"dw", dw}, {"db", db}, {"dx", *dx}}, {{"dz", dz}, {"x", x}, {"w", w}});
      else
        require_no_overlap(fn, {{"dw", dw}, {"db", db}}, {{"dz", dz}, {"x", x}, {"w", w}});
      py::gil_scoped_release release;
      dense_backward(dxv, dwv, dbp, dzv, xv, wv);
    });
  }, py::arg("dz"), py::arg("x"), py::arg("w"), py::arg("dw"), py::arg("db"), py::arg("dx") = py::none());

  for (bool ref : {false, true}) {
    m.def(ref ? "csr_dense_forward_reference" : "csr_dense_forward",
          [ref](py::object x, py::array w, py::array b, Activation act, py::array out,
                std::optional<py::array> rows) {
            const char* fn = ref ? "csr_dense_forward_reference" : "csr_dense_forward";
            py::list keep;
            const CsrMatrix xv = csr_kernel_input(x, fn, keep);
            const ConstMatrixView wv = matrix(w, fn, "w");
            const float* bp = data_of(b, fn, "b", 1);
            require_shape(b, {wv.cols}, fn, "b");
            const MatrixView yv = out_matrix(out, fn, "out");
            const RowSelection rs = row_selection(rows, xv, fn);
            require_no_overlap(fn, {{"out", out}}, {{"w", w}, {"b", b}});
            for (auto part : keep) require_no_overlap(fn, {{"out", out}}, {{"x", part.cast<py::array>()}});
            if (rows) require_no_overlap(fn, {{"out", out}}, {{"rows", *rows}});
            py::gil_scoped_release release;
            if (ref)
              reference::csr_dense_forward(yv, xv, rs, wv, bp, act);
            else
              csr_dense_forward(yv, xv, rs, wv, bp, act);
          },
          py::arg("x"), py::arg("w"), py::arg("b"), py::arg("activation"), py::arg("out"),
          py::arg("rows") = py::none());
    m.def(ref ? "csr_weight_gradient_reference" : "csr_weight_gradient",
          [ref](py::array dz, py::object x, py::array dw, std::optional<py::array> rows,
                bool accumulate) {
            const char* fn = ref ? "csr_weight_gradient_reference" : "csr_weight_gradient";
            py::list keep;
            const CsrMatrix xv = csr_kernel_input(x, fn, keep);
            const ConstMatrixView dzv = matrix(dz, fn, "dz");
            const MatrixView dwv = out_matrix(dw, fn, "dw");
            const RowSelection rs = row_selection(rows, xv, fn);
            require_no_overlap(fn, {{"dw", dw}}, {{"dz", dz}});
            for (auto part : keep) require_no_overlap(fn, {{"dw", dw}}, {{"x", part.cast<py::array>()}});
            if (rows) require_no_overlap(fn, {{"dw", dw}}, {{"rows", *rows}});
            py::gil_scoped_release release;
            if (ref)
              reference::csr_weight_gradient(dwv, xv, rs, dzv, accumulate);
            else
              csr_weight_gradient(dwv, xv, rs, dzv, accumulate);
          },
          py::arg("dz"), py::arg("x"), py::arg("dw"), py::arg("rows") = py::none(),
          py::arg("accumulate") = false);
  }

  // The elementwise kernels: float32 or float64, the type of their first array.
  m.def("activation_forward", [](py::array x, Activation act, py::array out) {
    const char* fn = "activation_forward";
    with_element_type(x, fn, "x", [&](auto type) {
      using T = decltype(type);
      const T* xp = data_of<T>(x, fn, "x", -1);
      T* op = data_of<T>(out, fn, "out", -1, true);
      elementwise_same_shape(x, out, fn, "out");
      require_no_overlap(fn, {{"out", out}}, {{"x", x}});
      py::gil_scoped_release release;
      activation_forward(act, op, xp, index_t(x.size()));
    });
  }, py::arg("x"), py::arg("activation"), py::arg("out"));

  m.def("activation_backward", [](py::array dy, py::array saved, Activation act, py::array out) {
    const char* fn = "activation_backward";
    with_element_type(dy, fn, "dy", [&](auto type) {
      using T = decltype(type);
      const T* dyp = data_of<T>(dy, fn, "dy", -1);
      const T* sp = data_of<T>(saved, fn, "saved", -1);
      T* op = data_of<T>(out, fn, "out", -1, true);
      elementwise_same_shape(dy, saved, fn, "saved");
      elementwise_same_shape(dy, out, fn, "out");
      require_no_overlap(fn, {{"out", out}}, {{"dy", dy}, {"saved", saved}});
      py::gil_scoped_release release;
      activation_backward(act, op, dyp, sp, index_t(dy.size()));
    });
  }, py::arg("dy"), py::arg("saved"), py::arg("activation"), py::arg("out"));

  m.def("output_activation", [](py::array z, Loss loss, py::array out) {
    const char* fn = "output_activation";
    with_element_type(z, fn, "z", [&](auto type) {
      using T = decltype(type);
      const T* zp = data_of<T>(z, fn, "z", 2);
      require_outputs(z, fn);
      T* op = data_of<T>(out, fn, "out", 2, true);
      require_shape(out, {index_t(z.shape(0)), index_t(z.shape(1))}, fn, "out");
      require_no_overlap(fn, {{"out", out}}, {{"z", z}});
      py::gil_scoped_release release;
      output_activation(loss, op, zp, z.shape(0), z.shape(1));
    });
  }, py::arg("z"), py::arg("loss"), py::arg("out"));

  m.def("loss_forward_backward", [](py::array z, py::array y, Loss loss, py::array grad,
                                    std::optional<py::array> sw, double loss_parameter) {
    const char* fn = "loss_forward_backward";
    check_loss_parameter(fn, loss, loss_parameter);
    double total = 0.0;
    with_element_type(z, fn, "z", [&](auto type) {
      using T = decltype(type);
      const T* zp = data_of<T>(z, fn, "z", 2);
      const index_t n = z.shape(0), k = z.shape(1);
      require_outputs(z, fn);
      const T* yp = data_of<T>(y, fn, "y", 2);
      require_shape(y, {n, k}, fn, "y");
      T* gp = data_of<T>(grad, fn, "grad", 2, true);
      require_shape(grad, {n, k}, fn, "grad");
      const T* swp = optional_weights<T>(sw, n, fn);
      if (sw)
        require_no_overlap(fn, {{"grad", grad}}, {{"z", z}, {"y", y}, {"sample_weight", *sw}});
      else
        require_no_overlap(fn, {{"grad", grad}}, {{"z", z}, {"y", y}});
      std::vector<double> row_loss(static_cast<size_t>(n));
      py::gil_scoped_release release;
      loss_forward_backward(loss, gp, row_loss.data(), zp, yp, swp, n, k, loss_parameter);
      for (index_t i = 0; i < n; ++i) total += (swp ? double(swp[i]) : 1.0) * row_loss[size_t(i)];
    });
    return total;
  }, py::arg("z"), py::arg("y"), py::arg("loss"), py::arg("grad"), py::arg("sample_weight") = py::none(),
     py::arg("loss_parameter") = 0.0);

  m.def("all_finite", [](py::list arrays) {
    // float32 or float64, each array its own.
    std::vector<std::pair<const float*, index_t>> floats;
    std::vector<std::pair<const double*, index_t>> doubles;
    for (auto h : arrays) {
      auto a = array_item(h, "all_finite", "arrays[i]");
      with_element_type(a, "all_finite", "arrays[i]", [&](auto type) {
        using T = decltype(type);
        const T* p = data_of<T>(a, "all_finite", "arrays[i]", -1);
        if constexpr (std::is_same_v<T, float>) floats.emplace_back(p, index_t(a.size()));
        else doubles.emplace_back(p, index_t(a.size()));
      });
    }
    py::gil_scoped_release release;
    for (const auto& [p, n] : floats)
      if (!all_finite(p, n)) return false;
    for (const auto& [p, n] : doubles)
      if (!all_finite(p, n)) return false;
    return true;
  }, py::arg("arrays"));

  m.def("adam_update", [](py::array param, py::array grad, py::array mm, py::array v, std::int64_t step,
                          double lr, double beta1, double beta2, double eps, double alpha, double scale) {
    const char* fn = "adam_update";
    with_element_type(param, fn, "param", [&](auto type) {
      using T = decltype(type);
      T* p = data_of<T>(param, fn, "param", -1, true);
      const T* g = data_of<T>(grad, fn, "grad", -1);
      T* mp = data_of<T>(mm, fn, "m", -1, true);
      T* vp = data_of<T>(v, fn, "v", -1, true);
      elementwise_same_shape(param, grad, fn, "grad");
      elementwise_same_shape(param, mm, fn, "m");
      elementwise_same_shape(param, v, fn, "v");
      NNFAST_CHECK(step >= 1, fn, "step must be >= 1, got ", step);
      require_no_overlap(fn, {{"param", param}, {"m", mm}, {"v", v}}, {{"grad", grad}});
      const AdamStepOf<T> s = adam_step<T>(lr, beta1, beta2, eps, step);
      py::gil_scoped_release release;
      adam_update(p, g, mp, vp, index_t(param.size()), s, T(alpha), T(scale));
    });
  }, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::kw_only(), py::arg("step"),
     py::arg("learning_rate"), py::arg("beta1") = 0.9, py::arg("beta2") = 0.999,
     py::arg("epsilon") = 1e-8, py::arg("alpha") = 0.0, py::arg("grad_scale") = 1.0);

  m.def("sgd_update", [](py::array param, py::array grad, py::array vel, double lr, double momentum,
                         bool nesterov, double alpha, double scale) {
    const char* fn = "sgd_update";
    with_element_type(param, fn, "param", [&](auto type) {
      using T = decltype(type);
      T* p = data_of<T>(param, fn, "param", -1, true);
      const T* g = data_of<T>(grad, fn, "grad", -1);
      T* vp = data_of<T>(vel, fn, "velocity", -1, true);
      elementwise_same_shape(param, grad, fn, "grad");
      elementwise_same_shape(param, vel, fn, "velocity");
      require_no_overlap(fn, {{"param", param}, {"velocity", vel}}, {{"grad", grad}});
      py::gil_scoped_release release;
      sgd_update(p, g, vp, index_t(param.size()), T(lr), T(momentum), nesterov, T(alpha), T(scale));
    });
  }, py::arg("param"), py::arg("grad"), py::arg("velocity"), py::kw_only(), py::arg("learning_rate"),
     py::arg("momentum") = 0.0, py::arg("nesterov") = false, py::arg("alpha") = 0.0,
     py::arg("grad_scale") = 1.0);
}

}  // namespace nnfast::bindings
