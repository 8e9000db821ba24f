// Elementwise binary ops with broadcasting over leading dimensions, and the scalar affine map.
// Forward, backward (adds into gradients), reference and autograd wrapper, in that order.
#include "ouro/ops/elementwise.hpp"

#include "ouro/core/parallel.hpp"

#include <algorithm>
#include <string>

namespace ouro::ops {

const char* binary_op_name(BinaryOp op) {
    switch (op) {
    case BinaryOp::add:
        return "add";
    case BinaryOp::sub:
        return "sub";
    case BinaryOp::mul:
        return "mul";
    case BinaryOp::div:
        return "div";
    }
    return "binary";
}

Shape broadcast_shape(const char* op, const Shape& a, const Shape& b) {
    const Shape& big = a.rank() >= b.rank() ? a : b;
    const Shape& small = a.rank() >= b.rank() ? b : a;
    const int offset = big.rank() - small.rank();
    for (int i = 0; i < small.rank(); ++i)
        if (small[i] != big[offset + i])
            throw ShapeError(std::string(op) + ": shapes do not broadcast: a is " + a.to_string() +
                             ", b is " + b.to_string());
    return big;
}

namespace {

template <typename T> inline T apply(BinaryOp op, T x, T y) {
    switch (op) {
    case BinaryOp::add:
        return x + y;
    case BinaryOp::sub:
        return x - y;
    case BinaryOp::mul:
        return x * y;
    case BinaryOp::div:
        return x / y;
    }
    return T(0);
}

// d(x op y)/dx and d(x op y)/dy.
template <typename T> inline T partial_a(BinaryOp op, T, T y) {
    switch (op) {
    case BinaryOp::add:
    case BinaryOp::sub:
        return T(1);
    case BinaryOp::mul:
        return y;
    case BinaryOp::div:
        return T(1) / y;
    }
    return T(0);
}
template <typename T> inline T partial_b(BinaryOp op, T x, T y) {
    switch (op) {
    case BinaryOp::add:
        return T(1);
    case BinaryOp::sub:
        return T(-1);
    case BinaryOp::mul:
        return x;
    case BinaryOp::div:
        return -x / (y * y);
    }
    return T(0);
}

// Width of the column blocks a broadcast gradient is summed in: threads own whole blocks, and each
// column is summed over the repeats in order, so the result does not depend on the thread count.
constexpr std::int64_t column_block = 256;

// grad[j] += sum over r of dout[r * m + j] * partial(a, b) at element r * m + j, for j < m.
template <typename T, typename Partial>
void reduce_broadcast(const T* a, std::int64_t na, const T* b, std::int64_t nb, const T* dout,
                      std::int64_t n, std::int64_t m, T* grad, Partial partial) {
    const std::int64_t repeats = n / m;
    const std::int64_t blocks = (m + column_block - 1) / column_block;
#pragma omp parallel for schedule(static) if (n >= detail::parallel_threshold)
    for (std::int64_t blk = 0; blk < blocks; ++blk) {
        const std::int64_t j0 = blk * column_block, j1 = std::min(m, j0 + column_block);
        T acc[column_block] = {};
        for (std::int64_t r = 0; r < repeats; ++r)
            for (std::int64_t j = j0; j < j1; ++j) {
                const std::int64_t i = r * m + j;
                acc[j - j0] += dout[i] * partial(a[i % na], b[i % nb]);
            }
        for (std::int64_t j = j0; j < j1; ++j)
            grad[j] += acc[j - j0];
    }
}

} // namespace

// Shapes: a (na), b (nb), out (n); na and nb each equal n or divide it.
template <typename T>
void binary_forward(BinaryOp op, const T* a, std::int64_t na, const T* b, std::int64_t nb, T* out,
                    std::int64_t n) {
    if (na == n && nb == n) {
#pragma omp parallel for schedule(static) if (n >= detail::parallel_threshold)
        for (std::int64_t i = 0; i < n; ++i)
            out[i] = apply(op, a[i], b[i]);
        return;
    }
    // One operand repeats: walk the result as rows of the repeated operand's length.
    const std::int64_t m = std::min(na, nb);
    const std::int64_t rows = m == 0 ? 0 : n / m;
#pragma omp parallel for schedule(static) if (n >= detail::parallel_threshold)
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t j = 0; j < m; ++j) {
            const std::int64_t i = r * m + j;
            out[i] = apply(op, a[na == n ? i : j], b[nb == n ? i : j]);
        }
}

// grad[i] += dout[i] * partial(i, j) over the n elements of the operand that has all of them,
// where j = i mod m indexes the other operand (m equals n or divides it). Walking rows of m
// avoids a division per element; when m == n one flat loop shares the work among the threads.
template <typename T, typename Partial>
void full_size_gradient(const T* dout, std::int64_t n, std::int64_t m, T* grad, Partial partial) {
    if (m == n) {
#pragma omp parallel for schedule(static) if (n >= detail::parallel_threshold)
        for (std::int64_t i = 0; i < n; ++i)
            grad[i] += dout[i] * partial(i, i);
        return;
    }
    const std::int64_t rows = m == 0 ? 0 : n / m;
#pragma omp parallel for schedule(static) if (n >= detail::parallel_threshold)
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t j = 0; j < m; ++j) {
            const std::int64_t i = r * m + j;
            grad[i] += dout[i] * partial(i, j);
        }
}

// grad[i] += sign * dout[i]: the gradient of add (and of sub's b, sign -1), where the partial
// is the constant +-1 (dout * 1 and dout * -1 are exact, so this equals the general rule).
template <typename T> void signed_gradient(const T* dout, std::int64_t n, T sign, T* grad) {
#pragma omp parallel for schedule(static) if (n >= detail::parallel_threshold)
    for (std::int64_t i = 0; i < n; ++i)
        grad[i] += sign * dout[i];
}

// Shapes: as binary_forward; da (na) and db (nb) are added into.
template <typename T>
void binary_backward(BinaryOp op, const T* a, std::int64_t na, const T* b, std::int64_t nb,
                     const T* dout, std::int64_t n, T* da, T* db) {
    const bool constant_partials = op == BinaryOp::add || op == BinaryOp::sub;
    if (da) {
        if (na == n && constant_partials)
            signed_gradient(dout, n, T(1), da);
        else if (na == n)
            full_size_gradient(dout, n, nb, da, [op, a, b](std::int64_t i, std::int64_t j) {
                return partial_a(op, a[i], b[j]);
            });
        else if (na > 0)
            reduce_broadcast(a, na, b, nb, dout, n, na, da,
                             [op](T x, T y) { return partial_a(op, x, y); });
    }
    if (db) {
        if (nb == n && constant_partials)
            signed_gradient(dout, n, op == BinaryOp::add ? T(1) : T(-1), db);
        else if (nb == n)
            full_size_gradient(dout, n, na, db, [op, a, b](std::int64_t i, std::int64_t j) {
                return partial_b(op, a[j], b[i]);
            });
        else if (nb > 0)
            reduce_broadcast(a, na, b, nb, dout, n, nb, db,
                             [op](T x, T y) { return partial_b(op, x, y); });
    }
}

template <typename T>
void binary_reference(BinaryOp op, const T* a, std::int64_t na, const T* b, std::int64_t nb, T* out,
                      std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i)
        out[i] = apply(op, a[i % na], b[i % nb]);
}

template <typename T> Var<T> binary(BinaryOp op, const Var<T>& a, const Var<T>& b) {
    const Shape shape = broadcast_shape(binary_op_name(op), a.shape(), b.shape());
    Tensor<T> out = Tensor<T>::uninitialized(shape);
    const std::int64_t na = a.numel(), nb = b.numel(), n = out.numel();
    binary_forward(op, a.value().data(), na, b.value().data(), nb, out.data(), n);
    return detail::make_result(
        binary_op_name(op), std::move(out), {a, b}, [op, na, nb, n](Node<T>& self) {
            const Node<T>& x = *self.inputs[0];
            const Node<T>& y = *self.inputs[1];
            // The gradient of a full-size operand of add (and of sub's a) is dout itself: it is
            // handed over (copied, or for a moved) instead of added into a zero-filled buffer,
            // the residual stream's case. b goes first: moving dout to a must come last.
            const bool pass_a = (op == BinaryOp::add || op == BinaryOp::sub) && na == n;
            const bool pass_b = op == BinaryOp::add && nb == n;
            if (pass_b)
                detail::pass_grad(self, 1, self.grad);
            binary_backward(op, x.value.data(), na, y.value.data(), nb, self.grad.data(), n,
                            pass_a ? nullptr : detail::input_grad(self, 0),
                            pass_b ? nullptr : detail::input_grad(self, 1));
            if (pass_a)
                detail::pass_own_grad(self, 0);
        });
}

// out = x * s + t; dx += dout * s.
template <typename T> Var<T> affine(const Var<T>& x, T s, T t) {
    Tensor<T> out = Tensor<T>::uninitialized(x.shape());
    const T* in = x.value().data();
    T* o = out.data();
    const std::int64_t n = out.numel();
#pragma omp parallel for schedule(static) if (n >= detail::parallel_threshold)
    for (std::int64_t i = 0; i < n; ++i)
        o[i] = in[i] * s + t;
    return detail::make_result("affine", std::move(out), {x}, [s, n](Node<T>& self) {
        T* dx = detail::input_grad(self, 0);
        const T* g = self.grad.data();
#pragma omp parallel for schedule(static) if (n >= detail::parallel_threshold)
        for (std::int64_t i = 0; i < n; ++i)
            dx[i] += g[i] * s;
    });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void binary_forward<T>(BinaryOp, const T*, std::int64_t, const T*, std::int64_t, T*,  \
                                    std::int64_t);                                                 \
    template void binary_backward<T>(BinaryOp, const T*, std::int64_t, const T*, std::int64_t,     \
                                     const T*, std::int64_t, T*, T*);                              \
    template void binary_reference<T>(BinaryOp, const T*, std::int64_t, const T*, std::int64_t,    \
                                      T*, std::int64_t);                                           \
    template Var<T> binary<T>(BinaryOp, const Var<T>&, const Var<T>&);                             \
    template Var<T> affine<T>(const Var<T>&, T, T);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
