// The text boxes of an SVG plot, estimated the way the plot lays itself out (plot::text_width:
// 0.6 em per code point, above the real width of ordinary text; ascent 0.8 em, descent 0.3 em),
// with text-anchor and the rotations svg_plot uses (-40 and -90 degrees). For the tests that no
// text passes the picture's edges and that no two labels overlap (the headless-browser test of
// the report measures the real boxes with getBBox).
#pragma once

#include <ouro/lab/plot_parts.hpp>

#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace ouro::testing {

struct TextBox {
    std::string text;
    double left = 0, top = 0, right = 0, bottom = 0;
    bool slanted = false; ///< rotated by -40 degrees (its box is wider than the text)
};

namespace detail_svg {

inline std::string attribute(std::string_view tag, std::string_view name) {
    const std::string key = " " + std::string(name) + "=\"";
    const auto at = tag.find(key);
    if (at == std::string_view::npos)
        return "";
    const auto start = at + key.size();
    return std::string(tag.substr(start, tag.find('"', start) - start));
}

// Entities count as one character.
inline std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '&') {
            const auto semi = s.find(';', i);
            out += '?';
            i = semi;
        } else {
            out += s[i];
        }
    }
    return out;
}

} // namespace detail_svg

/// The estimated box of every <text> of the svg, in the root's coordinates.
inline std::vector<TextBox> svg_text_boxes(std::string_view svg) {
    using namespace detail_svg;
    std::vector<TextBox> boxes;
    std::vector<double> font_stack = {16.0};
    std::size_t i = 0;
    while ((i = svg.find('<', i)) != std::string_view::npos) {
        const auto close = svg.find('>', i);
        const std::string_view tag = svg.substr(i, close - i + 1);
        i = close + 1;
        if (tag.rfind("</g", 0) == 0) {
            font_stack.pop_back();
            continue;
        }
        if (tag.rfind("<g", 0) == 0 && tag.find("/>") == std::string_view::npos) {
            const std::string fs = attribute(tag, "font-size");
            font_stack.push_back(fs.empty() ? font_stack.back() : std::atof(fs.c_str()));
            continue;
        }
        if (tag.rfind("<text", 0) != 0)
            continue;
        const auto end = svg.find("</text>", i);
        TextBox b;
        b.text = unescape(svg.substr(i, end - i));
        const std::string fs = attribute(tag, "font-size");
        const double size = fs.empty() ? font_stack.back() : std::atof(fs.c_str());
        const double x = std::atof(attribute(tag, "x").c_str());
        const double y = std::atof(attribute(tag, "y").c_str());
        const double w = lab::plot::text_width(b.text, size);
        const std::string anchor = attribute(tag, "text-anchor");
        const double start = anchor == "end" ? -w : anchor == "middle" ? -w / 2 : 0.0;
        const std::string transform = attribute(tag, "transform");
        const double up = 0.8 * size, down = 0.3 * size;
        if (transform.rfind("rotate(-90", 0) == 0) {
            b = {b.text, x - up, y - start - w, x + down, y - start};
        } else if (transform.rfind("rotate(-40", 0) == 0) {
            const double c = std::cos(0.6981), s = std::sin(0.6981);
            // The run from x + start to x + start + w along the rotated baseline.
            const double ax = x + start * c, ay = y - start * s;
            const double bx = x + (start + w) * c, by = y - (start + w) * s;
            b = {b.text,
                 std::min(ax, bx) - up * s,
                 std::min(ay, by) - up * c,
                 std::max(ax, bx) + down * s,
                 std::max(ay, by) + down * c,
                 true};
        } else {
            b = {b.text, x + start, y - up, x + start + w, y + down};
        }
        boxes.push_back(b);
        i = end;
    }
    return boxes;
}

/// Texts whose box passes the edges of [0, width] x [0, height], one line each ("" if none).
inline std::string texts_outside(std::string_view svg, double width, double height) {
    std::string out;
    for (const TextBox& b : svg_text_boxes(svg))
        if (b.left < -0.01 || b.top < -0.01 || b.right > width + 0.01 || b.bottom > height + 0.01)
            out += "'" + b.text + "' at [" + std::to_string(b.left) + ", " +
                   std::to_string(b.right) + "] x [" + std::to_string(b.top) + ", " +
                   std::to_string(b.bottom) + "]\n";
    return out;
}

/// Pairs of texts whose boxes overlap, one line each ("" if none). Two slanted labels (parallel
/// runs) overlap when their baselines are less than 1.1 em apart.
inline std::string texts_overlapping(std::string_view svg) {
    const std::vector<TextBox> boxes = svg_text_boxes(svg);
    std::string out;
    for (std::size_t a = 0; a < boxes.size(); ++a)
        for (std::size_t b = a + 1; b < boxes.size(); ++b) {
            const TextBox &p = boxes[a], &q = boxes[b];
            if (p.slanted && q.slanted) {
                // Parallel runs: the distance between baselines is the x offset times sin 40.
                const double apart = std::abs(p.right - q.right) * std::sin(0.6981);
                if (apart < 1.1 * 11.0)
                    out += "'" + p.text + "' and '" + q.text + "' (slanted)\n";
                continue;
            }
            if (p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom)
                out += "'" + p.text + "' and '" + q.text + "'\n";
        }
    return out;
}

} // namespace ouro::testing
