// dropout: inverted dropout (Srivastava et al. 2014, "Dropout: a simple way to prevent neural
// networks from overfitting"). At training time each element is zeroed with probability p and the
// kept ones are scaled by 1 / (1 - p), so the expected output equals the input and evaluation
// needs no rescaling.
//
// The mask depends only on one 64-bit key drawn from the caller's Rng per call: element i is
// dropped when Rng::stream_uniform(key, i) < p. Elements can therefore be processed in any order
// and split among threads in any way without changing the mask.
#pragma once

#include "ouro/autograd/var.hpp"
#include "ouro/core/rng.hpp"

#include <cstdint>

namespace ouro::ops {

/// out[i] = x[i] / (1 - p) when element i is kept, 0 when it is dropped, for i < n; p in (0, 1).
/// When mask is not null, mask[i] = 1 for kept elements and 0 for dropped ones. Parallel over
/// fixed blocks.
template <typename T>
void dropout_forward(const T* x, std::int64_t n, double p, std::uint64_t key, T* out,
                     std::uint8_t* mask);

/// dx[i] += dout[i] / (1 - p) where mask[i] is 1, for i < n. Parallel over fixed blocks.
template <typename T>
void dropout_backward(const T* dout, const std::uint8_t* mask, std::int64_t n, double p, T* dx);

/// Naive serial version of dropout_forward (the mask rule written literally), kept for tests.
template <typename T>
void dropout_reference(const T* x, std::int64_t n, double p, std::uint64_t key, T* out);

/// Inverted dropout of x with drop probability p. When training and p > 0, draws one key with
/// rng.next_u64() and keeps a byte mask for backward; otherwise returns x itself (the same node,
/// no copy) and draws nothing. Throws ConfigError when p is outside [0, 1), whether training or
/// not: "dropout: probability must be in [0, 1), got 1.5".
template <typename T> Var<T> dropout(const Var<T>& x, double p, Rng& rng, bool training = true);

} // namespace ouro::ops
