// SVG plots: layout (margins from the text they hold), scales with nice ticks, series, legend and
// markers. See the header for the contract.
#include "ouro/lab/svg_plot.hpp"

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/error.hpp"
#include "ouro/lab/html_report.hpp"
#include "ouro/lab/table.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>

namespace ouro::lab {

namespace {

// Appends the parts in order (instead of chains of operator+, which build temporaries).
template <class... Parts> void append(std::string& out, const Parts&... parts) {
    (out.append(std::string_view(parts)), ...);
}

// Okabe and Ito's colour-blind-safe palette, the yellow last (it is faint on white).
constexpr std::array<const char*, 8> kPalette = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                 "#E69F00", "#56B4E9", "#000000", "#F0E442"};

// Rough text widths of a sans-serif font: 0.6 em per character.
double text_px(const std::string& s, double font_size) {
    std::size_t chars = 0;
    for (const char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
            ++chars;
    return double(chars) * 0.6 * font_size;
}

std::string esc(const std::string& s) {
    return html_escape(sanitize_utf8(s));
}

// The text, cut to about max_px at a code point boundary and ended with an ellipsis when longer.
std::string fit_text(const std::string& text, double max_px, double font_size) {
    const std::string s = sanitize_utf8(text);
    if (text_px(s, font_size) <= max_px)
        return s;
    const auto keep = std::size_t(std::max(1.0, std::floor(max_px / (0.6 * font_size)) - 1.0));
    std::size_t chars = 0, end = 0;
    for (; end < s.size(); ++end)
        if ((static_cast<unsigned char>(s[end]) & 0xC0) != 0x80 && chars++ == keep)
            break;
    return s.substr(0, end) + "\xE2\x80\xA6"; // U+2026 HORIZONTAL ELLIPSIS
}

// Coordinates: two decimals.
std::string num(double v) {
    return fmt(v, 2);
}

bool is_finite(double v) {
    return std::isfinite(v);
}

// One axis: the range (lo < hi; positive on a log axis), its ticks and their labels.
struct Axis {
    bool log = false;
    double lo = 0.0, hi = 1.0;
    std::vector<double> ticks;
    std::vector<std::string> labels;

    double fraction(double v) const {
        if (log)
            return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
        return (v - lo) / (hi - lo);
    }
    bool plottable(double v) const { return is_finite(v) && (!log || v > 0.0); }
};

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
    const double largest = std::abs(v);
    if (largest >= 1e7 || step < 1e-5) {
        char buffer[32];
        const auto r =
            std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::scientific, 2);
        return std::string(buffer, r.ptr);
    }
    const int decimals = std::max(0, -int(std::floor(std::log10(step) + 1e-9)));
    return fmt(v, std::min(decimals, 17));
}

// The axis over data values in [lo, hi] (lo > hi when there are none), with optional fixed ends.
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
    Axis axis;
    axis.log = log;
    if (log) {
        if (!fixed_lo)
            lo = std::pow(10.0, std::floor(std::log10(lo) + 1e-9));
        if (!fixed_hi)
            hi = std::pow(10.0, std::ceil(std::log10(hi) - 1e-9));
        if (!(lo < hi))
            hi = lo * 10.0;
        const int first = int(std::ceil(std::log10(lo) - 1e-9));
        const int last = int(std::floor(std::log10(hi) + 1e-9));
        const int decades = last - first;
        const int every = std::max(1, (decades + 7) / 8);
        for (int e = first - 1; e <= last; ++e) {
            const std::array<double, 3> mantissas = {1.0, 2.0, 5.0};
            for (const double m : mantissas) {
                if (m != 1.0 && decades > 2)
                    continue;
                if (m == 1.0 && (e - first) % every != 0)
                    continue;
                const double v = m * std::pow(10.0, e);
                if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9))
                    continue;
                axis.ticks.push_back(v);
                axis.labels.push_back(log_label(v, e));
            }
        }
    } else {
        const double raw = (hi - lo) / 5.0;
        const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
        const double r = raw / magnitude;
        const double step = (r < 1.5 ? 1.0 : r < 3.0 ? 2.0 : r < 7.0 ? 5.0 : 10.0) * magnitude;
        if (!fixed_lo)
            lo = std::floor(lo / step + 1e-9) * step;
        if (!fixed_hi)
            hi = std::ceil(hi / step - 1e-9) * step;
        const auto first = std::int64_t(std::ceil(lo / step - 1e-9));
        const auto last = std::int64_t(std::floor(hi / step + 1e-9));
        for (std::int64_t k = first; k <= last; ++k) {
            const double v = double(k) * step;
            axis.ticks.push_back(v);
            axis.labels.push_back(linear_label(v, step));
        }
    }
    axis.lo = lo;
    axis.hi = hi;
    return axis;
}

struct Extent {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
    void add(double v) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
};

bool has_lines(Series::Style s) {
    return s == Series::Style::line || s == Series::Style::line_points;
}
bool has_points(Series::Style s) {
    return s == Series::Style::points || s == Series::Style::line_points;
}

} // namespace

std::string svg_plot(const PlotSpec& spec) {
    // ---- check the spec
    if (spec.series.empty())
        throw ConfigError("svg_plot: the spec has no series");
    for (const auto& s : spec.series)
        if (s.x.size() != s.y.size())
            throw ConfigError("svg_plot: series '" + s.name + "' has " +
                              std::to_string(s.x.size()) + " x values and " +
                              std::to_string(s.y.size()) + " y values");
    if (spec.width < 160 || spec.height < 120)
        throw ConfigError("svg_plot: the plot must be at least 160 x 120, got " +
                          std::to_string(spec.width) + " x " + std::to_string(spec.height));
    const bool categorical = !spec.x_categories.empty();
    const bool log_x = spec.log_x && !categorical;
    const auto n_cat = double(spec.x_categories.size());
    std::size_t bar_series = 0;
    for (const auto& s : spec.series)
        if (s.style == Series::Style::bars)
            ++bar_series;

    // ---- data ranges
    auto x_ok = [&](double x) { return is_finite(x) && (!log_x || x > 0.0); };
    auto y_ok = [&](double y) { return is_finite(y) && (!spec.log_y || y > 0.0); };
    Extent xe, ye;
    std::vector<double> bar_x;
    for (const auto& s : spec.series)
        for (std::size_t i = 0; i < s.x.size(); ++i)
            if (x_ok(s.x[i]) && y_ok(s.y[i])) {
                xe.add(s.x[i]);
                ye.add(s.y[i]);
                if (s.style == Series::Style::bars)
                    bar_x.push_back(s.x[i]);
            }
    for (const auto& m : spec.markers)
        if (x_ok(m.x))
            xe.add(m.x);
    if (bar_series > 0 && !spec.log_y && ye.lo <= ye.hi)
        ye.add(0.0); // bars start at zero
    std::sort(bar_x.begin(), bar_x.end());
    bar_x.erase(std::unique(bar_x.begin(), bar_x.end()), bar_x.end());
    double bar_spacing = 1.0; // in x units (linear x only)
    for (std::size_t i = 1; i < bar_x.size(); ++i)
        bar_spacing = i == 1 ? bar_x[1] - bar_x[0] : std::min(bar_spacing, bar_x[i] - bar_x[i - 1]);
    if (!categorical && !log_x && !bar_x.empty()) {
        xe.add(bar_x.front() - bar_spacing / 2.0);
        xe.add(bar_x.back() + bar_spacing / 2.0);
    }

    Axis xa, ya = make_axis("y", spec.log_y, ye.lo, ye.hi, spec.y_min, spec.y_max);
    if (categorical) {
        xa.lo = -0.5;
        xa.hi = n_cat - 0.5;
    } else {
        xa = make_axis("x", log_x, xe.lo, xe.hi, spec.x_min, spec.x_max);
    }

    // ---- layout
    const double W = spec.width, H = spec.height;
    double tick_label_px = 0.0;
    for (const auto& l : ya.labels)
        tick_label_px = std::max(tick_label_px, text_px(l, 11));
    const double left = (spec.y_label.empty() ? 10.0 : 28.0) + tick_label_px + 8.0;
    double legend_px = 0.0;
    bool legend = false;
    for (const auto& s : spec.series)
        if (!s.name.empty()) {
            legend = true;
            legend_px = std::max(legend_px, text_px(s.name, 12));
        }
    // The legend: 14 px gap, 24 px swatch, the names (cut to fit at most 40% of the width).
    const double right = legend ? std::min(W * 0.4, 48.0 + legend_px) : 16.0;
    const double top = spec.title.empty() ? 14.0 : 36.0;
    double category_px = 0.0;
    for (const auto& c : spec.x_categories)
        category_px = std::max(category_px, text_px(c, 11));
    double x0 = left, x1 = W - right;
    const bool rotate = categorical && category_px > 0.9 * (x1 - x0) / n_cat;
    double bottom = 24.0 + (spec.x_label.empty() ? 0.0 : 20.0);
    if (rotate)
        bottom += std::min(H * 0.4, category_px * 0.643); // sin 40 degrees
    const double y0 = top, y1 = H - bottom;
    if (x1 - x0 < 40.0 || y1 - y0 < 40.0)
        throw ConfigError("svg_plot: the plot area is too small for the labels in " +
                          std::to_string(spec.width) + " x " + std::to_string(spec.height));
    auto px = [&](double x) { return x0 + xa.fraction(x) * (x1 - x0); };
    auto py = [&](double y) { return y1 - ya.fraction(y) * (y1 - y0); };

    // ---- frame, grid and axes
    std::string out;
    append(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"",
           std::to_string(spec.width), "\" height=\"", std::to_string(spec.height),
           "\" viewBox=\"0 0 ", std::to_string(spec.width), " ", std::to_string(spec.height),
           "\" font-family=\"sans-serif\" role=\"img\" aria-label=\"", esc(spec.title), "\">\n");
    append(out, "<rect width=\"", num(W), "\" height=\"", num(H), "\" fill=\"#ffffff\"/>\n");
    if (!spec.title.empty())
        append(out, "<text x=\"", num((x0 + x1) / 2), "\" y=\"22\" text-anchor=\"middle\" ",
               "font-size=\"14\" font-weight=\"bold\" fill=\"#1a1a1a\">", esc(spec.title),
               "</text>\n");
    out += "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
    for (const double t : ya.ticks)
        append(out, "<line x1=\"", num(x0), "\" x2=\"", num(x1), "\" y1=\"", num(py(t)), "\" y2=\"",
               num(py(t)), "\"/>\n");
    if (!categorical)
        for (const double t : xa.ticks)
            append(out, "<line x1=\"", num(px(t)), "\" x2=\"", num(px(t)), "\" y1=\"", num(y0),
                   "\" y2=\"", num(y1), "\"/>\n");
    out += "</g>\n";
    out += "<g class=\"axes\" stroke=\"#333333\" stroke-width=\"1\" fill=\"none\">\n";
    append(out, "<path d=\"M", num(x0), " ", num(y0), "V", num(y1), "H", num(x1), "\"/>\n");
    for (const double t : ya.ticks)
        append(out, "<path d=\"M", num(x0 - 4), " ", num(py(t)), "H", num(x0), "\"/>\n");
    if (categorical)
        for (std::size_t i = 0; i < spec.x_categories.size(); ++i)
            append(out, "<path d=\"M", num(px(double(i))), " ", num(y1), "v4\"/>\n");
    else
        for (const double t : xa.ticks)
            append(out, "<path d=\"M", num(px(t)), " ", num(y1), "v4\"/>\n");
    out += "</g>\n";
    out += "<g class=\"tick-labels\" font-size=\"11\" fill=\"#333333\">\n";
    for (std::size_t i = 0; i < ya.ticks.size(); ++i)
        append(out, "<text x=\"", num(x0 - 7), "\" y=\"", num(py(ya.ticks[i]) + 4),
               "\" text-anchor=\"end\">", esc(ya.labels[i]), "</text>\n");
    if (categorical) {
        for (std::size_t i = 0; i < spec.x_categories.size(); ++i) {
            const std::string x = num(px(double(i))), y = num(y1 + 16);
            if (rotate)
                append(out, "<text x=\"", x, "\" y=\"", y, "\" text-anchor=\"end\" transform=\"",
                       "rotate(-40 ", x, " ", y, ")\">", esc(spec.x_categories[i]), "</text>\n");
            else
                append(out, "<text x=\"", x, "\" y=\"", y, "\" text-anchor=\"middle\">",
                       esc(spec.x_categories[i]), "</text>\n");
        }
    } else {
        for (std::size_t i = 0; i < xa.ticks.size(); ++i)
            append(out, "<text x=\"", num(px(xa.ticks[i])), "\" y=\"", num(y1 + 16),
                   "\" text-anchor=\"middle\">", esc(xa.labels[i]), "</text>\n");
    }
    out += "</g>\n";
    if (!spec.x_label.empty())
        append(out, "<text x=\"", num((x0 + x1) / 2), "\" y=\"", num(H - 8),
               "\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1a1a1a\">", esc(spec.x_label),
               "</text>\n");
    if (!spec.y_label.empty()) {
        const std::string x = "16", y = num((y0 + y1) / 2);
        append(out, "<text x=\"", x, "\" y=\"", y, "\" transform=\"rotate(-90 ", x, " ", y,
               ")\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1a1a1a\">", esc(spec.y_label),
               "</text>\n");
    }

    // ---- data, clipped to the plot area by a nested viewport in the same coordinates
    append(out, "<svg x=\"", num(x0), "\" y=\"", num(y0), "\" width=\"", num(x1 - x0),
           "\" height=\"", num(y1 - y0), "\" viewBox=\"", num(x0), " ", num(y0), " ", num(x1 - x0),
           " ", num(y1 - y0), "\" overflow=\"hidden\">\n");
    // Bars: a band per x position, split between the bar series.
    double band = 0.0;
    if (categorical)
        band = (x1 - x0) / n_cat;
    else if (bar_x.size() > 1) {
        band = std::numeric_limits<double>::infinity();
        for (std::size_t i = 1; i < bar_x.size(); ++i)
            band = std::min(band, px(bar_x[i]) - px(bar_x[i - 1]));
    } else
        band = std::min(40.0, (x1 - x0) / 4.0);
    const double bar_width = bar_series > 0 ? band * 0.8 / double(bar_series) : 0.0;
    const double base = spec.log_y ? y1 : std::clamp(py(0.0), y0, y1);
    std::size_t bar_index = 0;
    for (std::size_t k = 0; k < spec.series.size(); ++k) {
        const auto& s = spec.series[k];
        const std::string colour = kPalette[k % kPalette.size()];
        std::vector<std::pair<double, double>> points; // pixels, NaN pair = gap
        bool any = false;
        for (std::size_t i = 0; i < s.x.size(); ++i) {
            if (x_ok(s.x[i]) && y_ok(s.y[i])) {
                points.emplace_back(px(s.x[i]), py(s.y[i]));
                any = true;
            } else if (!points.empty() && !std::isnan(points.back().first)) {
                points.emplace_back(std::nan(""), std::nan(""));
            }
        }
        const std::string open_attrs = " class=\"series\" data-name=\"" + esc(s.name) + "\"";
        if (s.style == Series::Style::bars) {
            const double offset = (double(bar_index) - double(bar_series - 1) / 2.0) * bar_width;
            ++bar_index;
            if (!any)
                continue;
            append(out, "<g", open_attrs, " fill=\"", colour, "\">\n");
            for (const auto& [x, y] : points) {
                if (std::isnan(x))
                    continue;
                append(out, "<rect x=\"", num(x + offset - bar_width / 2), "\" y=\"",
                       num(std::min(y, base)), "\" width=\"", num(bar_width), "\" height=\"",
                       num(std::abs(base - y)), "\"/>\n");
            }
            out += "</g>\n";
            continue;
        }
        if (!any)
            continue;
        std::string path;
        if (has_lines(s.style)) {
            bool pen_down = false;
            for (const auto& [x, y] : points) {
                if (std::isnan(x)) {
                    pen_down = false;
                    continue;
                }
                path += pen_down ? 'L' : 'M';
                path += num(x);
                path += ' ';
                path += num(y);
                pen_down = true;
            }
            path = "<path" + std::string(s.style == Series::Style::line ? open_attrs : "") +
                   " d=\"" + path + "\" fill=\"none\" stroke=\"" + colour +
                   "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
        }
        if (s.style == Series::Style::line) {
            out += path;
            continue;
        }
        append(out, "<g", open_attrs, " fill=\"", colour, "\">\n", path);
        const std::string r = s.style == Series::Style::points ? "3.5" : "3";
        for (const auto& [x, y] : points)
            if (!std::isnan(x))
                append(out, "<circle cx=\"", num(x), "\" cy=\"", num(y), "\" r=\"", r, "\"/>\n");
        out += "</g>\n";
    }
    for (const auto& m : spec.markers) {
        if (!x_ok(m.x))
            continue;
        const double x = px(m.x);
        append(out, "<g class=\"marker\">\n<path d=\"M", num(x), " ", num(y0), "V", num(y1),
               "\" stroke=\"#555555\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>\n");
        if (!m.label.empty()) {
            const bool flip = x > (x0 + x1) / 2;
            append(out, "<text x=\"", num(flip ? x - 4 : x + 4), "\" y=\"", num(y0 + 13),
                   "\" text-anchor=\"", (flip ? "end" : "start"),
                   "\" font-size=\"11\" fill=\"#333333\">", esc(m.label), "</text>\n");
        }
        out += "</g>\n";
    }
    out += "</svg>\n";

    // ---- legend
    if (legend) {
        out += "<g class=\"legend\" font-size=\"12\" fill=\"#1a1a1a\">\n";
        const double lx = x1 + 14;
        for (std::size_t k = 0; k < spec.series.size(); ++k) {
            const auto& s = spec.series[k];
            const std::string colour = kPalette[k % kPalette.size()];
            const double ly = y0 + 8 + double(k) * 18;
            if (s.style == Series::Style::bars)
                append(out, "<rect x=\"", num(lx + 3), "\" y=\"", num(ly - 5),
                       "\" width=\"12\" height=\"10\" fill=\"", colour, "\"/>\n");
            if (has_lines(s.style))
                append(out, "<path d=\"M", num(lx), " ", num(ly), "h18\" stroke=\"", colour,
                       "\" stroke-width=\"2\"/>\n");
            if (has_points(s.style))
                append(out, "<circle cx=\"", num(lx + 9), "\" cy=\"", num(ly),
                       "\" r=\"3.5\" fill=\"", colour, "\"/>\n");
            append(out, "<text x=\"", num(lx + 24), "\" y=\"", num(ly + 4), "\">",
                   html_escape(fit_text(s.name, right - 46.0, 12)), "</text>\n");
        }
        out += "</g>\n";
    }
    out += "</svg>";
    return out;
}

void write_svg(const std::filesystem::path& path, const PlotSpec& spec) {
    write_file_atomic(path, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg_plot(spec) + "\n");
}

} // namespace ouro::lab
