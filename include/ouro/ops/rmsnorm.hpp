// Root-mean-square layer normalisation over the last dimension (Zhang and Sennrich 2019, "Root
// Mean Square Layer Normalization"), as in Llama and llama2.c. For each row x of C values:
//   rstd = 1 / sqrt(sum(x^2) / C + eps),   out = x rstd weight.
// There is no mean subtraction and no bias. The forward pass saves rstd per row (N = B * T
// values) for backward. With norm = x rstd and dnorm = weight dout:
//   dx = rstd (dnorm - norm mean(dnorm norm)),   dweight = sum over rows of dout norm.
//
// Precision and determinism: the sum of squares and every other sum are accumulated in double
// (for float input too) in the fixed order of the library's sums (lib/numerics/sum.hpp). Rows run
// in parallel; dweight is first summed over fixed blocks of rows (each block owned by one thread,
// into its own buffer), then the blocks are added in block order, so the gradients are
// bit-identical for any thread count.
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>
#include <type_traits>

namespace ouro::ops {

/// Shapes: x (N, C), weight (C), out (N, C), rstd (N). Parallel over rows.
template <typename T>
void rmsnorm_forward(const T* x, const T* weight, T* out, T* rstd, std::int64_t N, std::int64_t C,
                     double eps);

/// rmsnorm_forward on the calling thread alone, with no parallel region, for callers already
/// inside one (the inference session's decode step). Values are those of rmsnorm_forward, bit
/// for bit.
template <typename T>
void rmsnorm_forward_serial(const T* x, const T* weight, T* out, T* rstd, std::int64_t N,
                            std::int64_t C, double eps);

/// Adds into dx (N, C) and dweight (C); either may be nullptr when that gradient is not wanted.
/// dout and x are (N, C), weight (C), rstd (N) as saved by rmsnorm_forward. Parallel over fixed
/// blocks of rows. (The gradient pointers do not take part in deducing T.)
template <typename T>
void rmsnorm_backward(const T* dout, const T* x, const T* weight, const T* rstd,
                      std::type_identity_t<T>* dx, std::type_identity_t<T>* dweight, std::int64_t N,
                      std::int64_t C);

/// Naive serial rmsnorm_forward, computed in double and rounded once, kept for tests.
template <typename T>
void rmsnorm_reference(const T* x, const T* weight, T* out, T* rstd, std::int64_t N, std::int64_t C,
                       double eps);

/// RMS norm of x (..., C) with weight (C). The result has x's shape.
/// Throws ShapeError: "rmsnorm: input must have at least one dimension, got ()",
/// "rmsnorm: weight must be (C) = (8), got (7)"; ConfigError: "rmsnorm: weight is undefined",
/// "rmsnorm: eps must be finite and > 0, got 0" (without eps a zero row would divide by zero).
template <typename T> Var<T> rmsnorm(const Var<T>& x, const Var<T>& weight, double eps = 1e-5);

} // namespace ouro::ops
