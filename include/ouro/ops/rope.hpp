// Rotary position embedding, RoPE (Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary
// Position Embedding"), applied to queries or keys before attention.
//
// Within each head of size HS, the channels form HS/2 pairs (lo_i, hi_i), and pair i at position
// p is rotated by the angle p * base^(-2i / HS):
//   out[lo_i] = x[lo_i] cos(angle) - x[hi_i] sin(angle)
//   out[hi_i] = x[hi_i] cos(angle) + x[lo_i] sin(angle)
// Two layouts pair the channels differently (the same rotation, on permuted channels):
//   half:        (i, i + HS/2), the "rotate half" layout of GPT-NeoX and Hugging Face;
//   interleaved: (2i, 2i + 1), Meta's original Llama and llama2.c.
// A checkpoint trained with one layout needs that layout (Hugging Face's Llama conversion permutes
// the rows of wq and wk to move from one to the other).
// Position p of row t is position_offset + t, so a decoder with a KV cache can rotate one new token
// at its true position. Angles are computed in double and rounded once to T. Each output is one
// explicit fused multiply-add over one rounded product, out[lo] = fma(x[lo], cos, -(x[hi] sin))
// and out[hi] = fma(x[hi], cos, x[lo] sin), in the batched kernels and in the single-head decode
// helper rope_rotate alike, so the two agree bit for bit.
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>

namespace ouro::ops {

/// Which channels of a head form a rotated pair (see the file comment).
enum class RopeLayout {
    half,       ///< (i, i + HS/2): GPT-NeoX, Hugging Face
    interleaved ///< (2i, 2i + 1): Meta's Llama, llama2.c
};

struct RopeOptions {
    double base = 10000.0;                ///< wavelength base of the rotation frequencies
    std::int64_t position_offset = 0;     ///< position of the first row
    RopeLayout layout = RopeLayout::half; ///< which channels pair up
};

/// x, out: (B, T, C) with C = n_head * HS, HS even. Rows (b, t) in parallel.
template <typename T>
void rope_forward(const T* x, T* out, std::int64_t B, std::int64_t T_, std::int64_t C, int n_head,
                  const RopeOptions& options);

/// Adds the inverse rotation of dout into dx. Shapes as rope_forward.
template <typename T>
void rope_backward(const T* dout, T* dx, std::int64_t B, std::int64_t T_, std::int64_t C,
                   int n_head, const RopeOptions& options);

/// Naive serial version of rope_forward (angles recomputed per element), kept for tests.
template <typename T>
void rope_reference(const T* x, T* out, std::int64_t B, std::int64_t T_, std::int64_t C, int n_head,
                    const RopeOptions& options);

/// The (cos, sin) pairs of one position: cos_sin[2i] = cos(angle_i), cos_sin[2i + 1] =
/// sin(angle_i) for i < head_size / 2, angle_i = position * base^(-2i / head_size), computed in
/// double and rounded once to float: the values rope_forward uses at that position. head_size
/// must be even.
void rope_angles(std::int64_t position, double base, std::int64_t head_size, float* cos_sin);

/// Rotates one head of one token (head_size values, even) by the (cos, sin) pairs of rope_angles,
/// in the given layout; in may equal out. The decode-time schedule of rope_forward: rotating
/// every head of every row this way gives rope_forward's float output bit for bit.
void rope_rotate(const float* in, float* out, const float* cos_sin, std::int64_t head_size,
                 RopeLayout layout);

/// RoPE on x (B, T, C). Throws ShapeError when x is not rank 3, when C is not a multiple of
/// n_head or the head size is odd; ConfigError when n_head < 1 or base <= 0.
template <typename T> Var<T> rope(const Var<T>& x, int n_head, const RopeOptions& options = {});

} // namespace ouro::ops
