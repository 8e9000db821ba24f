// DType names and 16-bit float conversions (round to nearest even; NaN stays NaN; overflow to
// infinity, as the hardware conversions do).
#include "ouro/io/dtype.hpp"

#include <bit>
#include <cmath>

namespace ouro::io {

const char* dtype_name(DType d) {
    switch (d) {
    case DType::F64:
        return "F64";
    case DType::F32:
        return "F32";
    case DType::F16:
        return "F16";
    case DType::BF16:
        return "BF16";
    case DType::I64:
        return "I64";
    case DType::I32:
        return "I32";
    case DType::U16:
        return "U16";
    case DType::U8:
        return "U8";
    }
    return "?";
}

bool parse_dtype(std::string_view name, DType& out) {
    for (DType d : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64, DType::I32,
                    DType::U16, DType::U8})
        if (name == dtype_name(d)) {
            out = d;
            return true;
        }
    return false;
}

std::size_t dtype_size(DType d) {
    switch (d) {
    case DType::F64:
    case DType::I64:
        return 8;
    case DType::F32:
    case DType::I32:
        return 4;
    case DType::F16:
    case DType::BF16:
    case DType::U16:
        return 2;
    case DType::U8:
        return 1;
    }
    return 1;
}

std::uint16_t float_to_bfloat16(float f) {
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    if (std::isnan(f))
        return std::uint16_t((x >> 16) | 0x40); // keep it a quiet NaN
    const std::uint32_t rounding = 0x7fff + ((x >> 16) & 1);
    return std::uint16_t((x + rounding) >> 16);
}

float bfloat16_to_float(std::uint16_t b) {
    return std::bit_cast<float>(std::uint32_t(b) << 16);
}

std::uint16_t float_to_half(float f) {
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    const std::uint32_t sign = (x >> 16) & 0x8000;
    const std::uint32_t abs = x & 0x7fffffff;
    if (abs > 0x7f800000)
        return std::uint16_t(sign | 0x7e00); // NaN
    if (abs >= 0x477ff000)
        return std::uint16_t(sign | 0x7c00); // rounds to >= 65520: infinity
    if (abs < 0x38800000) {                  // below 2^-14: subnormal half
        // Scale so the subnormal's units land in the integer part, then round to nearest even.
        const float scaled = std::bit_cast<float>(abs) * 16777216.0f; // 2^24
        return std::uint16_t(sign | std::uint32_t(std::nearbyint(scaled)));
    }
    // Normal: rebias the exponent (127 -> 15) and round the 23-bit mantissa to 10 bits.
    const std::uint32_t rounded = abs + 0xfff + ((abs >> 13) & 1);
    return std::uint16_t(sign | ((rounded - 0x38000000) >> 13));
}

float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = std::uint32_t(h & 0x8000) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1f;
    const std::uint32_t mant = h & 0x3ff;
    if (exp == 0) { // zero or subnormal: mant * 2^-24
        const float v = float(mant) * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (exp == 31)
        return std::bit_cast<float>(sign | 0x7f800000 | (mant << 13));
    return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

} // namespace ouro::io
