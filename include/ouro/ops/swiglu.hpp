// SwiGLU, the gated linear unit with a SiLU gate (Shazeer 2020, "GLU Variants Improve
// Transformer"), as in Llama's feed-forward block: w2(silu(w1 x) * w3 x). Here the model fuses w1
// and w3 into one Linear of 2H outputs, and this op takes that (..., 2H) result: the first half of
// the last dimension is the gate a (w1's output), the second half the up projection u (w3's):
//   out[i] = silu(a_i) u_i,   silu(a) = a sigmoid(a) = a / (1 + e^(-a)),   i < H.
// With s = sigmoid(a), the derivatives are
//   d_gate = dout u s (1 + a (1 - s)),   d_up = dout silu(a).
// The kernels take s and 1 - s from t = e^(-|a|), which never overflows:
//   s = (a >= 0 ? 1 : t) / (1 + t),   1 - s = (a >= 0 ? t : 1) / (1 + t),
// so the gradient is finite (and tends to 0 or u) far in both tails.
//
// Float runs eight lanes at a time on the library's float exp (lib/numerics), within a few ulp of
// the exact formula; double runs the same formulas on std::exp. Every element goes through the same
// instructions wherever it sits in a row (the tail through masked vectors), so results do not
// depend on the thread count. NaN gives NaN; silu(+inf) = +inf, silu(-inf) is NaN (as -inf * 0 is).
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>

namespace ouro::ops {

/// Shapes: x (N, 2H), out (N, H). Parallel over rows.
template <typename T> void swiglu_forward(const T* x, T* out, std::int64_t N, std::int64_t H);

/// swiglu_forward on the calling thread alone, with no parallel region, for callers already
/// inside one (the inference session's decode step). Values are those of swiglu_forward, bit for
/// bit.
template <typename T>
void swiglu_forward_serial(const T* x, T* out, std::int64_t N, std::int64_t H);

/// Adds the gradients of both halves into dx (N, 2H), given x (N, 2H) and dout (N, H); recomputes
/// from x, saves nothing. Parallel over rows.
template <typename T>
void swiglu_backward(const T* x, const T* dout, T* dx, std::int64_t N, std::int64_t H);

/// Naive serial a / (1 + exp(-a)) * u with std::exp, kept for tests. Shapes as swiglu_forward.
template <typename T> void swiglu_reference(const T* x, T* out, std::int64_t N, std::int64_t H);

/// SwiGLU of x (..., 2H); returns (..., H).
/// Throws ShapeError: "swiglu: input must have at least one dimension, got ()", "swiglu: the last
/// dimension must be even (gate and up halves), got (2, 3, 5)".
template <typename T> Var<T> swiglu(const Var<T>& x);

} // namespace ouro::ops
