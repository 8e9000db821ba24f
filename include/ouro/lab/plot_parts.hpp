// The parts svg_plot() is built from, each small and tested on its own: text measure, axes (range,
// "nice" ticks, which tick labels fit), series (a colour and a marker shape of its own per
// series, the SVG of lines, points and bars) and the legend (items laid out in rows that never
// overlap). svg_plot.hpp has the contract of the whole plot; these are for svg_plot and tests.
#pragma once

#include "ouro/lab/svg_plot.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ouro::lab::plot {

// ---- text

/// Width estimate of text in a generic sans-serif font, in px: 0.6 em per code point, above the
/// real width of ordinary text (the headless-browser test of the report measures the real one).
double text_width(std::string_view text, double font_size);

/// The text (made valid UTF-8), cut at a code point and ended with "…" so that text_width is
/// at most max_px (never less than one code point and the ellipsis).
std::string fit_text(std::string_view text, double max_px, double font_size);

/// Coordinates as written in the SVG: fixed, two decimals.
std::string num(double v);

// ---- axes

/// One axis: the range (lo < hi; positive on a log axis), its ticks and their labels.
struct Axis {
    bool log = false;
    double lo = 0.0, hi = 1.0;
    std::vector<double> ticks;
    std::vector<std::string> labels;

    /// Where v lies between lo (0) and hi (1), on the axis' scale.
    double fraction(double v) const;
    /// Finite, and positive on a log axis.
    bool plottable(double v) const;
};

/// The axis over data values in [lo, hi] (lo > hi when there are none) with optional fixed ends:
/// linear ticks at steps of 1, 2 or 5 times a power of ten (about five intervals, the ends
/// rounded out to a tick unless fixed); log ticks at 1, 2, 5 per decade up to two decades, then
/// at powers of ten (every k-th decade beyond eight). `which` ("x" or "y") names the axis in
/// errors: ConfigError for an empty fixed range, a non-positive fixed end on a log axis, or
/// values that span more than a double holds (messages as in svg_plot.hpp).
Axis make_axis(const char* which, bool log, double lo, double hi, std::optional<double> fixed_lo,
               std::optional<double> fixed_hi);

/// Whether the y values of the series (finite ones) are all positive and span at least
/// `decades` powers of ten, so that a log axis shows them better than a linear one.
bool spans_decades(std::span<const Series> series, double decades = 3.0);

/// The smallest k >= 1 such that the labels at every k-th tick (0, k, 2k, ...), centred at
/// `positions` (px, increasing), leave at least `gap` px between neighbours.
std::size_t label_stride(std::span<const double> positions, std::span<const std::string> labels,
                         double font_size, double gap = 8.0);

// ---- series

enum class MarkerShape { circle, square, triangle, diamond, triangle_down, hexagon };

/// The look of series k: its own colour (no two series of a plot share one) and a marker shape.
struct SeriesStyle {
    std::string colour; ///< "#rrggbb"
    MarkerShape shape = MarkerShape::circle;
};

/// Series that svg_plot can give a colour of their own.
inline constexpr std::size_t kMaxSeries = 12;

/// The style of series k (0-based): colours from Okabe and Ito's colour-blind-safe palette, then
/// Paul Tol's muted one; shapes cycle. Throws ConfigError for k >= kMaxSeries: "svg_plot: 13
/// series, but only 12 have a colour of their own" (with k + 1 series).
SeriesStyle series_style(std::size_t k);

/// One marker of the shape centred at (x, y) with radius r (px), filled in `colour`: a <circle>,
/// <rect> or <path> element.
std::string marker_element(MarkerShape shape, double x, double y, double r,
                           const std::string& colour);

/// Where the data lie in the picture: the plot area and the two axes.
struct Frame {
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1; ///< plot area (px), y0 at the top
    Axis xa, ya;
    bool categorical = false;
    double px(double x) const; ///< x value to px (held to +-1e6 px)
    double py(double y) const; ///< y value to px (held to +-1e6 px)
};

/// The bars of a plot: width of one bar and the baseline (px).
struct BarLayout {
    std::size_t series = 0; ///< series drawn as bars
    double width = 0, base = 0;
};

/// The SVG of series k (nothing when it has no plottable point): a <g class="series"
/// data-name="..."> holding, for lines, a <path> (a gap at each missing value) with markers at
/// up to 12 evenly spread points (staggered between series); for points, a marker at every point;
/// for bars, a <rect> per point (bar_index-th of the group at each x).
std::string series_element(const Series& s, std::size_t k, const Frame& frame,
                           const BarLayout& bars, std::size_t bar_index);

// ---- legend

/// A legend item: the swatch's left edge, the row's centre line, the text shown and its width.
struct LegendItem {
    double x = 0, y = 0, width = 0;
    std::string text;
};

/// The legend of the named series in rows across [left, left + width]: each item is a 24 px
/// swatch, the name and a 16 px gap; names longer than the row are cut (fit_text); rows are
/// `row_height` apart starting at `top`. Items never overlap and never pass the right end.
struct LegendLayout {
    std::vector<LegendItem> items;   ///< one per series, in order ("" names take no item)
    std::vector<std::size_t> series; ///< the series index of each item
    double height = 0;               ///< rows x row_height (0 when no series has a name)
};
LegendLayout layout_legend(std::span<const Series> series, double left, double width, double top,
                           double font_size = 12.0, double row_height = 18.0);

/// The SVG group of a laid-out legend: swatch (line, marker or bar in the series' style) and text.
std::string legend_element(std::span<const Series> series, const LegendLayout& layout,
                           double font_size = 12.0);

/// Rows (0, 1, ...) for the labels of vertical markers, label i taking [lefts[i], lefts[i] +
/// widths[i]] px: each goes to the first row where it keeps 6 px from every label already there.
std::vector<int> marker_label_rows(std::span<const double> lefts, std::span<const double> widths);

} // namespace ouro::lab::plot
