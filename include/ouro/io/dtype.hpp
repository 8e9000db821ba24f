// Element types on disk (safetensors names) and conversions between them and float/double,
// including the 16-bit formats used to store weights compactly: IEEE half (F16) and bfloat16
// (BF16), both rounded to nearest even.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ouro::io {

enum class DType { F64, F32, F16, BF16, I64, I32, U16, U8 };

/// "F64", "F32", "F16", "BF16", "I64", "I32", "U16", "U8".
const char* dtype_name(DType d);
/// The DType of a safetensors dtype string; returns false when unknown.
bool parse_dtype(std::string_view name, DType& out);
/// Bytes per element.
std::size_t dtype_size(DType d);

std::uint16_t float_to_half(float f);
float half_to_float(std::uint16_t h);
std::uint16_t float_to_bfloat16(float f);
float bfloat16_to_float(std::uint16_t b);

} // namespace ouro::io
