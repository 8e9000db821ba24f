// The 16-bit float codecs of half.hpp, in portable integer arithmetic (the results equal F16C's
// vcvtps2ph with round-to-nearest-even and vcvtph2ps).
#include "ouro/core/half.hpp"

#include <bit>
#include <cmath>

namespace ouro {

// IEEE binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.
float half_to_float(Half h) {
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
    const std::uint32_t exponent = (h >> 10) & 0x1fu, fraction = h & 0x3ffu;
    if (exponent == 0x1f) // infinity or NaN
        return std::bit_cast<float>(sign | 0x7f800000u | (fraction << 13));
    if (exponent == 0) { // zero or subnormal: fraction * 2^-24, exact in float
        const float v = float(fraction) * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (fraction << 13));
}

Half float_to_half(float f) {
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const std::uint32_t abs = x & 0x7fffffffu;
    if (abs > 0x7f800000u)
        return Half(sign | 0x7e00u); // NaN
    if (abs >= 0x477ff000u)
        return Half(sign | 0x7c00u); // rounds to >= 65520: infinity
    if (abs < 0x38800000u) {         // below 2^-14: subnormal half
        // Scale so the subnormal's units land in the integer part, then round to nearest even.
        const float scaled = std::bit_cast<float>(abs) * 16777216.0f; // 2^24
        return Half(sign | std::uint32_t(std::nearbyint(scaled)));
    }
    // Normal: rebias the exponent (127 -> 15) and round the 23-bit mantissa to 10 bits (a carry
    // into the exponent is the correct result).
    const std::uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
    return Half(sign | ((rounded - 0x38000000u) >> 13));
}

void to_half(const float* in, Half* out, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i)
        out[i] = float_to_half(in[i]);
}

float bfloat16_to_float(std::uint16_t b) {
    return std::bit_cast<float>(std::uint32_t(b) << 16);
}

std::uint16_t float_to_bfloat16(float f) {
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    if (std::isnan(f))
        return std::uint16_t((x >> 16) | 0x40); // keep it a quiet NaN
    const std::uint32_t rounding = 0x7fff + ((x >> 16) & 1);
    return std::uint16_t((x + rounding) >> 16);
}

} // namespace ouro
