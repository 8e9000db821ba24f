// Plot parts: text measure and axes (ranges, "nice" ticks after Heckbert, "Nice numbers for graph
// labels", Graphics Gems 1990, and which tick labels fit). See plot_parts.hpp.
#include "ouro/core/error.hpp"
#include "ouro/lab/html_report.hpp"
#include "ouro/lab/plot_parts.hpp"
#include "ouro/lab/table.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace ouro::lab::plot {

namespace {

constexpr double kEmPerChar = 0.6;

std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (const char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
            ++n;
    return n;
}

// Label of a tick on a log axis at m * 10^e (m in {1, 2, 5}).
std::string log_label(double v, int e) {
    if (e < -4 || e > 5) {
        char buffer[32];
        const auto r =
            std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::scientific, 0);
        return std::string(buffer, r.ptr);
    }
    return fmt(v, std::max(0, -e));
}

std::string linear_label(double v, double step) {
    if (std::abs(v) >= 1e7 || step < 1e-5) {
        char buffer[32];
        const auto r =
            std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::scientific, 2);
        return std::string(buffer, r.ptr);
    }
    const int decimals = std::max(0, -int(std::floor(std::log10(step) + 1e-9)));
    return fmt(v, std::min(decimals, 17));
}

void log_ticks(Axis& axis) {
    const int first = int(std::ceil(std::log10(axis.lo) - 1e-9));
    const int last = int(std::floor(std::log10(axis.hi) + 1e-9));
    const int decades = last - first;
    const int every = std::max(1, (decades + 7) / 8);
    for (int e = first - 1; e <= last; ++e)
        for (const double m : {1.0, 2.0, 5.0}) {
            if (m != 1.0 && decades > 2)
                continue;
            if (m == 1.0 && (e - first) % every != 0)
                continue;
            const double v = m * std::pow(10.0, e);
            if (v < axis.lo * (1 - 1e-9) || v > axis.hi * (1 + 1e-9))
                continue;
            axis.ticks.push_back(v);
            axis.labels.push_back(log_label(v, e));
        }
}

void linear_ticks(Axis& axis, bool round_lo, bool round_hi) {
    const double raw = (axis.hi - axis.lo) / 5.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double r = raw / magnitude;
    const double step = (r < 1.5 ? 1.0 : r < 3.0 ? 2.0 : r < 7.0 ? 5.0 : 10.0) * magnitude;
    if (round_lo)
        axis.lo = std::floor(axis.lo / step + 1e-9) * step;
    if (round_hi)
        axis.hi = std::ceil(axis.hi / step - 1e-9) * step;
    const auto first = std::int64_t(std::ceil(axis.lo / step - 1e-9));
    const auto last = std::int64_t(std::floor(axis.hi / step + 1e-9));
    for (std::int64_t k = first; k <= last; ++k) {
        axis.ticks.push_back(double(k) * step);
        axis.labels.push_back(linear_label(double(k) * step, step));
    }
}

} // namespace

double text_width(std::string_view text, double font_size) {
    return double(code_points(text)) * kEmPerChar * font_size;
}

std::string fit_text(std::string_view text, double max_px, double font_size) {
    const std::string s = sanitize_utf8(text);
    if (text_width(s, font_size) <= max_px)
        return s;
    const auto keep =
        std::size_t(std::max(1.0, std::floor(max_px / (kEmPerChar * font_size)) - 1.0));
    std::size_t chars = 0, end = 0;
    for (; end < s.size(); ++end)
        if ((static_cast<unsigned char>(s[end]) & 0xC0) != 0x80 && chars++ == keep)
            break;
    return s.substr(0, end) + "\xE2\x80\xA6"; // U+2026 HORIZONTAL ELLIPSIS
}

std::string num(double v) {
    return fmt(v, 2);
}

double Axis::fraction(double v) const {
    if (log)
        return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    return (v - lo) / (hi - lo);
}

bool Axis::plottable(double v) const {
    return std::isfinite(v) && (!log || v > 0.0);
}

Axis make_axis(const char* which, bool log, double lo, double hi, std::optional<double> fixed_lo,
               std::optional<double> fixed_hi) {
    const std::string name = which;
    if (fixed_lo && fixed_hi && !(*fixed_lo < *fixed_hi))
        throw ConfigError("svg_plot: the " + name + " range is empty: " + fmt(*fixed_lo) + " to " +
                          fmt(*fixed_hi));
    if (log && ((fixed_lo && !(*fixed_lo > 0.0)) || (fixed_hi && !(*fixed_hi > 0.0))))
        throw ConfigError("svg_plot: the " + name + " range of a log axis must be positive, got " +
                          (fixed_lo ? fmt(*fixed_lo) : std::string("auto")) + " to " +
                          (fixed_hi ? fmt(*fixed_hi) : std::string("auto")));
    if (lo > hi) { // no data
        lo = log ? 1.0 : 0.0;
        hi = log ? 10.0 : 1.0;
    }
    if (fixed_lo)
        lo = *fixed_lo;
    if (fixed_hi)
        hi = *fixed_hi;
    if (!(lo < hi)) { // one value, or a fixed end beyond the data
        if (fixed_lo && !fixed_hi)
            hi = log ? lo * 10.0 : lo + std::max(1.0, std::abs(lo) * 0.1);
        else if (fixed_hi && !fixed_lo)
            lo = log ? hi / 10.0 : hi - std::max(1.0, std::abs(hi) * 0.1);
        else if (log) {
            lo /= 2.0;
            hi *= 2.0;
        } else {
            const double pad = lo == 0.0 ? 1.0 : std::abs(lo) * 0.1;
            lo -= pad;
            hi += pad;
        }
    }
    if (!std::isfinite(hi - lo))
        throw ConfigError("svg_plot: the " + name + " values span more than a double holds");
    Axis axis;
    axis.log = log;
    axis.lo = lo;
    axis.hi = hi;
    if (log) {
        if (!fixed_lo)
            axis.lo = std::pow(10.0, std::floor(std::log10(lo) + 1e-9));
        if (!fixed_hi)
            axis.hi = std::pow(10.0, std::ceil(std::log10(hi) - 1e-9));
        if (!(axis.lo < axis.hi))
            axis.hi = axis.lo * 10.0;
        log_ticks(axis);
    } else {
        linear_ticks(axis, !fixed_lo, !fixed_hi);
    }
    return axis;
}

bool spans_decades(std::span<const Series> series, double decades) {
    double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
    for (const Series& s : series)
        for (const double y : s.y) {
            if (!std::isfinite(y))
                continue;
            if (y <= 0.0)
                return false;
            lo = std::min(lo, y);
            hi = std::max(hi, y);
        }
    return hi > 0.0 && std::log10(hi) - std::log10(lo) >= decades - 1e-9;
}

std::size_t label_stride(std::span<const double> positions, std::span<const std::string> labels,
                         double font_size, double gap) {
    const std::size_t n = std::min(positions.size(), labels.size());
    for (std::size_t k = 1; k < n; ++k) {
        bool fits = true;
        for (std::size_t i = k; i < n && fits; i += k) {
            const double room = positions[i] - positions[i - k];
            const double need =
                (text_width(labels[i], font_size) + text_width(labels[i - k], font_size)) / 2.0 +
                gap;
            fits = room >= need;
        }
        if (fits)
            return k;
    }
    return std::max<std::size_t>(1, n);
}

} // namespace ouro::lab::plot
