// Plot parts: series, each in a colour of its own with a marker shape, drawn as lines (a gap at
// each missing value, markers at a few points), points or bars. See plot_parts.hpp.
#include "ouro/core/error.hpp"
#include "ouro/lab/html_report.hpp"
#include "ouro/lab/plot_parts.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace ouro::lab::plot {

namespace {

// Okabe and Ito's colour-blind-safe palette without its faint yellow, then the darker colours of
// Paul Tol's "muted" scheme that stand apart from them.
constexpr std::array<const char*, kMaxSeries> kColours = {
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
    "#000000", "#882255", "#999933", "#332288", "#44AA99", "#661100"};

constexpr std::array<MarkerShape, 6> kShapes = {MarkerShape::circle,        MarkerShape::square,
                                                MarkerShape::triangle,      MarkerShape::diamond,
                                                MarkerShape::triangle_down, MarkerShape::hexagon};

// Markers on a line: at most this many, so that the line stays readable.
constexpr std::size_t kLineMarkers = 12;

template <class... Parts> void append(std::string& out, const Parts&... parts) {
    (out.append(std::string_view(parts)), ...);
}

std::string polygon(std::initializer_list<std::pair<double, double>> points,
                    const std::string& colour) {
    std::string d;
    for (const auto& [x, y] : points) {
        d += d.empty() ? 'M' : 'L';
        append(d, num(x), " ", num(y));
    }
    return "<path d=\"" + d + "Z\" fill=\"" + colour + "\"/>";
}

} // namespace

SeriesStyle series_style(std::size_t k) {
    if (k >= kMaxSeries)
        throw ConfigError("svg_plot: " + std::to_string(k + 1) + " series, but only " +
                          std::to_string(kMaxSeries) + " have a colour of their own");
    return {kColours[k], kShapes[k % kShapes.size()]};
}

std::string marker_element(MarkerShape shape, double x, double y, double r,
                           const std::string& colour) {
    switch (shape) {
    case MarkerShape::circle:
        return "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"" + num(r) + "\" fill=\"" +
               colour + "\"/>";
    case MarkerShape::square: {
        const double h = r * 0.9;
        return "<rect x=\"" + num(x - h) + "\" y=\"" + num(y - h) + "\" width=\"" + num(2 * h) +
               "\" height=\"" + num(2 * h) + "\" fill=\"" + colour + "\"/>";
    }
    case MarkerShape::triangle:
        return polygon({{x, y - 1.2 * r}, {x + 1.1 * r, y + 0.8 * r}, {x - 1.1 * r, y + 0.8 * r}},
                       colour);
    case MarkerShape::triangle_down:
        return polygon({{x, y + 1.2 * r}, {x + 1.1 * r, y - 0.8 * r}, {x - 1.1 * r, y - 0.8 * r}},
                       colour);
    case MarkerShape::diamond:
        return polygon({{x, y - 1.3 * r}, {x + 1.1 * r, y}, {x, y + 1.3 * r}, {x - 1.1 * r, y}},
                       colour);
    case MarkerShape::hexagon: {
        const double a = r * 1.1, b = a * 0.866;
        return polygon({{x - a, y},
                        {x - a / 2, y - b},
                        {x + a / 2, y - b},
                        {x + a, y},
                        {x + a / 2, y + b},
                        {x - a / 2, y + b}},
                       colour);
    }
    }
    return "";
}

double Frame::px(double x) const {
    return std::clamp(x0 + xa.fraction(x) * (x1 - x0), -1e6, 1e6);
}

double Frame::py(double y) const {
    return std::clamp(y1 - ya.fraction(y) * (y1 - y0), -1e6, 1e6);
}

std::string series_element(const Series& s, std::size_t k, const Frame& frame,
                           const BarLayout& bars, std::size_t bar_index) {
    const SeriesStyle style = series_style(k);
    std::vector<std::pair<double, double>> points; // px; a NaN pair is a gap
    std::size_t drawn = 0;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (frame.xa.plottable(s.x[i]) && frame.ya.plottable(s.y[i])) {
            points.emplace_back(frame.px(s.x[i]), frame.py(s.y[i]));
            ++drawn;
        } else if (!points.empty() && !std::isnan(points.back().first)) {
            points.emplace_back(std::nan(""), std::nan(""));
        }
    }
    if (drawn == 0)
        return "";
    std::string out;
    append(out, "<g class=\"series\" data-name=\"", html_escape(sanitize_utf8(s.name)),
           "\" fill=\"", style.colour, "\">\n");
    if (s.style == Series::Style::bars) {
        const double offset =
            (double(bar_index) - double(bars.series - 1) / 2.0) * bars.width - bars.width / 2;
        for (const auto& [x, y] : points)
            if (!std::isnan(x))
                append(out, "<rect x=\"", num(x + offset), "\" y=\"", num(std::min(y, bars.base)),
                       "\" width=\"", num(bars.width), "\" height=\"", num(std::abs(bars.base - y)),
                       "\"/>\n");
        return out + "</g>\n";
    }
    const bool line = s.style == Series::Style::line || s.style == Series::Style::line_points;
    if (line) {
        std::string d;
        bool pen_down = false;
        for (const auto& [x, y] : points) {
            if (std::isnan(x)) {
                pen_down = false;
                continue;
            }
            append(d, pen_down ? "L" : "M", num(x), " ", num(y));
            pen_down = true;
        }
        append(out, "<path d=\"", d, "\" fill=\"none\" stroke=\"", style.colour,
               "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n");
    }
    // Markers: every point, or on a plain line a few evenly spread ones, shifted by the series
    // index so that the markers of two series do not sit on one another.
    const bool sparse = s.style == Series::Style::line && drawn > kLineMarkers;
    const double r = s.style == Series::Style::points ? 3.5 : 3.0;
    const double shift = std::fmod(double(k) * 0.381966, 1.0); // golden-ratio steps
    std::size_t seen = 0, next = 0;
    for (const auto& [x, y] : points) {
        if (std::isnan(x))
            continue;
        if (sparse) {
            const auto want =
                std::size_t((double(next) + shift) * double(drawn) / double(kLineMarkers));
            if (next >= kLineMarkers || seen++ != want)
                continue;
            ++next;
        }
        append(out, marker_element(style.shape, x, y, r, style.colour), "\n");
    }
    return out + "</g>\n";
}

} // namespace ouro::lab::plot
