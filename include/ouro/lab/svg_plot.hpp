// Plots of the lab as self-contained SVG: lines, points and bars over a numeric or a categorical
// x axis, log axes, "nice" ticks (steps of 1, 2 or 5 times a power of ten, as in Heckbert's
// "Nice numbers for graph labels", Graphics Gems 1990), a legend, and dashed vertical markers
// (e.g. the onset of a loop). The same spec gives the same bytes: numbers are written with fixed
// precision and nothing depends on the locale, the time or the machine.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ouro::lab {

struct Series {
    std::string name;         ///< legend text
    std::vector<double> x, y; ///< same length; NaN y values break a line (gap) and are skipped
    enum class Style { line, points, line_points, bars } style = Style::line;
};

/// A vertical dashed line with a label (e.g. "loop onset").
struct Marker {
    double x;
    std::string label;
};

struct PlotSpec {
    std::string title, x_label, y_label;
    std::vector<Series> series;
    std::vector<Marker> markers;
    bool log_x = false, log_y = false; ///< non-positive values are skipped on a log axis
    std::optional<double> y_min, y_max, x_min,
        x_max; ///< fixed ranges; otherwise from the data with nice ticks
    std::vector<std::string> x_categories; ///< when non-empty: bar/point charts over named
                                           ///< categories (x = index 0..n-1), labels under the
                                           ///< axis (rotated when long)
    int width = 640, height = 360;
};

/// One self-contained <svg> element (xmlns set, viewBox, no external references, no script, no
/// fonts to download: font-family generic sans-serif): axes with "nice" ticks and tick labels, axis
/// labels, title, a legend, a colour per series from a fixed colour-blind-safe palette (Okabe and
/// Ito), markers. Every drawn series is one element with class="series" and data-name="<escaped
/// name>" (a <path> for lines, a <g> of <circle>/<rect> for points/bars, a <g> of a <path> and
/// <circle>s for line_points); the root <svg> has class="plot". All text is XML-escaped (and made
/// valid UTF-8). Throws ConfigError for series with x/y of different length or a spec with no
/// series
/// ("svg_plot: series 'greedy' has 10 x values and 9 y values", "svg_plot: the spec has no
/// series"), for a size below 160 x 120 ("svg_plot: the plot must be at least 160 x 120, got 100 x
/// 360") and for a fixed range that is empty or, on a log axis, not positive ("svg_plot: the y
/// range is empty: 2.000 to 1.000", "svg_plot: the x range of a log axis must be positive, got
/// 0.000 to 10.000"). A series with no finite point draws nothing but still appears in the legend.
/// Points outside fixed ranges are clipped to the plot area. Output is deterministic (coordinates
/// with 2 decimals) so the same data gives the same bytes.
std::string svg_plot(const PlotSpec& spec);

/// Writes svg_plot(spec) with an XML declaration as a standalone .svg file, atomically; IoError
/// names the path.
void write_svg(const std::filesystem::path& path, const PlotSpec& spec);

} // namespace ouro::lab
