// Reductions sum and mean, over everything or over one dimension: forward, backward (adds into
// gradients), reference and autograd wrapper, in that order. The summation orders are fixed (see
// reduce.hpp) so that no result depends on the thread count.
#include "ouro/ops/reduce.hpp"

#include "ouro/core/parallel.hpp"

#include "kernels.hpp"
#include "numerics/sum.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace ouro::ops {

const char* reduce_op_name(ReduceOp op) {
    return op == ReduceOp::mean ? "mean" : "sum";
}

namespace {

// Width of the column blocks when reducing an inner dimension.
constexpr std::int64_t column_block = 256;

// Sum of x[0..n) by fixed chunks of detail::reduction_chunk elements, added in chunk order.
template <typename T> double chunked_sum(const T* x, std::int64_t n) {
    const std::int64_t chunk = detail::reduction_chunk;
    double total = 0.0;
    for (std::int64_t begin = 0; begin < n; begin += chunk)
        total += numerics::sum_double(x + begin, std::min(chunk, n - begin));
    return total;
}

// chunked_sum with the chunks shared among threads; the chunk sums are still added in order, so
// the result is the same bits.
template <typename T> double parallel_chunked_sum(const T* x, std::int64_t n) {
    const std::int64_t chunk = detail::reduction_chunk;
    const std::int64_t chunks = (n + chunk - 1) / chunk;
    if (chunks <= 1)
        return chunked_sum(x, n);
    std::vector<double> partial(static_cast<std::size_t>(chunks));
#pragma omp parallel for schedule(static) if (n >= detail::parallel_threshold)
    for (std::int64_t c = 0; c < chunks; ++c)
        partial[std::size_t(c)] =
            numerics::sum_double(x + c * chunk, std::min(chunk, n - c * chunk));
    double total = 0.0;
    for (double p : partial)
        total += p;
    return total;
}

template <typename T> T finish(ReduceOp op, double total, std::int64_t n) {
    return op == ReduceOp::mean ? T(total / double(n)) : T(total);
}

} // namespace

// Shapes: x (n) -> a single value.
template <typename T> T reduce_all_forward(ReduceOp op, const T* x, std::int64_t n) {
    return finish<T>(op, parallel_chunked_sum(x, n), n);
}

// Shapes: dx (n); dout is the gradient of the single output.
template <typename T> void reduce_all_backward(ReduceOp op, T dout, T* dx, std::int64_t n) {
    const T g = op == ReduceOp::mean ? T(double(dout) / double(n)) : dout;
#pragma omp parallel for schedule(static) if (n >= detail::parallel_threshold)
    for (std::int64_t i = 0; i < n; ++i)
        dx[i] += g;
}

template <typename T> T reduce_all_reference(ReduceOp op, const T* x, std::int64_t n) {
    double total = 0.0;
    for (std::int64_t i = 0; i < n; ++i)
        total += double(x[i]);
    return finish<T>(op, total, n);
}

// Shapes: x (outer, d, inner), out (outer, inner).
template <typename T>
void reduce_dim_forward(ReduceOp op, const T* x, std::int64_t outer, std::int64_t d,
                        std::int64_t inner, T* out) {
    if (inner == 1) {
        // Rows of length d, each summed like a full reduction.
        if (outer == 1) {
            out[0] = finish<T>(op, parallel_chunked_sum(x, d), d);
            return;
        }
#pragma omp parallel for schedule(static) if (outer * d >= detail::parallel_threshold)
        for (std::int64_t o = 0; o < outer; ++o)
            out[o] = finish<T>(op, chunked_sum(x + o * d, d), d);
        return;
    }
    // Each output element sums over k in index order; threads own (row, column block) pairs.
    const std::int64_t blocks = (inner + column_block - 1) / column_block;
#pragma omp parallel for schedule(static) if (outer * d * inner >= detail::parallel_threshold)
    for (std::int64_t task = 0; task < outer * blocks; ++task) {
        const std::int64_t o = task / blocks;
        const std::int64_t j0 = (task % blocks) * column_block;
        const std::int64_t width = std::min(column_block, inner - j0);
        double acc[column_block] = {};
        for (std::int64_t k = 0; k < d; ++k) {
            const T* row = x + (o * d + k) * inner + j0;
            for (std::int64_t j = 0; j < width; ++j)
                acc[j] += double(row[j]);
        }
        for (std::int64_t j = 0; j < width; ++j)
            out[o * inner + j0 + j] = finish<T>(op, acc[j], d);
    }
}

// Shapes: dout (outer, inner), dx (outer, d, inner); dx is added into.
template <typename T>
void reduce_dim_backward(ReduceOp op, const T* dout, std::int64_t outer, std::int64_t d,
                         std::int64_t inner, T* dx) {
#pragma omp parallel for schedule(static) if (outer * d * inner >= detail::parallel_threshold)
    for (std::int64_t row = 0; row < outer * d; ++row) {
        const T* g = dout + (row / d) * inner;
        T* dst = dx + row * inner;
        if (op == ReduceOp::mean)
            for (std::int64_t j = 0; j < inner; ++j)
                dst[j] += g[j] / T(d);
        else
            for (std::int64_t j = 0; j < inner; ++j)
                dst[j] += g[j];
    }
}

template <typename T>
void reduce_dim_reference(ReduceOp op, const T* x, std::int64_t outer, std::int64_t d,
                          std::int64_t inner, T* out) {
    for (std::int64_t o = 0; o < outer; ++o)
        for (std::int64_t j = 0; j < inner; ++j) {
            double total = 0.0;
            for (std::int64_t k = 0; k < d; ++k)
                total += double(x[(o * d + k) * inner + j]);
            out[o * inner + j] = finish<T>(op, total, d);
        }
}

template <typename T> Var<T> reduce(ReduceOp op, const Var<T>& x) {
    const std::int64_t n = x.numel();
    Tensor<T> out{Shape{}};
    out[0] = reduce_all_forward(op, x.value().data(), n);
    return detail::make_result(reduce_op_name(op), std::move(out), {x}, [op, n](Node<T>& self) {
        if (T* dx = detail::input_grad(self, 0))
            reduce_all_backward(op, self.grad[0], dx, n);
    });
}

template <typename T> Var<T> reduce(ReduceOp op, const Var<T>& x, int dim) {
    const Shape& shape = x.shape();
    const int rank = shape.rank();
    if (dim < -rank || dim >= rank)
        throw ShapeError(std::string(reduce_op_name(op)) + ": dimension " + std::to_string(dim) +
                         " out of range for " + shape.to_string());
    const int axis = dim < 0 ? dim + rank : dim;
    std::int64_t outer = 1, inner = 1;
    std::vector<std::int64_t> kept;
    for (int i = 0; i < rank; ++i) {
        if (i < axis)
            outer *= shape[i];
        else if (i > axis)
            inner *= shape[i];
        if (i != axis)
            kept.push_back(shape[i]);
    }
    const std::int64_t d = shape[axis];
    Tensor<T> out{Shape(kept)};
    reduce_dim_forward(op, x.value().data(), outer, d, inner, out.data());
    return detail::make_result(
        reduce_op_name(op), std::move(out), {x}, [op, outer, d, inner](Node<T>& self) {
            if (T* dx = detail::input_grad(self, 0))
                reduce_dim_backward(op, self.grad.data(), outer, d, inner, dx);
        });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template T reduce_all_forward<T>(ReduceOp, const T*, std::int64_t);                            \
    template void reduce_all_backward<T>(ReduceOp, T, T*, std::int64_t);                           \
    template T reduce_all_reference<T>(ReduceOp, const T*, std::int64_t);                          \
    template void reduce_dim_forward<T>(ReduceOp, const T*, std::int64_t, std::int64_t,            \
                                        std::int64_t, T*);                                         \
    template void reduce_dim_backward<T>(ReduceOp, const T*, std::int64_t, std::int64_t,           \
                                         std::int64_t, T*);                                        \
    template void reduce_dim_reference<T>(ReduceOp, const T*, std::int64_t, std::int64_t,          \
                                          std::int64_t, T*);                                       \
    template Var<T> reduce<T>(ReduceOp, const Var<T>&);                                            \
    template Var<T> reduce<T>(ReduceOp, const Var<T>&, int);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
