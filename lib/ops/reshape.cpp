// reshape: a flat copy under a new shape, and its backward, a flat add.
// Forward, backward (adds into gradients), reference and autograd wrapper, in that order.
#include "ouro/ops/reshape.hpp"

#include <algorithm>
#include <string>

namespace ouro::ops {
namespace {

// Copies are memory-bound: blocks of 64 KiB of floats keep each thread streaming, and below two
// blocks a parallel region costs more than it saves (decoding reshapes a single token's vector).
constexpr std::int64_t block = 16384;

} // namespace

// Shapes: x (n), out (n).
template <typename T> void reshape_forward(const T* x, std::int64_t n, T* out) {
    const std::int64_t blocks = (n + block - 1) / block;
#pragma omp parallel for schedule(static) if (blocks > 1)
    for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t i0 = b * block, i1 = std::min(n, i0 + block);
        std::copy(x + i0, x + i1, out + i0);
    }
}

// Shapes: dout (n), dx (n), added into.
template <typename T> void reshape_backward(const T* dout, std::int64_t n, T* dx) {
    const std::int64_t blocks = (n + block - 1) / block;
#pragma omp parallel for schedule(static) if (blocks > 1)
    for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t i1 = std::min(n, b * block + block);
        for (std::int64_t i = b * block; i < i1; ++i)
            dx[i] += dout[i];
    }
}

template <typename T> void reshape_reference(const T* x, std::int64_t n, T* out) {
    for (std::int64_t i = 0; i < n; ++i)
        out[i] = x[i];
}

template <typename T> Var<T> reshape(const Var<T>& x, const Shape& shape) {
    const std::int64_t n = x.numel();
    if (shape.numel() != n)
        throw ShapeError("reshape: cannot view " + x.shape().to_string() + " (" +
                         std::to_string(n) + " elements) as " + shape.to_string() + " (" +
                         std::to_string(shape.numel()) + " elements)");
    Tensor<T> out = Tensor<T>::uninitialized(shape);
    reshape_forward(x.value().data(), n, out.data());
    return detail::make_result("reshape", std::move(out), {x}, [](Node<T>& self) {
        detail::pass_own_grad(self, 0); // dx += dout, or dout handed over when dx is new
    });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void reshape_forward<T>(const T*, std::int64_t, T*);                                  \
    template void reshape_backward<T>(const T*, std::int64_t, T*);                                 \
    template void reshape_reference<T>(const T*, std::int64_t, T*);                                \
    template Var<T> reshape<T>(const Var<T>&, const Shape&);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
