// Embedding lookup: forward, backward (adds into the table's gradient), reference and autograd
// wrapper, in that order.
#include "ouro/ops/embedding.hpp"

#include "ouro/core/parallel.hpp"

#include <algorithm>
#include <string>

namespace ouro::ops {
namespace {

// Channels per block of the backward pass: 16 floats are one cache line, so two threads never
// write the same line of a 64-byte aligned table whose width is a multiple of 16.
constexpr std::int64_t channel_block = 16;

} // namespace

// Shapes: ids (N), table (V, C), out (N, C).
template <typename T>
void embedding_forward(const std::int32_t* ids, const T* table, T* out, std::int64_t N,
                       std::int64_t V, std::int64_t C) {
    for (std::int64_t i = 0; i < N; ++i)
        if (ids[i] < 0 || ids[i] >= V)
            throw ConfigError("embedding: id " + std::to_string(ids[i]) + " at position " +
                              std::to_string(i) + " is outside [0, " + std::to_string(V) + ")");
#pragma omp parallel for schedule(static) if (N * C >= detail::parallel_threshold)
    for (std::int64_t i = 0; i < N; ++i)
        std::copy_n(table + std::int64_t(ids[i]) * C, C, out + i * C);
}

// Shapes: ids (N), dout (N, C); dtable (V, C) is added into.
template <typename T>
void embedding_backward(const std::int32_t* ids, const T* dout, T* dtable, std::int64_t N,
                        std::int64_t C) {
    // A thread owns whole channel blocks and walks every position in order, so each table entry
    // sums its contributions in position order.
    const std::int64_t blocks = (C + channel_block - 1) / channel_block;
#pragma omp parallel for schedule(static) if (blocks > 1 && N * C >= detail::parallel_threshold)
    for (std::int64_t blk = 0; blk < blocks; ++blk) {
        const std::int64_t c0 = blk * channel_block, c1 = std::min(C, c0 + channel_block);
        for (std::int64_t i = 0; i < N; ++i) {
            T* dst = dtable + std::int64_t(ids[i]) * C;
            const T* src = dout + i * C;
            for (std::int64_t c = c0; c < c1; ++c)
                dst[c] += src[c];
        }
    }
}

template <typename T>
void embedding_reference(const std::int32_t* ids, const T* table, T* out, std::int64_t N,
                         std::int64_t C) {
    for (std::int64_t i = 0; i < N; ++i)
        for (std::int64_t c = 0; c < C; ++c)
            out[i * C + c] = table[std::int64_t(ids[i]) * C + c];
}

template <typename T> Var<T> embedding(const TensorI& ids, const Var<T>& table) {
    if (table.shape().rank() != 2)
        throw ShapeError("embedding: table must be (V, C), got " + table.shape().to_string());
    const std::int64_t N = ids.numel(), V = table.shape()[0], C = table.shape()[1];
    Tensor<T> out = Tensor<T>::uninitialized(ids.shape().appended(C));
    embedding_forward(ids.data(), table.value().data(), out.data(), N, V, C);
    return detail::make_result("embedding", std::move(out), {table}, [ids, N, C](Node<T>& self) {
        embedding_backward(ids.data(), self.grad.data(), detail::input_grad(self, 0), N, C);
    });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void embedding_forward<T>(const std::int32_t*, const T*, T*, std::int64_t,            \
                                       std::int64_t, std::int64_t);                                \
    template void embedding_backward<T>(const std::int32_t*, const T*, T*, std::int64_t,           \
                                        std::int64_t);                                             \
    template void embedding_reference<T>(const std::int32_t*, const T*, T*, std::int64_t,          \
                                         std::int64_t);                                            \
    template Var<T> embedding<T>(const TensorI&, const Var<T>&);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
