// Element types on disk (safetensors names) and their sizes. The 16-bit formats used to store
// weights compactly, IEEE half (F16) and bfloat16 (BF16), convert through core/half.hpp.
#pragma once

#include "ouro/core/half.hpp"

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

// The 16-bit codecs, one for the whole library (core/half.hpp).
using ouro::bfloat16_to_float;
using ouro::float_to_bfloat16;
using ouro::float_to_half;
using ouro::half_to_float;

} // namespace ouro::io
