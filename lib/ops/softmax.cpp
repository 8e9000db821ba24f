// Softmax and log-softmax over the last dimension: forward, backward (adds into gradients),
// reference and autograd wrapper, in that order. Each kernel works row by row; a row is handled
// by one thread and runs on the row functions of lib/numerics (the library's float exp, which
// vectorises, and its fixed summation order in double), as cross-entropy does. See softmax.hpp for
// the formulas and for infinite inputs.
#include "ouro/ops/softmax.hpp"

#include "kernels.hpp"
#include "numerics/rows.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace ouro::ops {

namespace {

template <typename T> constexpr T minus_inf = -std::numeric_limits<T>::infinity();

// A row whose maximum is -inf: fully masked, unless the max skipped a NaN. Fills the row with
// `fill` (0 for softmax, -inf for log_softmax), or with NaN when the row holds a NaN.
template <typename T> void fill_masked_row(const T* x, T* y, std::int64_t C, T fill) {
    const bool masked = std::all_of(x, x + C, [](T v) { return v == minus_inf<T>; });
    std::fill_n(y, C, masked ? fill : std::numeric_limits<T>::quiet_NaN());
}

// ---- one row: the max, exps and sums of lib/numerics (float exps are exp_approx) ----

template <typename T> void softmax_row(const T* x, T* y, std::int64_t C) {
    const T m = numerics::row_max(x, C);
    if (m == minus_inf<T>) // fully masked: probability 0 everywhere, not 0 / 0
        return fill_masked_row(x, y, C, T(0));
    numerics::exp_row(x, C, m, y);
    const T inv = T(1.0 / numerics::sum_double(y, C));
    for (std::int64_t i = 0; i < C; ++i)
        y[i] *= inv;
}

template <typename T> void log_softmax_row(const T* x, T* y, std::int64_t C) {
    const T m = numerics::row_max(x, C);
    if (m == minus_inf<T>)
        return fill_masked_row(x, y, C, minus_inf<T>);
    const T log_sum = numerics::row_log_sum_exp(x, C, m);
    for (std::int64_t i = 0; i < C; ++i)
        y[i] = (x[i] - m) - log_sum;
}

template <typename T> void softmax_backward_row(const T* y, const T* dy, T* dx, std::int64_t C) {
    const T s = T(numerics::dot_double(dy, y, C));
    for (std::int64_t i = 0; i < C; ++i)
        dx[i] += y[i] * (dy[i] - s);
}

template <typename T>
void log_softmax_backward_row(const T* y, const T* dy, T* dx, std::int64_t C) {
    const T s = T(numerics::sum_double(dy, C));
    for (std::int64_t i = 0; i < C; ++i)
        dx[i] += dy[i] - numerics::exp_kernel(y[i]) * s;
}

// Runs row_fn(r) for every row, rows shared among threads when there is enough work. Rows of
// length 0 have nothing to compute (and no max to read).
template <typename F> void for_each_row(std::int64_t rows, std::int64_t C, F row_fn) {
    if (C == 0)
        return;
#pragma omp parallel for schedule(static) if (rows * C >= detail::parallel_threshold)
    for (std::int64_t r = 0; r < rows; ++r)
        row_fn(r);
}

} // namespace

// Shapes: x (rows, C), y (rows, C); rows = B * T (logits) or B * NH * T (attention).
template <typename T> void softmax_forward(const T* x, T* y, std::int64_t rows, std::int64_t C) {
    for_each_row(rows, C, [&](std::int64_t r) { softmax_row(x + r * C, y + r * C, C); });
}

// Shapes: y, dy, dx all (rows, C); dx is added into.
template <typename T>
void softmax_backward(const T* y, const T* dy, T* dx, std::int64_t rows, std::int64_t C) {
    // No exp here: the plain loops vectorise as they are.
    for_each_row(rows, C, [&](std::int64_t r) {
        softmax_backward_row(y + r * C, dy + r * C, dx + r * C, C);
    });
}

// Shapes: x (rows, C), y (rows, C).
template <typename T>
void log_softmax_forward(const T* x, T* y, std::int64_t rows, std::int64_t C) {
    for_each_row(rows, C, [&](std::int64_t r) { log_softmax_row(x + r * C, y + r * C, C); });
}

// Shapes: y, dy, dx all (rows, C); dx is added into.
template <typename T>
void log_softmax_backward(const T* y, const T* dy, T* dx, std::int64_t rows, std::int64_t C) {
    for_each_row(rows, C, [&](std::int64_t r) {
        log_softmax_backward_row(y + r * C, dy + r * C, dx + r * C, C);
    });
}

namespace {

// The reference's loop over rows: plain loops and the C library, nothing shared with the kernels.
// Calls finish(xr, yr, m, sum) for each row that is not fully masked, with m the row's max and
// sum = sum_i e^(x_i - m) accumulated left to right in double; a fully masked row gets `fill`.
template <typename T, typename Finish>
void reference_rows(const T* x, T* y, std::int64_t rows, std::int64_t C, T fill, Finish finish) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const T* xr = x + r * C;
        T* yr = y + r * C;
        T m = minus_inf<T>;
        for (std::int64_t i = 0; i < C; ++i)
            m = std::max(m, xr[i]);
        if (m == minus_inf<T>) {
            fill_masked_row(xr, yr, C, fill);
            continue;
        }
        double sum = 0.0;
        for (std::int64_t i = 0; i < C; ++i)
            sum += double(std::exp(xr[i] - m));
        finish(xr, yr, m, sum);
    }
}

} // namespace

template <typename T> void softmax_reference(const T* x, T* y, std::int64_t rows, std::int64_t C) {
    reference_rows(x, y, rows, C, T(0), [C](const T* xr, T* yr, T m, double sum) {
        for (std::int64_t i = 0; i < C; ++i)
            yr[i] = T(double(std::exp(xr[i] - m)) / sum);
    });
}

template <typename T>
void log_softmax_reference(const T* x, T* y, std::int64_t rows, std::int64_t C) {
    reference_rows(x, y, rows, C, minus_inf<T>, [C](const T* xr, T* yr, T m, double sum) {
        for (std::int64_t i = 0; i < C; ++i)
            yr[i] = (xr[i] - m) - T(std::log(sum));
    });
}

namespace {

template <typename T, typename Forward, typename Backward>
Var<T> row_op(const char* name, const Var<T>& x, Forward forward, Backward backward_kernel) {
    const Shape& shape = x.shape();
    if (shape.rank() == 0)
        throw ShapeError(std::string(name) + ": input must have at least one dimension, got " +
                         shape.to_string());
    const std::int64_t rows = shape.rows(), C = shape.back();
    Tensor<T> out(shape);
    forward(x.value().data(), out.data(), rows, C);
    return detail::make_result(
        name, std::move(out), {x}, [rows, C, backward_kernel](Node<T>& self) {
            if (T* dx = detail::input_grad(self, 0))
                backward_kernel(self.value.data(), self.grad.data(), dx, rows, C);
        });
}

} // namespace

template <typename T> Var<T> softmax(const Var<T>& x) {
    return row_op<T>("softmax", x, softmax_forward<T>, softmax_backward<T>);
}

template <typename T> Var<T> log_softmax(const Var<T>& x) {
    return row_op<T>("log_softmax", x, log_softmax_forward<T>, log_softmax_backward<T>);
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void softmax_forward<T>(const T*, T*, std::int64_t, std::int64_t);                    \
    template void softmax_backward<T>(const T*, const T*, T*, std::int64_t, std::int64_t);         \
    template void log_softmax_forward<T>(const T*, T*, std::int64_t, std::int64_t);                \
    template void log_softmax_backward<T>(const T*, const T*, T*, std::int64_t, std::int64_t);     \
    template void softmax_reference<T>(const T*, T*, std::int64_t, std::int64_t);                  \
    template void log_softmax_reference<T>(const T*, T*, std::int64_t, std::int64_t);              \
    template Var<T> softmax<T>(const Var<T>&);                                                     \
    template Var<T> log_softmax<T>(const Var<T>&);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
