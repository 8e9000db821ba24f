// Elementwise unary ops exp, log, tanh: forward, backward (adds into gradients), reference and
// autograd wrapper, in that order. Float exp and tanh run on the vectorised exp8 / tanh8 of
// lib/numerics/exp.hpp; everything else calls the C library.
#include "ouro/ops/unary.hpp"

#include "kernels.hpp"
#include "numerics/exp.hpp"

#include <cmath>
#include <type_traits>

namespace ouro::ops {

const char* unary_op_name(UnaryOp op) {
    switch (op) {
    case UnaryOp::exp:
        return "exp";
    case UnaryOp::log:
        return "log";
    case UnaryOp::tanh:
        return "tanh";
    }
    return "unary";
}

namespace {

template <typename T> inline T apply(UnaryOp op, T x) {
    switch (op) {
    case UnaryOp::exp:
        return std::exp(x);
    case UnaryOp::log:
        return std::log(x);
    case UnaryOp::tanh:
        return std::tanh(x);
    }
    return x;
}

// One block of unary_forward; the block boundaries are fixed by detail::parallel_blocks.
template <typename T> void forward_block(UnaryOp op, const T* x, T* out, std::int64_t n) {
#if OURO_HAVE_AVX2
    if constexpr (std::is_same_v<T, float>) {
        if (op == UnaryOp::exp)
            return numerics::map8(x, out, n, [](__m256 v) { return numerics::exp8(v); });
        if (op == UnaryOp::tanh)
            return numerics::map8(x, out, n, [](__m256 v) { return numerics::tanh8(v); });
    }
#endif
    for (std::int64_t i = 0; i < n; ++i)
        out[i] = apply(op, x[i]);
}

} // namespace

// Shapes: x (n), out (n).
template <typename T> void unary_forward(UnaryOp op, const T* x, T* out, std::int64_t n) {
    detail::parallel_blocks(
        n, [&](std::int64_t i0, std::int64_t len) { forward_block(op, x + i0, out + i0, len); });
}

// Shapes: x, out, dout, dx all (n); dx is added into.
template <typename T>
void unary_backward(UnaryOp op, const T* x, const T* out, const T* dout, T* dx, std::int64_t n) {
    detail::parallel_blocks(n, [&](std::int64_t i0, std::int64_t len) {
        const std::int64_t i1 = i0 + len;
        switch (op) {
        case UnaryOp::exp:
            for (std::int64_t i = i0; i < i1; ++i)
                dx[i] += dout[i] * out[i];
            break;
        case UnaryOp::log:
            for (std::int64_t i = i0; i < i1; ++i)
                dx[i] += dout[i] / x[i];
            break;
        case UnaryOp::tanh:
            for (std::int64_t i = i0; i < i1; ++i)
                dx[i] += dout[i] * (T(1) - out[i] * out[i]);
            break;
        }
    });
}

template <typename T> void unary_reference(UnaryOp op, const T* x, T* out, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i)
        out[i] = apply(op, x[i]);
}

template <typename T> Var<T> unary(UnaryOp op, const Var<T>& x) {
    Tensor<T> out(x.shape());
    const std::int64_t n = out.numel();
    unary_forward(op, x.value().data(), out.data(), n);
    return detail::make_result(unary_op_name(op), std::move(out), {x}, [op, n](Node<T>& self) {
        if (T* dx = detail::input_grad(self, 0))
            unary_backward(op, self.inputs[0]->value.data(), self.value.data(), self.grad.data(),
                           dx, n);
    });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void unary_forward<T>(UnaryOp, const T*, T*, std::int64_t);                           \
    template void unary_backward<T>(UnaryOp, const T*, const T*, const T*, T*, std::int64_t);      \
    template void unary_reference<T>(UnaryOp, const T*, T*, std::int64_t);                         \
    template Var<T> unary<T>(UnaryOp, const Var<T>&);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
