// Layer normalisation over the last dimension: forward, backward (adds into gradients), reference
// and autograd wrapper, in that order. See layernorm.hpp for the formulas and for how the weight
// and bias gradients are summed deterministically.
#include "ouro/ops/layernorm.hpp"

#include "kernels.hpp"
#include "numerics/sum.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace ouro::ops {

namespace {

// Most blocks of rows that layernorm_backward sums dweight and dbias over. A block holds
// ceil(N / 64) rows: the split depends on N only, and 64 blocks keep any realistic number of
// threads busy while bounding the scratch memory to 2 * 64 * C doubles.
constexpr std::int64_t max_row_blocks = 64;

// sum((x - mean)^2) in double, in the fixed order of numerics::ordered_sum.
template <typename T> double squared_deviation_sum(const T* x, double mean, std::int64_t C) {
    return numerics::ordered_sum<double>(C, [=](std::int64_t i) {
        const double d = double(x[i]) - mean;
        return d * d;
    });
}

// Row sums of backward: sum(dnorm) and sum(dnorm * norm), dnorm = weight * dout,
// norm = (x - m) * r, in double and in the fixed order of numerics::ordered_sum.
template <typename T>
void dnorm_sums(const T* dout, const T* x, const T* weight, T m, T r, std::int64_t C,
                double& sum_dnorm, double& sum_dnorm_norm) {
    sum_dnorm = numerics::ordered_sum<double>(
        C, [=](std::int64_t i) { return double(weight[i] * dout[i]); });
    sum_dnorm_norm = numerics::ordered_sum<double>(C, [=](std::int64_t i) {
        const T norm = (x[i] - m) * r;
        return double(weight[i] * dout[i]) * double(norm);
    });
}

// Scratch for the per-block partial sums of dweight and dbias. Kept per calling thread and
// reused, so a training step does not allocate it again.
std::vector<double>& partial_buffer(std::size_t n) {
    thread_local std::vector<double> buffer;
    buffer.assign(n, 0.0);
    return buffer;
}

// One row of layernorm_forward: x, out (C); mean and rstd receive the row's statistics. Not
// inlined, so that the parallel and the serial kernel run the same machine code (the compiler may
// contract the last line into fused multiply-adds differently in different contexts).
template <typename T>
[[gnu::noinline]] void layernorm_row(const T* xr, const T* weight, const T* bias, T* yr, T& mean,
                                     T& rstd, std::int64_t C, double eps) {
    // Two passes (mean, then squared deviations): no cancellation when |mean| >> std.
    const double mu = numerics::sum_double(xr, C) / double(C);
    const double var = squared_deviation_sum(xr, mu, C) / double(C);
    const T m = T(mu), r = T(1.0 / std::sqrt(var + eps));
    mean = m;
    rstd = r;
    if (bias)
        for (std::int64_t i = 0; i < C; ++i)
            yr[i] = (xr[i] - m) * r * weight[i] + bias[i];
    else
        for (std::int64_t i = 0; i < C; ++i)
            yr[i] = (xr[i] - m) * r * weight[i];
}

} // namespace

// Shapes: x (N, C), weight (C), bias (C) or nullptr, out (N, C), mean (N), rstd (N); N = B * T.
template <typename T>
void layernorm_forward(const T* x, const T* weight, std::type_identity_t<const T>* bias, T* out,
                       T* mean, T* rstd, std::int64_t N, std::int64_t C, double eps) {
#pragma omp parallel for schedule(static) if (N * C >= detail::parallel_threshold)
    for (std::int64_t row = 0; row < N; ++row)
        layernorm_row(x + row * C, weight, bias, out + row * C, mean[row], rstd[row], C, eps);
}

// Shapes: as layernorm_forward. The same rows, in order, on the calling thread.
template <typename T>
void layernorm_forward_serial(const T* x, const T* weight, std::type_identity_t<const T>* bias,
                              T* out, T* mean, T* rstd, std::int64_t N, std::int64_t C,
                              double eps) {
    for (std::int64_t row = 0; row < N; ++row)
        layernorm_row(x + row * C, weight, bias, out + row * C, mean[row], rstd[row], C, eps);
}

// Shapes: dout, x, dx (N, C); weight, dweight, dbias (C); mean, rstd (N). Adds into dx, dweight
// and dbias (each may be nullptr).
template <typename T>
void layernorm_backward(const T* dout, const T* x, const T* weight, const T* mean, const T* rstd,
                        std::type_identity_t<T>* dx, std::type_identity_t<T>* dweight,
                        std::type_identity_t<T>* dbias, std::int64_t N, std::int64_t C) {
    if (N == 0 || C == 0)
        return;
    const bool params = dweight != nullptr || dbias != nullptr;
    const std::int64_t block_rows = (N + max_row_blocks - 1) / max_row_blocks;
    const std::int64_t blocks = (N + block_rows - 1) / block_rows;
    // partial[(2 * blk) * C + c] sums dout * norm over block blk, partial[(2 * blk + 1) * C + c]
    // sums dout.
    std::vector<double>& partial = partial_buffer(params ? std::size_t(2 * blocks * C) : 0);
    double* const partial_data = partial.data();

#pragma omp parallel for schedule(static) if (N * C >= detail::parallel_threshold)
    for (std::int64_t blk = 0; blk < blocks; ++blk) {
        double* pdw = params ? partial_data + 2 * blk * C : nullptr;
        double* pdb = params ? pdw + C : nullptr;
        const std::int64_t row_end = std::min(N, (blk + 1) * block_rows);
        for (std::int64_t row = blk * block_rows; row < row_end; ++row) {
            const T* g = dout + row * C;
            const T* xr = x + row * C;
            const T m = mean[row], r = rstd[row];
            if (dx) {
                double sum_dnorm = 0.0, sum_dnorm_norm = 0.0;
                dnorm_sums(g, xr, weight, m, r, C, sum_dnorm, sum_dnorm_norm);
                const T mean_dnorm = T(sum_dnorm / double(C));
                const T mean_dnorm_norm = T(sum_dnorm_norm / double(C));
                T* dxr = dx + row * C;
                for (std::int64_t i = 0; i < C; ++i) {
                    const T norm = (xr[i] - m) * r;
                    dxr[i] += r * (weight[i] * g[i] - mean_dnorm - norm * mean_dnorm_norm);
                }
            }
            if (params)
                for (std::int64_t i = 0; i < C; ++i) {
                    const T norm = (xr[i] - m) * r;
                    pdw[i] += double(g[i]) * double(norm);
                    pdb[i] += double(g[i]);
                }
        }
    }
    if (!params)
        return;
        // Blocks in block order, each channel by one thread.
#pragma omp parallel for schedule(static) if (blocks * C >= detail::parallel_threshold)
    for (std::int64_t c = 0; c < C; ++c) {
        double sw = 0.0, sb = 0.0;
        for (std::int64_t blk = 0; blk < blocks; ++blk) {
            sw += partial_data[2 * blk * C + c];
            sb += partial_data[(2 * blk + 1) * C + c];
        }
        if (dweight)
            dweight[c] += T(sw);
        if (dbias)
            dbias[c] += T(sb);
    }
}

template <typename T>
void layernorm_reference(const T* x, const T* weight, std::type_identity_t<const T>* bias, T* out,
                         T* mean, T* rstd, std::int64_t N, std::int64_t C, double eps) {
    for (std::int64_t row = 0; row < N; ++row) {
        const T* xr = x + row * C;
        double mu = 0.0;
        for (std::int64_t i = 0; i < C; ++i)
            mu += double(xr[i]);
        mu /= double(C);
        double var = 0.0;
        for (std::int64_t i = 0; i < C; ++i)
            var += (double(xr[i]) - mu) * (double(xr[i]) - mu);
        var /= double(C);
        const double r = 1.0 / std::sqrt(var + eps);
        mean[row] = T(mu);
        rstd[row] = T(r);
        for (std::int64_t i = 0; i < C; ++i)
            out[row * C + i] =
                T((double(xr[i]) - mu) * r * double(weight[i]) + (bias ? double(bias[i]) : 0.0));
    }
}

template <typename T>
Var<T> layernorm(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, double eps) {
    const Shape& shape = x.shape();
    if (shape.rank() == 0)
        throw ShapeError("layernorm: input must have at least one dimension, got " +
                         shape.to_string());
    if (!weight.defined())
        throw ConfigError("layernorm: weight is undefined (only the bias may be omitted)");
    if (!std::isfinite(eps) || eps < 0) {
        std::ostringstream msg;
        msg << "layernorm: eps must be finite and >= 0, got " << eps;
        throw ConfigError(msg.str());
    }
    const std::int64_t N = shape.rows(), C = shape.back();
    const Shape expected{C};
    if (!(weight.shape() == expected))
        throw ShapeError("layernorm: weight must be (C) = " + expected.to_string() + ", got " +
                         weight.shape().to_string());
    const bool has_bias = bias.defined();
    if (has_bias && !(bias.shape() == expected))
        throw ShapeError("layernorm: bias must be (C) = " + expected.to_string() + ", got " +
                         bias.shape().to_string());

    Tensor<T> out = Tensor<T>::uninitialized(shape);
    Tensor<T> mean = Tensor<T>::uninitialized(Shape{N}), rstd = Tensor<T>::uninitialized(Shape{N});
    layernorm_forward(x.value().data(), weight.value().data(),
                      has_bias ? bias.value().data() : nullptr, out.data(), mean.data(),
                      rstd.data(), N, C, eps);
    auto backward_fn = [N, C, has_bias, mean = std::move(mean),
                        rstd = std::move(rstd)](Node<T>& self) {
        layernorm_backward(self.grad.data(), self.inputs[0]->value.data(),
                           self.inputs[1]->value.data(), mean.data(), rstd.data(),
                           detail::input_grad(self, 0), detail::input_grad(self, 1),
                           has_bias ? detail::input_grad(self, 2) : nullptr, N, C);
    };
    if (has_bias)
        return detail::make_result("layernorm", std::move(out), {x, weight, bias},
                                   std::move(backward_fn));
    return detail::make_result("layernorm", std::move(out), {x, weight}, std::move(backward_fn));
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void layernorm_forward<T>(const T*, const T*, const T*, T*, T*, T*, std::int64_t,     \
                                       std::int64_t, double);                                      \
    template void layernorm_forward_serial<T>(const T*, const T*, const T*, T*, T*, T*,            \
                                              std::int64_t, std::int64_t, double);                 \
    template void layernorm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*,  \
                                        T*, std::int64_t, std::int64_t);                           \
    template void layernorm_reference<T>(const T*, const T*, const T*, T*, T*, T*, std::int64_t,   \
                                         std::int64_t, double);                                    \
    template Var<T> layernorm<T>(const Var<T>&, const Var<T>&, const Var<T>&, double);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
