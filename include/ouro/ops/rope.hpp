// Rotary position embedding, RoPE (Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary
// Position Embedding"), applied to queries or keys before attention.
//
// Within each head of size HS, channel i < HS/2 is paired with channel i + HS/2 (the "rotate half"
// layout of GPT-NeoX and Hugging Face), and the pair at position p is rotated by the angle
// p * base^(-2i / HS):
//   out[i]        = x[i] cos(angle) - x[i + HS/2] sin(angle)
//   out[i + HS/2] = x[i + HS/2] cos(angle) + x[i] sin(angle)
// Position p of row t is position_offset + t, so a decoder with a KV cache can rotate one new token
// at its true position. Angles are computed in double and rounded once to T.
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>

namespace ouro::ops {

struct RopeOptions {
    double base = 10000.0;            ///< wavelength base of the rotation frequencies
    std::int64_t position_offset = 0; ///< position of the first row
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

/// RoPE on x (B, T, C). Throws ShapeError when x is not rank 3, when C is not a multiple of
/// n_head or the head size is odd; ConfigError when n_head < 1 or base <= 0.
template <typename T> Var<T> rope(const Var<T>& x, int n_head, const RopeOptions& options = {});

} // namespace ouro::ops
