// Layer normalisation over the last dimension (Ba, Kiros and Hinton 2016, "Layer Normalization"),
// as in GPT-2's ln_1, ln_2 and ln_f. For each row x of C values:
//   mean = sum(x) / C,   var = sum((x - mean)^2) / C  (biased, as PyTorch),
//   rstd = 1 / sqrt(var + eps),   out = (x - mean) rstd weight + bias.
// The forward pass saves mean and rstd per row (N = B * T values each) for backward, as llm.c
// does. Backward is the usual fused formula, with norm = (x - mean) rstd and dnorm = weight dout:
//   dx = rstd (dnorm - mean(dnorm) - norm mean(dnorm norm)),
//   dweight = sum over rows of dout norm,   dbias = sum over rows of dout.
//
// Precision and determinism: row statistics and every sum are accumulated in double (for float
// input too) in a fixed order. Rows run in parallel; dweight and dbias are first summed over fixed
// blocks of rows (each block owned by one thread, into its own buffer), then the blocks are added
// in block order, so the gradients are bit-identical for any thread count.
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>
#include <type_traits>

namespace ouro::ops {

/// Shapes: x (N, C), weight (C), bias (C) or nullptr for none, out (N, C), mean (N), rstd (N).
/// Parallel over rows. (bias does not take part in deducing T, so a plain nullptr works.)
template <typename T>
void layernorm_forward(const T* x, const T* weight, std::type_identity_t<const T>* bias, T* out,
                       T* mean, T* rstd, std::int64_t N, std::int64_t C, double eps);

/// layernorm_forward on the calling thread alone, with no parallel region, for callers already
/// inside one (the inference session's decode step). Values are those of layernorm_forward, bit
/// for bit.
template <typename T>
void layernorm_forward_serial(const T* x, const T* weight, std::type_identity_t<const T>* bias,
                              T* out, T* mean, T* rstd, std::int64_t N, std::int64_t C, double eps);

/// Adds into dx (N, C), dweight (C) and dbias (C); any of the three may be nullptr when that
/// gradient is not wanted. dout and x are (N, C), weight (C), mean and rstd (N) as saved by
/// layernorm_forward. Parallel over fixed blocks of rows. (The three gradient pointers do not
/// take part in deducing T.)
template <typename T>
void layernorm_backward(const T* dout, const T* x, const T* weight, const T* mean, const T* rstd,
                        std::type_identity_t<T>* dx, std::type_identity_t<T>* dweight,
                        std::type_identity_t<T>* dbias, std::int64_t N, std::int64_t C);

/// Naive serial layernorm_forward, computed in double and rounded once, kept for tests.
template <typename T>
void layernorm_reference(const T* x, const T* weight, std::type_identity_t<const T>* bias, T* out,
                         T* mean, T* rstd, std::int64_t N, std::int64_t C, double eps);

/// Layer norm of x (..., C) with weight (C) and bias (C); pass an undefined Var as bias for
/// none (GPT configs with bias = false). The result has x's shape.
/// Throws ShapeError: "layernorm: input must have at least one dimension, got ()",
/// "layernorm: weight must be (C) = (8), got (7)", "layernorm: bias must be (C) = (8), got (7)";
/// ConfigError when weight is undefined or eps is negative or not finite.
template <typename T>
Var<T> layernorm(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, double eps = 1e-5);

} // namespace ouro::ops
