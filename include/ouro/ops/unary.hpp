// Elementwise unary ops: exp, log, tanh. The output has the input's shape; any shape is accepted,
// including scalars () and empty tensors.
//
// Precision. For double the kernels call std::exp, std::log and std::tanh, so they equal the
// reference exactly. For float, exp and tanh use vectorised AVX2 approximations that are within
// 0.94 ulp (exp) and 1.07 ulp (tanh) of the exact result for every float input (measured
// exhaustively; the tests check a sweep); exp is the library's one float exp, the same in every
// kernel (lib/numerics/exp.hpp). log calls std::log. The result for a value does not
// depend on its position in the tensor or on the thread count.
//
// Special values follow the C library: exp overflows to +inf above ~88.72 (float) and gives 0
// far below; log(0) = -inf, log of a negative number is NaN; tanh(+-inf) = +-1; NaN gives NaN.
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>

namespace ouro::ops {

enum class UnaryOp { exp, log, tanh };

/// Name used in the graph and in error messages: "exp", "log", "tanh".
const char* unary_op_name(UnaryOp op);

/// out[i] = f(x[i]) for i < n. Parallel over fixed blocks of elements.
template <typename T> void unary_forward(UnaryOp op, const T* x, T* out, std::int64_t n);

/// Adds f'(x[i]) * dout[i] into dx[i], using the saved output where that is cheaper:
/// exp: dx += dout * out; log: dx += dout / x; tanh: dx += dout * (1 - out^2).
template <typename T>
void unary_backward(UnaryOp op, const T* x, const T* out, const T* dout, T* dx, std::int64_t n);

/// Naive serial version of unary_forward (std::exp, std::log, std::tanh), kept for tests.
template <typename T> void unary_reference(UnaryOp op, const T* x, T* out, std::int64_t n);

/// f(x) elementwise, same shape as x.
template <typename T> Var<T> unary(UnaryOp op, const Var<T>& x);

template <typename T> Var<T> exp(const Var<T>& x) {
    return unary(UnaryOp::exp, x);
}
template <typename T> Var<T> log(const Var<T>& x) {
    return unary(UnaryOp::log, x);
}
template <typename T> Var<T> tanh(const Var<T>& x) {
    return unary(UnaryOp::tanh, x);
}

} // namespace ouro::ops
