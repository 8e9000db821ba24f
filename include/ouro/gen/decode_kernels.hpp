// The matrix-vector kernel of the inference session's decode step (session.hpp): a block of a
// Linear layer, y = x W^T + b (PyTorch's layout, weight (OUT, IN)), for the few rows that one
// decoding pass feeds (one new token per sequence, or a chunk of a prompt).
//
// Batch-1 decoding is bound by reading the weights (PERF.md): every weight is used once per
// token. The kernel is register-tiled: a tile of 8 output features (one row) or 4 features x 3
// rows keeps that many dot products in flight in vector registers. A tile's weight rows meet every
// group of rows while they are in L1, so they come from memory once per call, and the next tile's
// weights are prefetched while this one computes. It runs on the calling thread only: the session
// calls it from inside its one parallel region per pass, handing each thread fixed blocks of
// output features.
//
// Order of the sums. Every dot product runs in eight lanes, lane l adding the products of
// elements k = l mod 8 in increasing k with fused multiply-adds (the tail through masked loads,
// whose zeros add nothing), and the lanes are then added in a fixed tree, (l, l + 4), then
// (l, l + 2), then (0, 1). The tile an output falls in does not enter this order, so a row's
// result does not depend on how many rows are computed with it, on the block boundaries or on the
// thread: a sequence decoded in a batch gets the same bits as decoded alone.
//
// Weights may also be stored in IEEE half precision (16 bits): half the bytes to read, each
// weight widened exactly to float before the same fused multiply-adds. Rounding a trained GPT's
// weights to half moves its logits by about 1e-3 of their scale (the session's half_weights).
#pragma once

#include <cstdint>

namespace ouro::gen {

/// An IEEE 754 binary16 number, as stored bits.
using Half = std::uint16_t;

/// The float equal to h (exact: every half is a float).
float half_to_float(Half h);
/// f rounded to the nearest half, ties to even; beyond the half range it is +-infinity, NaN stays
/// NaN.
Half float_to_half(float f);
/// out[i] = float_to_half(in[i]) for i < n.
void to_half(const float* in, Half* out, std::int64_t n);

/// Whether decode_linear overwrites its output or adds to it (a residual connection).
enum class LinearInto { overwrite, add };

/// For rows r < R and output features o in [o0, o1):
///   out[r * out_stride + o] = x[r, :] . weight[o, :] + bias[o]     (LinearInto::overwrite)
///   out[r * out_stride + o] += x[r, :] . weight[o, :] + bias[o]    (LinearInto::add)
/// with x (R, IN) contiguous, weight (OUT, IN), bias (OUT) or nullptr for none. The dot product
/// plus bias is rounded once to float before it is added. Runs on the calling thread.
void decode_linear(const float* x, std::int64_t rows, std::int64_t in, const float* weight,
                   const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                   std::int64_t o1, LinearInto into = LinearInto::overwrite);

/// The same with half-precision weights (OUT, IN).
void decode_linear(const float* x, std::int64_t rows, std::int64_t in, const Half* weight,
                   const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                   std::int64_t o1, LinearInto into = LinearInto::overwrite);

/// Naive serial decode_linear, each dot product summed in double and rounded once, kept for tests.
void decode_linear_reference(const float* x, std::int64_t rows, std::int64_t in,
                             const float* weight, const float* bias, float* out,
                             std::int64_t out_stride, std::int64_t o0, std::int64_t o1,
                             LinearInto into = LinearInto::overwrite);
void decode_linear_reference(const float* x, std::int64_t rows, std::int64_t in, const Half* weight,
                             const float* bias, float* out, std::int64_t out_stride,
                             std::int64_t o0, std::int64_t o1,
                             LinearInto into = LinearInto::overwrite);

} // namespace ouro::gen
