// Elementwise binary ops: add, sub, mul, div, with broadcasting over leading dimensions.
//
// Broadcasting rule: the two shapes must be equal, or one must equal the trailing dimensions of
// the other (a suffix: (C) against (B, T, C), () against anything). The smaller operand is then
// repeated over the leading dimensions of the larger, e.g. adding a bias of shape (C) to
// activations of shape (B, T, C). The result has the larger shape.
//
// Kernels work on flat buffers: the result has n elements; operand a has na elements and b has
// nb, each equal to n or dividing it (the operand is read cyclically, a[i % na]).
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>

namespace ouro::ops {

enum class BinaryOp { add, sub, mul, div };

/// Name used in error messages: "add", "sub", "mul", "div".
const char* binary_op_name(BinaryOp op);

/// The result shape of broadcasting a against b; throws ShapeError naming `op` and both shapes.
Shape broadcast_shape(const char* op, const Shape& a, const Shape& b);

/// out[i] = a[i % na] (op) b[i % nb] for i < n. Parallel over elements.
template <typename T>
void binary_forward(BinaryOp op, const T* a, std::int64_t na, const T* b, std::int64_t nb, T* out,
                    std::int64_t n);

/// Adds d(out)/d(a) * dout into da and d(out)/d(b) * dout into db (either may be nullptr). For a
/// broadcast operand the contributions of all its repeats are summed, in a fixed order.
template <typename T>
void binary_backward(BinaryOp op, const T* a, std::int64_t na, const T* b, std::int64_t nb,
                     const T* dout, std::int64_t n, T* da, T* db);

/// Naive serial version of binary_forward, kept for tests.
template <typename T>
void binary_reference(BinaryOp op, const T* a, std::int64_t na, const T* b, std::int64_t nb, T* out,
                      std::int64_t n);

/// a (op) b with broadcasting; see the rule above. Throws ShapeError when the shapes do not
/// broadcast: "add: shapes do not broadcast: a is (2, 3), b is (4)".
template <typename T> Var<T> binary(BinaryOp op, const Var<T>& a, const Var<T>& b);

template <typename T> Var<T> add(const Var<T>& a, const Var<T>& b) {
    return binary(BinaryOp::add, a, b);
}
template <typename T> Var<T> sub(const Var<T>& a, const Var<T>& b) {
    return binary(BinaryOp::sub, a, b);
}
template <typename T> Var<T> mul(const Var<T>& a, const Var<T>& b) {
    return binary(BinaryOp::mul, a, b);
}
template <typename T> Var<T> div(const Var<T>& a, const Var<T>& b) {
    return binary(BinaryOp::div, a, b);
}

/// x * s + t for scalars s and t (scaling, negation, adding a constant).
template <typename T> Var<T> affine(const Var<T>& x, T s, T t);

} // namespace ouro::ops

namespace ouro {

// Operators on Vars live beside Var, so argument-dependent lookup finds them.
template <typename T> Var<T> operator+(const Var<T>& a, const Var<T>& b) {
    return ops::add(a, b);
}
template <typename T> Var<T> operator-(const Var<T>& a, const Var<T>& b) {
    return ops::sub(a, b);
}
template <typename T> Var<T> operator*(const Var<T>& a, const Var<T>& b) {
    return ops::mul(a, b);
}
template <typename T> Var<T> operator/(const Var<T>& a, const Var<T>& b) {
    return ops::div(a, b);
}
template <typename T> Var<T> operator-(const Var<T>& x) {
    return ops::affine(x, T(-1), T(0));
}
template <typename T> Var<T> operator*(const Var<T>& x, T s) {
    return ops::affine(x, s, T(0));
}
template <typename T> Var<T> operator*(T s, const Var<T>& x) {
    return ops::affine(x, s, T(0));
}
template <typename T> Var<T> operator+(const Var<T>& x, T t) {
    return ops::affine(x, T(1), t);
}
template <typename T> Var<T> operator-(const Var<T>& x, T t) {
    return ops::affine(x, T(1), -t);
}

} // namespace ouro
