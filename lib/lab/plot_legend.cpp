// Plot parts: the legend, laid out in rows above the plot area (so that it never hides data and
// never runs off the picture), and the rows of marker labels. See plot_parts.hpp.
#include "ouro/lab/html_report.hpp"
#include "ouro/lab/plot_parts.hpp"

#include <algorithm>
#include <cmath>

namespace ouro::lab::plot {

namespace {

constexpr double kSwatch = 24.0, kItemGap = 16.0, kLabelGap = 6.0;

template <class... Parts> void append(std::string& out, const Parts&... parts) {
    (out.append(std::string_view(parts)), ...);
}

} // namespace

LegendLayout layout_legend(std::span<const Series> series, double left, double width, double top,
                           double font_size, double row_height) {
    LegendLayout layout;
    double x = left;
    int row = 0;
    for (std::size_t k = 0; k < series.size(); ++k) {
        if (series[k].name.empty())
            continue;
        LegendItem item;
        item.text = fit_text(series[k].name, width - kSwatch, font_size);
        item.width = kSwatch + text_width(item.text, font_size);
        if (x > left && x + item.width > left + width) { // next row
            x = left;
            ++row;
        }
        item.x = x;
        item.y = top + row_height * (double(row) + 0.5);
        x += item.width + kItemGap;
        layout.items.push_back(std::move(item));
        layout.series.push_back(k);
    }
    layout.height = layout.items.empty() ? 0.0 : row_height * double(row + 1);
    return layout;
}

std::string legend_element(std::span<const Series> series, const LegendLayout& layout,
                           double font_size) {
    if (layout.items.empty())
        return "";
    std::string out;
    append(out, "<g class=\"legend\" font-size=\"", num(font_size), "\" fill=\"#1a1a1a\">\n");
    for (std::size_t i = 0; i < layout.items.size(); ++i) {
        const LegendItem& item = layout.items[i];
        const Series& s = series[layout.series[i]];
        const SeriesStyle style = series_style(layout.series[i]);
        const double cx = item.x + 9;
        if (s.style == Series::Style::bars)
            append(out, "<rect x=\"", num(item.x + 3), "\" y=\"", num(item.y - 5),
                   "\" width=\"12\" height=\"10\" fill=\"", style.colour, "\"/>\n");
        else {
            if (s.style != Series::Style::points)
                append(out, "<path d=\"M", num(item.x), " ", num(item.y), "h18\" stroke=\"",
                       style.colour, "\" stroke-width=\"2\"/>\n");
            append(out, marker_element(style.shape, cx, item.y, 3.5, style.colour), "\n");
        }
        append(out, "<text x=\"", num(item.x + kSwatch), "\" y=\"", num(item.y + font_size * 0.35),
               "\">", html_escape(item.text), "</text>\n");
    }
    return out + "</g>\n";
}

std::vector<int> marker_label_rows(std::span<const double> lefts, std::span<const double> widths) {
    // Per row, the intervals taken so far; each label goes to the first row where it fits.
    std::vector<std::vector<std::pair<double, double>>> taken;
    std::vector<int> rows;
    for (std::size_t i = 0; i < std::min(lefts.size(), widths.size()); ++i) {
        const double lo = lefts[i], hi = lo + widths[i];
        std::size_t row = 0;
        for (; row < taken.size(); ++row) {
            const bool clear = std::all_of(taken[row].begin(), taken[row].end(), [&](auto& t) {
                return hi + kLabelGap <= t.first || lo >= t.second + kLabelGap;
            });
            if (clear)
                break;
        }
        if (row == taken.size())
            taken.emplace_back();
        taken[row].emplace_back(lo, hi);
        rows.push_back(int(row));
    }
    return rows;
}

} // namespace ouro::lab::plot
