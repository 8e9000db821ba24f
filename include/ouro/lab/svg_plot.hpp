// Plots of the lab as self-contained SVG: lines, points and bars over a numeric or a categorical
// x axis, log axes, "nice" ticks (steps of 1, 2 or 5 times a power of ten, as in Heckbert's
// "Nice numbers for graph labels", Graphics Gems 1990), a legend, and dashed vertical markers
// (e.g. the onset of a loop). The same spec gives the same bytes: numbers are written with fixed
// precision and nothing depends on the locale, the time or the machine. The parts (axes, series,
// legend) are in plot_parts.hpp.
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
    int width = 960, height = 420; ///< the viewBox; a report draws the plot at its full width
};

/// One self-contained <svg> element (xmlns set, viewBox, no external references, no script, no
/// fonts to download: font-family generic sans-serif): axes with "nice" ticks and tick labels
/// (labels that would overlap are thinned), axis labels, title, a legend in rows above the plot
/// area, markers. Every series has a colour of its own (Okabe and Ito's colour-blind-safe
/// palette, then Paul Tol's muted one; never reused, so at most plot::kMaxSeries series) and a
/// marker shape. Every drawn series is one <g> with class="series" and data-name="<escaped name>"
/// holding a <path> for lines (with markers at up to 12 points), a marker per point for points
/// and line_points, a <rect> per bar for bars; the root <svg> has class="plot". The y axis is
/// logarithmic when log_y is set, or when no y range is fixed, no series is bars and the values
/// are positive and span three decades or more (plot::spans_decades). Text that would not fit is
/// cut with "…" (title, axis labels, legend names, category labels, marker labels), so no text
/// passes the edges of the picture. All text is XML-escaped (and made valid UTF-8). Throws
/// ConfigError for series with x/y of different length or a spec with no series
/// ("svg_plot: series 'greedy' has 10 x values and 9 y values", "svg_plot: the spec has no
/// series"), for more series than colours ("svg_plot: 13 series, but only 12 have a colour of
/// their own"), for a size below 160 x 120 ("svg_plot: the plot must be at least 160 x 120, got
/// 100 x 360") and for a fixed range that is empty or, on a log axis, not positive ("svg_plot:
/// the y range is empty: 2.000 to 1.000", "svg_plot: the x range of a log axis must be positive,
/// got 0.000 to 10.000"). A series with no finite point draws nothing but still appears in the
/// legend.
/// Points outside fixed ranges are clipped to the plot area (and a 6 px margin, so that markers on
/// its edge are whole). Throws ConfigError when the values of an axis span more than a double holds
/// ("svg_plot: the y values span more than a double holds"). Output is deterministic (coordinates
/// with 2 decimals) so the same data gives the same bytes.
std::string svg_plot(const PlotSpec& spec);

/// Writes svg_plot(spec) with an XML declaration as a standalone .svg file, atomically; IoError
/// names the path.
void write_svg(const std::filesystem::path& path, const PlotSpec& spec);

} // namespace ouro::lab
