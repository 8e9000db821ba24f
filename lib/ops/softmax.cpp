// Softmax and log-softmax over the last dimension: forward, backward (adds into gradients),
// reference and autograd wrapper, in that order. Each kernel works row by row; a row is handled
// by one thread, with float rows vectorised eight lanes at a time (exp8 from kernels.hpp) and
// their sums accumulated in double. See softmax.hpp for the formulas and for infinite inputs.
#include "ouro/ops/softmax.hpp"

#include "kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

namespace ouro::ops {

namespace {

template <typename T> constexpr T minus_inf = -std::numeric_limits<T>::infinity();

// A row whose maximum is -inf: fully masked, unless the max skipped a NaN. Fills the row with
// `fill` (0 for softmax, -inf for log_softmax), or with NaN when the row holds a NaN.
template <typename T> void fill_masked_row(const T* x, T* y, std::int64_t C, T fill) {
    const bool masked = std::all_of(x, x + C, [](T v) { return v == minus_inf<T>; });
    std::fill_n(y, C, masked ? fill : std::numeric_limits<T>::quiet_NaN());
}

// ---- one row, any T (double, and float without AVX2) ----

template <typename T> T row_max(const T* x, std::int64_t C) {
    T m = minus_inf<T>;
    for (std::int64_t i = 0; i < C; ++i)
        m = std::max(m, x[i]);
    return m;
}

template <typename T> void softmax_row(const T* x, T* y, std::int64_t C) {
    const T m = row_max(x, C);
    if (m == minus_inf<T>) // fully masked: probability 0 everywhere, not 0 / 0
        return fill_masked_row(x, y, C, T(0));
    for (std::int64_t i = 0; i < C; ++i)
        y[i] = std::exp(x[i] - m);
    const T inv = T(1.0 / detail::sum_double(y, C));
    for (std::int64_t i = 0; i < C; ++i)
        y[i] *= inv;
}

template <typename T> void log_softmax_row(const T* x, T* y, std::int64_t C) {
    const T m = row_max(x, C);
    if (m == minus_inf<T>)
        return fill_masked_row(x, y, C, minus_inf<T>);
    for (std::int64_t i = 0; i < C; ++i)
        y[i] = std::exp(x[i] - m);
    const T log_sum = T(std::log(detail::sum_double(y, C)));
    for (std::int64_t i = 0; i < C; ++i)
        y[i] = (x[i] - m) - log_sum;
}

template <typename T> void softmax_backward_row(const T* y, const T* dy, T* dx, std::int64_t C) {
    const T s = T(detail::dot_double(dy, y, C));
    for (std::int64_t i = 0; i < C; ++i)
        dx[i] += y[i] * (dy[i] - s);
}

template <typename T>
void log_softmax_backward_row(const T* y, const T* dy, T* dx, std::int64_t C) {
    const T s = T(detail::sum_double(dy, C));
    for (std::int64_t i = 0; i < C; ++i)
        dx[i] += dy[i] - std::exp(y[i]) * s;
}

#if OURO_HAVE_AVX2
// ---- one row of floats, eight lanes at a time; tails use masked loads and stores ----

float row_max8(const float* x, std::int64_t C) {
    const __m256 lowest = _mm256_set1_ps(minus_inf<float>);
    __m256 m = lowest;
    std::int64_t i = 0;
    for (; i + 8 <= C; i += 8)
        m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    if (i < C) {
        const __m256i mask = detail::tail_mask(C - i);
        m = _mm256_max_ps(m, _mm256_blendv_ps(lowest, _mm256_maskload_ps(x + i, mask),
                                              _mm256_castsi256_ps(mask)));
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, m);
    return *std::max_element(lanes, lanes + 8);
}

// Stores e^(x - m) into y when `store`, and returns its sum in double.
double exp_sum8(const float* x, float m, float* y, std::int64_t C, bool store) {
    const __m256 mv = _mm256_set1_ps(m);
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    std::int64_t i = 0;
    for (; i + 8 <= C; i += 8) {
        const __m256 e = detail::exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
        if (store)
            _mm256_storeu_ps(y + i, e);
        detail::accumulate(e, lo, hi);
    }
    if (i < C) {
        const __m256i mask = detail::tail_mask(C - i);
        const __m256 e =
            _mm256_and_ps(detail::exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, mask), mv)),
                          _mm256_castsi256_ps(mask));
        if (store)
            _mm256_maskstore_ps(y + i, mask, e);
        detail::accumulate(e, lo, hi);
    }
    return detail::hsum(_mm256_add_pd(lo, hi));
}

void softmax_row8(const float* x, float* y, std::int64_t C) {
    const float m = row_max8(x, C);
    if (m == minus_inf<float>)
        return fill_masked_row(x, y, C, 0.0f);
    const float inv = float(1.0 / exp_sum8(x, m, y, C, true));
    for (std::int64_t i = 0; i < C; ++i)
        y[i] *= inv;
}

void log_softmax_row8(const float* x, float* y, std::int64_t C) {
    const float m = row_max8(x, C);
    if (m == minus_inf<float>)
        return fill_masked_row(x, y, C, minus_inf<float>);
    const float log_sum = float(std::log(exp_sum8(x, m, nullptr, C, false)));
    for (std::int64_t i = 0; i < C; ++i)
        y[i] = (x[i] - m) - log_sum;
}

void log_softmax_backward_row8(const float* y, const float* dy, float* dx, std::int64_t C) {
    const __m256 s = _mm256_set1_ps(float(detail::sum_double(dy, C)));
    std::int64_t i = 0;
    for (; i + 8 <= C; i += 8) {
        const __m256 p = detail::exp8(_mm256_loadu_ps(y + i));
        const __m256 g = _mm256_fnmadd_ps(p, s, _mm256_loadu_ps(dy + i));
        _mm256_storeu_ps(dx + i, _mm256_add_ps(_mm256_loadu_ps(dx + i), g));
    }
    if (i < C) {
        const __m256i mask = detail::tail_mask(C - i);
        const __m256 p = detail::exp8(_mm256_maskload_ps(y + i, mask));
        const __m256 g = _mm256_fnmadd_ps(p, s, _mm256_maskload_ps(dy + i, mask));
        _mm256_maskstore_ps(dx + i, mask, _mm256_add_ps(_mm256_maskload_ps(dx + i, mask), g));
    }
}
#endif

// Runs row_fn(r) for every row, rows shared among threads when there is enough work.
template <typename F> void for_each_row(std::int64_t rows, std::int64_t C, F row_fn) {
#pragma omp parallel for schedule(static) if (rows * C >= detail::parallel_threshold)
    for (std::int64_t r = 0; r < rows; ++r)
        row_fn(r);
}

} // namespace

// Shapes: x (rows, C), y (rows, C); rows = B * T (logits) or B * NH * T (attention).
template <typename T> void softmax_forward(const T* x, T* y, std::int64_t rows, std::int64_t C) {
    for_each_row(rows, C, [&](std::int64_t r) {
#if OURO_HAVE_AVX2
        if constexpr (std::is_same_v<T, float>) {
            softmax_row8(x + r * C, y + r * C, C);
            return;
        }
#endif
        softmax_row(x + r * C, y + r * C, C);
    });
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
    for_each_row(rows, C, [&](std::int64_t r) {
#if OURO_HAVE_AVX2
        if constexpr (std::is_same_v<T, float>) {
            log_softmax_row8(x + r * C, y + r * C, C);
            return;
        }
#endif
        log_softmax_row(x + r * C, y + r * C, C);
    });
}

// Shapes: y, dy, dx all (rows, C); dx is added into.
template <typename T>
void log_softmax_backward(const T* y, const T* dy, T* dx, std::int64_t rows, std::int64_t C) {
    for_each_row(rows, C, [&](std::int64_t r) {
#if OURO_HAVE_AVX2
        if constexpr (std::is_same_v<T, float>) {
            log_softmax_backward_row8(y + r * C, dy + r * C, dx + r * C, C);
            return;
        }
#endif
        log_softmax_backward_row(y + r * C, dy + r * C, dx + r * C, C);
    });
}

template <typename T> void softmax_reference(const T* x, T* y, std::int64_t rows, std::int64_t C) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const T* xr = x + r * C;
        T* yr = y + r * C;
        T m = minus_inf<T>;
        for (std::int64_t i = 0; i < C; ++i)
            m = std::max(m, xr[i]);
        if (m == minus_inf<T>) {
            fill_masked_row(xr, yr, C, T(0));
            continue;
        }
        double sum = 0.0;
        for (std::int64_t i = 0; i < C; ++i)
            sum += double(std::exp(xr[i] - m));
        for (std::int64_t i = 0; i < C; ++i)
            yr[i] = T(double(std::exp(xr[i] - m)) / sum);
    }
}

template <typename T>
void log_softmax_reference(const T* x, T* y, std::int64_t rows, std::int64_t C) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const T* xr = x + r * C;
        T* yr = y + r * C;
        T m = minus_inf<T>;
        for (std::int64_t i = 0; i < C; ++i)
            m = std::max(m, xr[i]);
        if (m == minus_inf<T>) {
            fill_masked_row(xr, yr, C, minus_inf<T>);
            continue;
        }
        double sum = 0.0;
        for (std::int64_t i = 0; i < C; ++i)
            sum += double(std::exp(xr[i] - m));
        for (std::int64_t i = 0; i < C; ++i)
            yr[i] = (xr[i] - m) - T(std::log(sum));
    }
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
