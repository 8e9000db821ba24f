// SVG plots: checks the spec, finds the data ranges, lays out the picture (margins from the text
// they hold) and draws it from the parts of plot_parts.hpp: axes, series, legend, markers. See
// svg_plot.hpp for the contract.
#include "ouro/lab/svg_plot.hpp"

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/error.hpp"
#include "ouro/lab/html_report.hpp"
#include "ouro/lab/plot_parts.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ouro::lab {

namespace {

using plot::num;
using plot::text_width;

template <class... Parts> void append(std::string& out, const Parts&... parts) {
    (out.append(std::string_view(parts)), ...);
}

std::string esc(std::string_view s) {
    return html_escape(sanitize_utf8(s));
}

constexpr double kTick = 11.0, kLabel = 12.0, kTitle = 14.0;
constexpr double kCos40 = 0.766, kSin40 = 0.643;

void check_spec(const PlotSpec& spec) {
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
    if (spec.series.size() > plot::kMaxSeries)
        plot::series_style(spec.series.size() - 1); // throws: more series than colours
}

struct Extent {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
    void add(double v) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
};

// The axes of the spec (x over categories: -0.5 to n - 0.5) and the distinct x of bars.
struct Scales {
    plot::Axis xa, ya;
    std::vector<double> bar_x;
    std::size_t bar_series = 0;
};

Scales make_scales(const PlotSpec& spec, bool log_y) {
    Scales sc;
    const bool categorical = !spec.x_categories.empty();
    const bool log_x = spec.log_x && !categorical;
    auto x_ok = [&](double x) { return std::isfinite(x) && (!log_x || x > 0.0); };
    auto y_ok = [&](double y) { return std::isfinite(y) && (!log_y || y > 0.0); };
    Extent xe, ye;
    for (const auto& s : spec.series) {
        sc.bar_series += s.style == Series::Style::bars;
        for (std::size_t i = 0; i < s.x.size(); ++i)
            if (x_ok(s.x[i]) && y_ok(s.y[i])) {
                xe.add(s.x[i]);
                ye.add(s.y[i]);
                if (s.style == Series::Style::bars)
                    sc.bar_x.push_back(s.x[i]);
            }
    }
    for (const auto& m : spec.markers)
        if (x_ok(m.x))
            xe.add(m.x);
    if (sc.bar_series > 0 && !log_y && ye.lo <= ye.hi)
        ye.add(0.0); // bars start at zero
    std::sort(sc.bar_x.begin(), sc.bar_x.end());
    sc.bar_x.erase(std::unique(sc.bar_x.begin(), sc.bar_x.end()), sc.bar_x.end());
    if (!categorical && !log_x && !sc.bar_x.empty()) { // half a bar's spacing beyond the ends
        double spacing = 1.0;
        for (std::size_t i = 1; i < sc.bar_x.size(); ++i)
            spacing = i == 1 ? sc.bar_x[1] - sc.bar_x[0]
                             : std::min(spacing, sc.bar_x[i] - sc.bar_x[i - 1]);
        xe.add(sc.bar_x.front() - spacing / 2.0);
        xe.add(sc.bar_x.back() + spacing / 2.0);
    }
    sc.ya = plot::make_axis("y", log_y, ye.lo, ye.hi, spec.y_min, spec.y_max);
    if (categorical) {
        sc.xa.lo = -0.5;
        sc.xa.hi = double(spec.x_categories.size()) - 0.5;
    } else {
        sc.xa = plot::make_axis("x", log_x, xe.lo, xe.hi, spec.x_min, spec.x_max);
    }
    return sc;
}

double widest(const std::vector<std::string>& texts, double font_size) {
    double w = 0.0;
    for (const auto& t : texts)
        w = std::max(w, text_width(t, font_size));
    return w;
}

// Where everything goes: the plot area, the legend, the category labels.
struct Layout {
    plot::Frame frame;
    plot::LegendLayout legend;
    bool rotate = false;
    std::vector<std::string> categories; // cut to fit
};

Layout make_layout(const PlotSpec& spec, const Scales& sc) {
    const double W = spec.width, H = spec.height;
    const bool categorical = !spec.x_categories.empty();
    const auto n_cat = double(spec.x_categories.size());
    Layout l;
    // Left: the y label, the widest y tick label; room for half the first x tick label.
    double left = (spec.y_label.empty() ? 10.0 : 28.0) + widest(sc.ya.labels, kTick) + 8.0;
    double right = 16.0;
    if (!categorical && !sc.xa.labels.empty()) {
        left = std::max(left, text_width(sc.xa.labels.front(), kTick) / 2 + 4);
        right = std::max(right, text_width(sc.xa.labels.back(), kTick) / 2 + 4);
    }
    // Categories: rotated by 40 degrees when they do not fit under their band; cut so that they
    // take at most 40% of the height, and the first one does not pass the left edge.
    if (categorical) {
        const double band = (W - left - right) / n_cat;
        l.rotate = widest(spec.x_categories, kTick) > 0.9 * band;
        const double max_px = l.rotate ? H * 0.4 / kSin40 : band - 4.0;
        for (const auto& c : spec.x_categories)
            l.categories.push_back(plot::fit_text(c, max_px, kTick));
        // The first label's run reaches cos 40 x its width left of its band's centre, its top
        // edge another 0.8 em x sin 40; the band narrows as the margin grows, so twice.
        for (int pass = 0; l.rotate && pass < 2; ++pass) {
            const double reach =
                kCos40 * text_width(l.categories.front(), kTick) + 0.8 * kTick * kSin40 + 4.0;
            left = std::max(left, reach - (W - left - right) / n_cat / 2);
        }
    }
    const double legend_top = spec.title.empty() ? 8.0 : 32.0;
    l.legend = plot::layout_legend(spec.series, left, W - left - right, legend_top);
    const double top = legend_top + l.legend.height + (l.legend.height > 0 ? 8.0 : 6.0);
    double bottom = 24.0 + (spec.x_label.empty() ? 0.0 : 20.0);
    if (l.rotate)
        bottom += kSin40 * widest(l.categories, kTick);
    l.frame.x0 = left;
    l.frame.x1 = W - right;
    l.frame.y0 = top;
    l.frame.y1 = H - bottom;
    if (l.frame.x1 - l.frame.x0 < 40.0 || l.frame.y1 - l.frame.y0 < 40.0)
        throw ConfigError("svg_plot: the plot area is too small for the labels in " +
                          std::to_string(spec.width) + " x " + std::to_string(spec.height));
    l.frame.xa = sc.xa;
    l.frame.ya = sc.ya;
    l.frame.categorical = categorical;
    return l;
}

// Grid lines, axis lines, ticks and tick labels (thinned where they would overlap).
std::string axes_element(const PlotSpec& spec, const Layout& l) {
    const plot::Frame& f = l.frame;
    std::string out = "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
    for (const double t : f.ya.ticks)
        append(out, "<line x1=\"", num(f.x0), "\" x2=\"", num(f.x1), "\" y1=\"", num(f.py(t)),
               "\" y2=\"", num(f.py(t)), "\"/>\n");
    if (!f.categorical)
        for (const double t : f.xa.ticks)
            append(out, "<line x1=\"", num(f.px(t)), "\" x2=\"", num(f.px(t)), "\" y1=\"",
                   num(f.y0), "\" y2=\"", num(f.y1), "\"/>\n");
    out += "</g>\n<g class=\"axes\" stroke=\"#333333\" stroke-width=\"1\" fill=\"none\">\n";
    append(out, "<path d=\"M", num(f.x0), " ", num(f.y0), "V", num(f.y1), "H", num(f.x1), "\"/>\n");
    for (const double t : f.ya.ticks)
        append(out, "<path d=\"M", num(f.x0 - 4), " ", num(f.py(t)), "H", num(f.x0), "\"/>\n");
    std::vector<double> xs;
    if (f.categorical)
        for (std::size_t i = 0; i < l.categories.size(); ++i)
            xs.push_back(f.px(double(i)));
    else
        for (const double t : f.xa.ticks)
            xs.push_back(f.px(t));
    for (const double x : xs)
        append(out, "<path d=\"M", num(x), " ", num(f.y1), "v4\"/>\n");
    out += "</g>\n<g class=\"tick-labels\" font-size=\"11\" fill=\"#333333\">\n";
    // y labels: at least 13 px apart (the ticks run bottom to top, so y decreases).
    double last_y = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < f.ya.ticks.size(); ++i) {
        const double y = f.py(f.ya.ticks[i]);
        if (last_y - y < kTick + 2)
            continue;
        last_y = y;
        append(out, "<text x=\"", num(f.x0 - 7), "\" y=\"", num(y + 4), "\" text-anchor=\"end\">",
               esc(f.ya.labels[i]), "</text>\n");
    }
    const std::string y = num(f.y1 + 17);
    if (f.categorical) {
        for (std::size_t i = 0; i < l.categories.size(); ++i) {
            const std::string x = num(xs[i]);
            append(out, "<text x=\"", x, "\" y=\"", y, "\" text-anchor=\"",
                   l.rotate ? "end" : "middle", "\"");
            if (l.rotate)
                append(out, " transform=\"rotate(-40 ", x, " ", y, ")\"");
            append(out, ">", esc(l.categories[i]), "</text>\n");
        }
    } else {
        const std::size_t stride = plot::label_stride(xs, f.xa.labels, kTick);
        for (std::size_t i = 0; i < xs.size(); i += stride)
            append(out, "<text x=\"", num(xs[i]), "\" y=\"", y, "\" text-anchor=\"middle\">",
                   esc(f.xa.labels[i]), "</text>\n");
    }
    out += "</g>\n";
    const double W = spec.width, H = spec.height;
    if (!spec.x_label.empty())
        append(out, "<text x=\"", num((f.x0 + f.x1) / 2), "\" y=\"", num(H - 8),
               "\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1a1a1a\">",
               esc(plot::fit_text(spec.x_label, std::min(f.x1 - f.x0, W - 8), kLabel)),
               "</text>\n");
    if (!spec.y_label.empty()) {
        const std::string x = "16", yc = num((f.y0 + f.y1) / 2);
        append(out, "<text x=\"", x, "\" y=\"", yc, "\" transform=\"rotate(-90 ", x, " ", yc,
               ")\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1a1a1a\">",
               esc(plot::fit_text(spec.y_label, f.y1 - f.y0, kLabel)), "</text>\n");
    }
    return out;
}

// Dashed vertical markers with their labels (in rows where they would overlap).
std::string markers_element(const PlotSpec& spec, const plot::Frame& f) {
    std::vector<double> xs, lefts, widths;
    std::vector<bool> flips;
    std::vector<std::string> labels;
    for (const auto& m : spec.markers) {
        if (!f.xa.plottable(m.x))
            continue;
        xs.push_back(f.px(m.x));
        flips.push_back(xs.back() > (f.x0 + f.x1) / 2);
        labels.push_back(plot::fit_text(m.label, (f.x1 - f.x0) / 2 - 8, kTick));
        widths.push_back(m.label.empty() ? 0.0 : text_width(labels.back(), kTick) + 4);
        lefts.push_back(flips.back() ? xs.back() - widths.back() : xs.back());
    }
    const std::vector<int> rows = plot::marker_label_rows(lefts, widths);
    std::string out;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        append(out, "<g class=\"marker\">\n<path d=\"M", num(xs[i]), " ", num(f.y0), "V", num(f.y1),
               "\" stroke=\"#555555\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>\n");
        if (!labels[i].empty())
            append(out, "<text x=\"", num(flips[i] ? xs[i] - 4 : xs[i] + 4), "\" y=\"",
                   num(f.y0 + 13 + 13 * rows[i]), "\" text-anchor=\"", (flips[i] ? "end" : "start"),
                   "\" font-size=\"11\" fill=\"#333333\">", esc(labels[i]), "</text>\n");
        out += "</g>\n";
    }
    return out;
}

} // namespace

std::string svg_plot(const PlotSpec& spec) {
    check_spec(spec);
    const bool has_bars = std::any_of(spec.series.begin(), spec.series.end(),
                                      [](auto& s) { return s.style == Series::Style::bars; });
    const bool log_y =
        spec.log_y || (!spec.y_min && !spec.y_max && !has_bars && plot::spans_decades(spec.series));
    const Scales sc = make_scales(spec, log_y);
    const Layout l = make_layout(spec, sc);
    const plot::Frame& f = l.frame;
    const double W = spec.width, H = spec.height;

    std::string out;
    append(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"",
           std::to_string(spec.width), "\" height=\"", std::to_string(spec.height),
           "\" viewBox=\"0 0 ", std::to_string(spec.width), " ", std::to_string(spec.height),
           "\" font-family=\"sans-serif\" role=\"img\" aria-label=\"", esc(spec.title), "\">\n");
    append(out, "<rect width=\"", num(W), "\" height=\"", num(H), "\" fill=\"#ffffff\"/>\n");
    if (!spec.title.empty())
        append(out, "<text x=\"", num(W / 2), "\" y=\"22\" text-anchor=\"middle\" ",
               "font-size=\"14\" font-weight=\"bold\" fill=\"#1a1a1a\">",
               esc(plot::fit_text(spec.title, W - 16, kTitle)), "</text>\n");
    out += plot::legend_element(spec.series, l.legend);
    out += axes_element(spec, l);

    // The data, clipped by a nested viewport in the same coordinates: the plot area and a margin
    // of a marker's size, so that a point on the edge of the range is drawn whole.
    const double pad = 6.0;
    const std::string cx = num(f.x0 - pad), cy = num(f.y0 - pad), cw = num(f.x1 - f.x0 + 2 * pad),
                      ch = num(f.y1 - f.y0 + 2 * pad);
    append(out, "<svg x=\"", cx, "\" y=\"", cy, "\" width=\"", cw, "\" height=\"", ch,
           "\" viewBox=\"", cx, " ", cy, " ", cw, " ", ch, "\" overflow=\"hidden\">\n");
    // Bars: a band per x position, split between the bar series.
    double band = 0.0;
    if (f.categorical)
        band = (f.x1 - f.x0) / double(spec.x_categories.size());
    else if (sc.bar_x.size() > 1) {
        band = std::numeric_limits<double>::infinity();
        for (std::size_t i = 1; i < sc.bar_x.size(); ++i)
            band = std::min(band, f.px(sc.bar_x[i]) - f.px(sc.bar_x[i - 1]));
    } else
        band = std::min(40.0, (f.x1 - f.x0) / 4.0);
    plot::BarLayout bars;
    bars.series = sc.bar_series;
    bars.width = sc.bar_series > 0 ? band * 0.8 / double(sc.bar_series) : 0.0;
    bars.base = log_y ? f.y1 : std::clamp(f.py(0.0), f.y0, f.y1);
    std::size_t bar_index = 0;
    for (std::size_t k = 0; k < spec.series.size(); ++k) {
        const bool bar = spec.series[k].style == Series::Style::bars;
        out += plot::series_element(spec.series[k], k, f, bars, bar ? bar_index : 0);
        bar_index += bar;
    }
    out += markers_element(spec, f);
    out += "</svg>\n</svg>";
    return out;
}

void write_svg(const std::filesystem::path& path, const PlotSpec& spec) {
    write_file_atomic(path, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg_plot(spec) + "\n");
}

} // namespace ouro::lab
