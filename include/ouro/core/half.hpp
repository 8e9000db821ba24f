// 16-bit floating-point storage: IEEE 754 binary16 ("half", F16) and bfloat16 (BF16). Weights are
// stored in these formats to halve the bytes a decoding step reads, and checkpoints may hold them;
// arithmetic always widens them to float first. One codec for the whole library: the decoding
// kernels, the safetensors reader and writer and the sampling bundle all call these.
//
// Narrowing rounds to nearest, ties to even; beyond the format's range it gives +-infinity; NaN
// stays NaN (quiet). Widening is exact: every half and every bfloat16 is a float.
#pragma once

#include <cstdint>

namespace ouro {

/// An IEEE 754 binary16 number, as stored bits.
using Half = std::uint16_t;

/// The float equal to h (exact).
float half_to_float(Half h);
/// f rounded to the nearest half, ties to even.
Half float_to_half(float f);
/// out[i] = float_to_half(in[i]) for i < n.
void to_half(const float* in, Half* out, std::int64_t n);

/// The float equal to the bfloat16 b (exact).
float bfloat16_to_float(std::uint16_t b);
/// f rounded to the nearest bfloat16, ties to even.
std::uint16_t float_to_bfloat16(float f);

} // namespace ouro
