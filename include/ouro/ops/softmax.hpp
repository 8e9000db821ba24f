// Softmax and log-softmax over the last dimension of a tensor of shape (..., C), seen as rows of C
// values (e.g. attention scores (B, NH, T, T) or logits (B, T, V)). The output has the input's
// shape.
//
//   softmax(x)_i     = e^(x_i - m) / sum_j e^(x_j - m),        m = max_j x_j
//   log_softmax(x)_i = (x_i - m) - log(sum_j e^(x_j - m))
//
// Subtracting the row maximum keeps every exponent <= 0, so nothing overflows. The row sum is
// accumulated in double in the library's fixed order; float rows use the library's one float exp
// (within 1 ulp; the same as cross-entropy, attention and the sampler).
// Rows are independent and run in parallel; each is computed by one thread in a fixed order.
//
// Backward (y is the saved output, dy its gradient):
//   softmax:      dx = y (dy - sum_j dy_j y_j)
//   log_softmax:  dx = dy - softmax(x) sum_j dy_j,   with softmax(x) = e^y
//
// Infinite inputs (masking). An entry of -inf gets probability 0 (log-probability -inf) and does
// not disturb the rest of its row. A row whose entries are all -inf (fully masked) gives softmax
// 0 everywhere and log_softmax -inf everywhere, instead of the NaN of 0 / 0; backward through it
// then gives 0 for softmax and dy for log_softmax (the same formulas with a zero probability), so
// a fully masked row never puts NaN into any gradient. A row containing +inf or NaN gives NaN in
// every entry of that row, and only that row.
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>

namespace ouro::ops {

/// y = softmax of each of the `rows` rows of C values of x. Shapes: x (rows, C), y (rows, C).
template <typename T> void softmax_forward(const T* x, T* y, std::int64_t rows, std::int64_t C);

/// dx += y (dy - sum(dy y)) row by row. Shapes: y, dy, dx all (rows, C).
template <typename T>
void softmax_backward(const T* y, const T* dy, T* dx, std::int64_t rows, std::int64_t C);

/// y = log_softmax of each row of x. Shapes: x (rows, C), y (rows, C).
template <typename T> void log_softmax_forward(const T* x, T* y, std::int64_t rows, std::int64_t C);

/// dx += dy - e^y sum(dy) row by row. Shapes: y, dy, dx all (rows, C).
template <typename T>
void log_softmax_backward(const T* y, const T* dy, T* dx, std::int64_t rows, std::int64_t C);

/// Naive serial softmax (std::exp, one accumulator), kept for tests.
template <typename T> void softmax_reference(const T* x, T* y, std::int64_t rows, std::int64_t C);

/// Naive serial log_softmax, kept for tests.
template <typename T>
void log_softmax_reference(const T* x, T* y, std::int64_t rows, std::int64_t C);

/// Softmax over the last dimension. Throws ShapeError for a scalar:
/// "softmax: input must have at least one dimension, got ()".
template <typename T> Var<T> softmax(const Var<T>& x);

/// Log-softmax over the last dimension. Throws ShapeError for a scalar:
/// "log_softmax: input must have at least one dimension, got ()".
template <typename T> Var<T> log_softmax(const Var<T>& x);

} // namespace ouro::ops
