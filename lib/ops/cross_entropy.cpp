// Fused softmax + cross-entropy: forward, backward (adds into gradients), reference and autograd
// wrappers, in that order. The maths is in cross_entropy.hpp; exp, max and sum over a row are in
// lib/numerics/rows.hpp (vectorised, and independent of the thread count because a row is one
// task).
#include "ouro/ops/cross_entropy.hpp"

#include "numerics/rows.hpp"

#include "ouro/core/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace ouro::ops {
namespace {

// Throws ConfigError for the first target outside [0, V) that is not ignore_index. Serial and
// before any parallel work, so the error names the first bad row.
void check_targets(const char* op, const std::int32_t* targets, std::int64_t N, std::int64_t V,
                   int ignore_index) {
    for (std::int64_t i = 0; i < N; ++i) {
        const std::int32_t y = targets[i];
        if (y != ignore_index && (y < 0 || y >= V))
            throw ConfigError(std::string(op) + ": target " + std::to_string(y) + " at row " +
                              std::to_string(i) + " is outside [0, " + std::to_string(V) + ")");
    }
}

void check_shapes(const char* op, const Shape& logits, const Shape& targets) {
    if (logits.rank() == 0)
        throw ShapeError(std::string(op) + ": logits must be (..., V), got " + logits.to_string());
    if (!(logits.prefix(-1) == targets))
        throw ShapeError(std::string(op) +
                         ": targets must be the leading shape of logits: logits are " +
                         logits.to_string() + ", targets are " + targets.to_string());
}

} // namespace

// Shapes: logits (N, V), targets (N), losses (N), lse (N).
template <typename T>
std::int64_t cross_entropy_forward(const T* logits, const std::int32_t* targets, T* losses, T* lse,
                                   std::int64_t N, std::int64_t V, int ignore_index) {
    check_targets("cross_entropy", targets, N, V, ignore_index);
    std::int64_t count = 0;
    for (std::int64_t i = 0; i < N; ++i)
        count += targets[i] != ignore_index;
#pragma omp parallel for schedule(static) if (N * V >= detail::parallel_threshold)
    for (std::int64_t i = 0; i < N; ++i) {
        if (targets[i] == ignore_index) {
            losses[i] = T(0);
            lse[i] = T(0);
            continue;
        }
        // lse = m + log sum exp(x - m), with m the row maximum so no exp overflows. The loss is
        // written as log_softmax writes -log p: bit for bit the negated log-probability.
        const T* x = logits + i * V;
        const T m = numerics::row_max(x, V);
        const T log_sum = numerics::row_log_sum_exp(x, V, m);
        lse[i] = m + log_sum;
        losses[i] = log_sum - (x[targets[i]] - m);
    }
    return count;
}

namespace {

// dlogits = (Add ? dlogits : 0) + the gradient. Writing (Add false) serves a gradient buffer that
// does not exist yet (the usual case: the logits' only consumer), so that the largest buffer of a
// step is not zero-filled first; fma(e, scale, 0) rounds as e * scale + 0 does, so the values are
// those of adding into zeros. Ignored rows are then written as zeros.
template <bool Add, typename T>
void cross_entropy_backward_into(const T* logits, const std::int32_t* targets, const T* lse,
                                 T scale, T* dlogits, std::int64_t N, std::int64_t V,
                                 int ignore_index) {
#pragma omp parallel for schedule(static) if (N * V >= detail::parallel_threshold)
    for (std::int64_t i = 0; i < N; ++i) {
        const std::int64_t y = targets[i];
        T* dx = dlogits + i * V;
        if (y == ignore_index) {
            if constexpr (!Add)
                std::fill(dx, dx + V, T(0));
            continue;
        }
        const T* x = logits + i * V;
        const T l = lse[i];
        const auto prior = [dx](std::int64_t j) { return Add ? dx[j] : T(0); };
        // softmax * scale around the target, (softmax - 1) * scale at it: split in three so
        // the loops have no branch and vectorise, with explicit fmas so that every element
        // rounds alike in a vector lane or in the scalar remainder.
        for (std::int64_t j = 0; j < y; ++j)
            dx[j] = std::fma(numerics::exp_kernel(x[j] - l), scale, prior(j));
        dx[y] = std::fma(numerics::exp_kernel(x[y] - l) - T(1), scale, prior(y));
        for (std::int64_t j = y + 1; j < V; ++j)
            dx[j] = std::fma(numerics::exp_kernel(x[j] - l), scale, prior(j));
    }
}

} // namespace

// Shapes: logits (N, V), targets (N), lse (N); dlogits (N, V) is added into.
template <typename T>
void cross_entropy_backward(const T* logits, const std::int32_t* targets, const T* lse, T scale,
                            T* dlogits, std::int64_t N, std::int64_t V, int ignore_index) {
    cross_entropy_backward_into<true>(logits, targets, lse, scale, dlogits, N, V, ignore_index);
}

template <typename T>
T cross_entropy_reference(const T* logits, const std::int32_t* targets, T* losses, std::int64_t N,
                          std::int64_t V, int ignore_index) {
    double total = 0.0;
    std::int64_t count = 0;
    for (std::int64_t i = 0; i < N; ++i) {
        losses[i] = T(0);
        if (targets[i] == ignore_index)
            continue;
        const T* x = logits + i * V;
        T m = x[0];
        for (std::int64_t j = 1; j < V; ++j)
            m = std::max(m, x[j]);
        T sum = 0;
        for (std::int64_t j = 0; j < V; ++j)
            sum += std::exp(x[j] - m);
        losses[i] = -(x[targets[i]] - m - std::log(sum));
        total += double(losses[i]);
        ++count;
    }
    return count == 0 ? T(0) : T(total / double(count));
}

template <typename T>
Var<T> cross_entropy(const Var<T>& logits, const TensorI& targets, int ignore_index) {
    check_shapes("cross_entropy", logits.shape(), targets.shape());
    const std::int64_t N = targets.numel(), V = logits.shape().back();
    Tensor<T> losses = Tensor<T>::uninitialized(Shape{N});
    Tensor<T> lse = Tensor<T>::uninitialized(Shape{N});
    const std::int64_t count = cross_entropy_forward(logits.value().data(), targets.data(),
                                                     losses.data(), lse.data(), N, V, ignore_index);
    // The mean in row order, in double: the same bits for any thread count.
    double total = 0.0;
    for (std::int64_t i = 0; i < N; ++i)
        total += double(losses[i]);
    const T loss = count == 0 ? T(0) : T(total / double(count));
    return detail::make_result(
        "cross_entropy", Tensor<T>(Shape{}, loss), {logits},
        [targets, saved_lse = std::move(lse), N, V, ignore_index, count](Node<T>& self) {
            const detail::GradTarget<T> dlogits = detail::input_grad_target(self, 0);
            if (dlogits.data == nullptr)
                return;
            if (count == 0) { // nothing counted: the gradient is 0
                if (dlogits.fresh)
                    detail::parallel_fill(dlogits.data, N * V, T(0));
                return;
            }
            const T scale = self.grad[0] / T(count);
            const T* x = self.inputs[0]->value.data();
            if (dlogits.fresh)
                cross_entropy_backward_into<false>(x, targets.data(), saved_lse.data(), scale,
                                                   dlogits.data, N, V, ignore_index);
            else
                cross_entropy_backward(x, targets.data(), saved_lse.data(), scale, dlogits.data, N,
                                       V, ignore_index);
        });
}

template <typename T>
Tensor<T> cross_entropy_per_row(const Tensor<T>& logits, const TensorI& targets, int ignore_index) {
    check_shapes("cross_entropy_per_row", logits.shape(), targets.shape());
    const std::int64_t N = targets.numel(), V = logits.shape().back();
    check_targets("cross_entropy_per_row", targets.data(), N, V, ignore_index);
    Tensor<T> losses(targets.shape());
    Tensor<T> lse(Shape{N});
    cross_entropy_forward(logits.data(), targets.data(), losses.data(), lse.data(), N, V,
                          ignore_index);
    return losses;
}

#define OURO_INSTANTIATE(T)                                                                        \
    template std::int64_t cross_entropy_forward<T>(const T*, const std::int32_t*, T*, T*,          \
                                                   std::int64_t, std::int64_t, int);               \
    template void cross_entropy_backward<T>(const T*, const std::int32_t*, const T*, T, T*,        \
                                            std::int64_t, std::int64_t, int);                      \
    template T cross_entropy_reference<T>(const T*, const std::int32_t*, T*, std::int64_t,         \
                                          std::int64_t, int);                                      \
    template Var<T> cross_entropy<T>(const Var<T>&, const TensorI&, int);                          \
    template Tensor<T> cross_entropy_per_row<T>(const Tensor<T>&, const TensorI&, int);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
