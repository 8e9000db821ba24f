// Checks of sampler settings shared by the stage functions and SamplerChain::from_settings, so a
// bad value gets the same message wherever it is caught: "sampler: top_p must be in (0, 1], got 0".
// Internal to the library.
#pragma once

#include "ouro/core/error.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace ouro::gen::detail {

/// The shortest text that reads back as `v` ("0.95", "1e-05", "nan", "inf").
inline std::string format_number(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
    return std::string(buf, r.ptr);
}
/// The shortest text that reads back as the float `v` ("3e+38", not 2.9999999521443642e+38).
inline std::string format_number(float v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
    return std::string(buf, r.ptr);
}

[[noreturn]] inline void bad_setting(const char* name, const char* rule, const std::string& got) {
    throw ConfigError(std::string("sampler: ") + name + " must be " + rule + ", got " + got);
}

inline void check_at_least(const char* name, double v, double lo) {
    if (!(v >= lo) || !std::isfinite(v))
        bad_setting(name, (">= " + format_number(lo)).c_str(), format_number(v));
}
inline void check_positive(const char* name, double v) {
    if (!(v > 0.0) || !std::isfinite(v))
        bad_setting(name, "> 0", format_number(v));
}
inline void check_count(const char* name, std::int64_t v) {
    if (v < 0)
        bad_setting(name, ">= 0", std::to_string(v));
}
/// v in (0, 1].
inline void check_open_closed(const char* name, double v) {
    if (!(v > 0.0 && v <= 1.0))
        bad_setting(name, "in (0, 1]", format_number(v));
}
/// v in [0, 1].
inline void check_closed(const char* name, double v) {
    if (!(v >= 0.0 && v <= 1.0))
        bad_setting(name, "in [0, 1]", format_number(v));
}
/// v in [0, 1).
inline void check_closed_open(const char* name, double v) {
    if (!(v >= 0.0 && v < 1.0))
        bad_setting(name, "in [0, 1)", format_number(v));
}
inline void check_finite(const char* name, double v) {
    if (!std::isfinite(v))
        bad_setting(name, "finite", format_number(v));
}

} // namespace ouro::gen::detail
