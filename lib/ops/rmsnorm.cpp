// RMS normalisation over the last dimension: forward, backward (adds into gradients), reference
// and autograd wrapper, in that order. See rmsnorm.hpp for the formulas and for how the weight
// gradient is summed deterministically.
#include "ouro/ops/rmsnorm.hpp"

#include "kernels.hpp"
#include "numerics/sum.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace ouro::ops {

namespace {

// Most blocks of rows that rmsnorm_backward sums dweight over: a block holds ceil(N / 64) rows,
// so the split depends on N only (as in layernorm_backward).
constexpr std::int64_t max_row_blocks = 64;

// sum(dnorm * norm) of one row, dnorm = weight * dout, norm = x * r, in double and in the fixed
// order of numerics::ordered_sum.
template <typename T>
double dnorm_norm_sum(const T* dout, const T* x, const T* weight, T r, std::int64_t C) {
    return numerics::ordered_sum<double>(
        C, [=](std::int64_t i) { return double(weight[i] * dout[i]) * double(x[i] * r); });
}

// Scratch for the per-block partial sums of dweight, kept per calling thread and reused.
std::vector<double>& partial_buffer(std::size_t n) {
    thread_local std::vector<double> buffer;
    buffer.assign(n, 0.0);
    return buffer;
}

// One row of rmsnorm_forward: x, out (C); rstd receives the row's statistic. Not inlined, so
// that the parallel and the serial kernel run the same machine code.
template <typename T>
[[gnu::noinline]] void rmsnorm_row(const T* xr, const T* weight, T* yr, T& rstd, std::int64_t C,
                                   double eps) {
    const double mean_square = numerics::dot_double(xr, xr, C) / double(C);
    const T r = T(1.0 / std::sqrt(mean_square + eps));
    rstd = r;
    for (std::int64_t i = 0; i < C; ++i)
        yr[i] = xr[i] * r * weight[i];
}

} // namespace

// Shapes: x (N, C), weight (C), out (N, C), rstd (N); N = B * T.
template <typename T>
void rmsnorm_forward(const T* x, const T* weight, T* out, T* rstd, std::int64_t N, std::int64_t C,
                     double eps) {
#pragma omp parallel for schedule(static) if (N * C >= detail::parallel_threshold)
    for (std::int64_t row = 0; row < N; ++row)
        rmsnorm_row(x + row * C, weight, out + row * C, rstd[row], C, eps);
}

// Shapes: as rmsnorm_forward. The same rows, in order, on the calling thread.
template <typename T>
void rmsnorm_forward_serial(const T* x, const T* weight, T* out, T* rstd, std::int64_t N,
                            std::int64_t C, double eps) {
    for (std::int64_t row = 0; row < N; ++row)
        rmsnorm_row(x + row * C, weight, out + row * C, rstd[row], C, eps);
}

// Shapes: dout, x, dx (N, C); weight, dweight (C); rstd (N). Adds into dx and dweight (each may
// be nullptr).
template <typename T>
void rmsnorm_backward(const T* dout, const T* x, const T* weight, const T* rstd,
                      std::type_identity_t<T>* dx, std::type_identity_t<T>* dweight, std::int64_t N,
                      std::int64_t C) {
    if (N == 0 || C == 0 || (!dx && !dweight))
        return;
    const std::int64_t block_rows = (N + max_row_blocks - 1) / max_row_blocks;
    const std::int64_t blocks = (N + block_rows - 1) / block_rows;
    // partial[blk * C + c] sums dout * norm over the rows of block blk.
    std::vector<double>& partial = partial_buffer(dweight ? std::size_t(blocks * C) : 0);
    double* const partial_data = partial.data();

#pragma omp parallel for schedule(static) if (N * C >= detail::parallel_threshold)
    for (std::int64_t blk = 0; blk < blocks; ++blk) {
        double* pdw = dweight ? partial_data + blk * C : nullptr;
        const std::int64_t row_end = std::min(N, (blk + 1) * block_rows);
        for (std::int64_t row = blk * block_rows; row < row_end; ++row) {
            const T* g = dout + row * C;
            const T* xr = x + row * C;
            const T r = rstd[row];
            if (dx) {
                const T mean_dnorm_norm = T(dnorm_norm_sum(g, xr, weight, r, C) / double(C));
                T* dxr = dx + row * C;
                for (std::int64_t i = 0; i < C; ++i)
                    dxr[i] += r * (weight[i] * g[i] - xr[i] * r * mean_dnorm_norm);
            }
            if (pdw)
                for (std::int64_t i = 0; i < C; ++i)
                    pdw[i] += double(g[i]) * double(xr[i] * r);
        }
    }
    if (!dweight)
        return;
        // Blocks in block order, each channel by one thread.
#pragma omp parallel for schedule(static) if (blocks * C >= detail::parallel_threshold)
    for (std::int64_t c = 0; c < C; ++c) {
        double sw = 0.0;
        for (std::int64_t blk = 0; blk < blocks; ++blk)
            sw += partial_data[blk * C + c];
        dweight[c] += T(sw);
    }
}

template <typename T>
void rmsnorm_reference(const T* x, const T* weight, T* out, T* rstd, std::int64_t N, std::int64_t C,
                       double eps) {
    for (std::int64_t row = 0; row < N; ++row) {
        const T* xr = x + row * C;
        double ss = 0.0;
        for (std::int64_t i = 0; i < C; ++i)
            ss += double(xr[i]) * double(xr[i]);
        const double r = 1.0 / std::sqrt(ss / double(C) + eps);
        rstd[row] = T(r);
        for (std::int64_t i = 0; i < C; ++i)
            out[row * C + i] = T(double(xr[i]) * r * double(weight[i]));
    }
}

template <typename T> Var<T> rmsnorm(const Var<T>& x, const Var<T>& weight, double eps) {
    const Shape& shape = x.shape();
    if (shape.rank() == 0)
        throw ShapeError("rmsnorm: input must have at least one dimension, got " +
                         shape.to_string());
    if (!weight.defined())
        throw ConfigError("rmsnorm: weight is undefined");
    if (!std::isfinite(eps) || !(eps > 0)) {
        std::ostringstream msg;
        msg << "rmsnorm: eps must be finite and > 0, got " << eps;
        throw ConfigError(msg.str());
    }
    const std::int64_t N = shape.rows(), C = shape.back();
    const Shape expected{C};
    if (!(weight.shape() == expected))
        throw ShapeError("rmsnorm: weight must be (C) = " + expected.to_string() + ", got " +
                         weight.shape().to_string());

    Tensor<T> out(shape), rstd(Shape{N});
    rmsnorm_forward(x.value().data(), weight.value().data(), out.data(), rstd.data(), N, C, eps);
    return detail::make_result(
        "rmsnorm", std::move(out), {x, weight}, [N, C, rstd = std::move(rstd)](Node<T>& self) {
            rmsnorm_backward(self.grad.data(), self.inputs[0]->value.data(),
                             self.inputs[1]->value.data(), rstd.data(), detail::input_grad(self, 0),
                             detail::input_grad(self, 1), N, C);
        });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void rmsnorm_forward<T>(const T*, const T*, T*, T*, std::int64_t, std::int64_t,       \
                                     double);                                                      \
    template void rmsnorm_forward_serial<T>(const T*, const T*, T*, T*, std::int64_t,              \
                                            std::int64_t, double);                                 \
    template void rmsnorm_backward<T>(const T*, const T*, const T*, const T*, T*, T*,              \
                                      std::int64_t, std::int64_t);                                 \
    template void rmsnorm_reference<T>(const T*, const T*, T*, T*, std::int64_t, std::int64_t,     \
                                       double);                                                    \
    template Var<T> rmsnorm<T>(const Var<T>&, const Var<T>&, double);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
