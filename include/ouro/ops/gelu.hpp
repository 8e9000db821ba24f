// GELU, the tanh approximation used by GPT-2 (Hendrycks and Gimpel 2016, "Gaussian Error Linear
// Units"; PyTorch's gelu(approximate='tanh')):
//   gelu(x) = 0.5 x (1 + tanh(u)),   u = sqrt(2 / pi) (x + 0.044715 x^3).
// The kernels use the identity 0.5 (1 + tanh u) = 1 / (1 + e^(-2u)) = s, so gelu(x) = x s needs
// one exp and one division, with no cancellation in 1 + tanh u for negative x (at x = -5 that sum
// is about 1e-7 and a literal float evaluation keeps no correct digit). The derivative is exact
// for the same formula:
//   gelu'(x) = s + 2 x u' s (1 - s),   u' = sqrt(2 / pi) (1 + 3 * 0.044715 x^2),
// with s and 1 - s both taken from e^(-2|u|), which never overflows.
//
// Float accuracy, against the exact formula: within 3 ulp for x >= -1 (the derivative too, away
// from its zero near x = -0.75). Below -1, gelu(x) ~ x e^(-2|u|) is small and ill-conditioned: its
// relative error grows like |u| ulp, as for any float evaluation of u, and the absolute error stays
// below 1e-7. Double runs the same formulas on std::exp.
//
// Any shape is accepted (elementwise); GPT runs it on (B, T, 4C). NaN gives NaN, +inf gives +inf,
// -inf gives NaN (as the literal formula does); gradients at +-inf are NaN.
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>

namespace ouro::ops {

/// out[i] = gelu(x[i]) for i < n. Parallel over fixed blocks of elements.
template <typename T> void gelu_forward(const T* x, T* out, std::int64_t n);

/// gelu_forward on the calling thread alone, with no parallel region, for callers already inside
/// one (the inference session's decode step). Values are those of gelu_forward, bit for bit.
template <typename T> void gelu_forward_serial(const T* x, T* out, std::int64_t n);

/// Adds gelu'(x[i]) * dout[i] into dx[i] for i < n (recomputes from x, saves nothing).
template <typename T> void gelu_backward(const T* x, const T* dout, T* dx, std::int64_t n);

/// Naive serial 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) with std::tanh, kept for tests.
template <typename T> void gelu_reference(const T* x, T* out, std::int64_t n);

/// gelu(x) elementwise, same shape as x.
template <typename T> Var<T> gelu(const Var<T>& x);

} // namespace ouro::ops
