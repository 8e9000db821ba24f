// Reductions: sum and mean, over all elements (the result is a scalar of shape ()) or over one
// dimension (which is removed from the shape: sum of (B, T, C) over dim 1 is (B, C)).
//
// Precision and determinism. Values are accumulated in double for float and double input, and a
// float result is rounded once at the end (a mean divides in double before rounding). A full
// reduction sums fixed chunks of detail::reduction_chunk elements, each in a fixed order of 16
// interleaved partial sums, then adds the chunk sums in chunk order; chunks run in parallel, but
// their boundaries and the order of every addition are fixed, so the result is bit-identical for
// any thread count. Reducing the last dimension sums each row the same way (so sum(x, -1) of a
// (1, n) tensor equals sum(x) bit for bit); reducing an inner dimension sums each output element
// over that dimension in index order.
//
// Empty input: a sum of no elements is 0, a mean of no elements is NaN (0 / 0).
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>

namespace ouro::ops {

enum class ReduceOp { sum, mean };

/// Name used in the graph and in error messages: "sum", "mean".
const char* reduce_op_name(ReduceOp op);

/// The sum (or mean) of x[0..n), computed as described above. Parallel over chunks.
template <typename T> T reduce_all_forward(ReduceOp op, const T* x, std::int64_t n);

/// Adds dout (sum) or dout / n (mean) into dx[i] for every i < n.
template <typename T> void reduce_all_backward(ReduceOp op, T dout, T* dx, std::int64_t n);

/// Naive serial version of reduce_all_forward (one double accumulator, index order), for tests.
template <typename T> T reduce_all_reference(ReduceOp op, const T* x, std::int64_t n);

/// x seen as (outer, d, inner): out[o, j] = sum (or mean) over k < d of x[o, k, j], so out is
/// (outer, inner). Parallel over output rows and fixed blocks of columns.
template <typename T>
void reduce_dim_forward(ReduceOp op, const T* x, std::int64_t outer, std::int64_t d,
                        std::int64_t inner, T* out);

/// dx[o, k, j] += dout[o, j] (sum) or dout[o, j] / d (mean); dx is (outer, d, inner).
template <typename T>
void reduce_dim_backward(ReduceOp op, const T* dout, std::int64_t outer, std::int64_t d,
                         std::int64_t inner, T* dx);

/// Naive serial version of reduce_dim_forward, for tests.
template <typename T>
void reduce_dim_reference(ReduceOp op, const T* x, std::int64_t outer, std::int64_t d,
                          std::int64_t inner, T* out);

/// Sum or mean of all elements of x; the result has shape ().
template <typename T> Var<T> reduce(ReduceOp op, const Var<T>& x);

/// Sum or mean over dimension `dim` of x (negative counts from the end), which the result drops.
/// Throws ShapeError when dim is out of range: "sum: dimension 3 out of range for (2, 3)".
template <typename T> Var<T> reduce(ReduceOp op, const Var<T>& x, int dim);

/// Sum of all elements, shape ().
template <typename T> Var<T> sum(const Var<T>& x) {
    return reduce(ReduceOp::sum, x);
}
/// Mean of all elements, shape ().
template <typename T> Var<T> mean(const Var<T>& x) {
    return reduce(ReduceOp::mean, x);
}
/// Sum over one dimension, which is removed.
template <typename T> Var<T> sum(const Var<T>& x, int dim) {
    return reduce(ReduceOp::sum, x, dim);
}
/// Mean over one dimension, which is removed.
template <typename T> Var<T> mean(const Var<T>& x, int dim) {
    return reduce(ReduceOp::mean, x, dim);
}

} // namespace ouro::ops
