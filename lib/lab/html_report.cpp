// The self-contained HTML report and its validator. See the header for what the page holds and
// what the validator checks. The page's only script measures the plots (SVG getBBox) so that a
// headless browser can tell that they were drawn.
#include "ouro/lab/html_report.hpp"

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/error.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <utility>

namespace ouro::lab {

namespace {

// Appends the parts in order (instead of chains of operator+, which build temporaries).
template <class... Parts> void append(std::string& out, const Parts&... parts) {
    (out.append(std::string_view(parts)), ...);
}

constexpr const char* kStyle = R"(
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
  background: #ffffff; margin: 0; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; }
h1, h2, h3, h4 { line-height: 1.2; margin: 1.4em 0 0.5em; }
h1 { font-size: 1.9em; margin-top: 0.6em; }
pre { background: #f5f5f5; padding: 10px 12px; overflow-x: auto; font-size: 0.88em; }
table.data { border-collapse: collapse; margin: 12px 0 20px; font-size: 0.92em; display: block;
  max-width: 100%; overflow-x: auto; }
table.data caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 6px; }
table.data th, table.data td { border-bottom: 1px solid #dddddd; padding: 3px 10px; text-align: left; }
table.data th { border-bottom: 2px solid #888888; }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 16px 0 24px; }
figure svg { width: 100%; height: auto; display: block; }
p.headline { font-size: 1.25em; line-height: 1.4; background: #f2f7fc;
  border-left: 4px solid #0072B2;
  padding: 10px 14px; margin: 12px 0 20px; }
dl.defs { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; font-size: 0.88em;
  color: #333333; margin: -8px 0 20px; }
dl.defs dt { font-weight: 600; }
dl.defs dd { margin: 0; }
table.data td.missing { text-align: center; color: #888888; }
figcaption { font-size: 0.9em; color: #444444; margin-top: 4px; }
.shaded { margin: 12px 0 20px; }
.tokens { white-space: pre-wrap; font-family: ui-monospace, "DejaVu Sans Mono", monospace;
  font-size: 0.9em; line-height: 1.9; border: 1px solid #dddddd; padding: 8px 10px; }
.tok { border-radius: 2px; }
.tok.dark { color: #ffffff; }
.tok.loop { text-decoration-line: underline; text-decoration-color: #d00000;
  text-decoration-thickness: 2px; text-underline-offset: 3px; }
.tok.prompt { font-style: italic; font-weight: 700; }
.tok[data-tip] { position: relative; cursor: help; }
.tok[data-tip]:hover { outline: 2px solid #D55E00; }
.tok[data-tip]:hover::after { content: attr(data-tip); position: absolute; left: 0; top: 1.8em;
  z-index: 10; white-space: pre; background: #1a1a1a; color: #ffffff; font-size: 0.85rem;
  font-style: normal; font-weight: 400; line-height: 1.4; padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 2px 8px rgba(0, 0, 0, 0.3); pointer-events: none; }
.onset { font-family: system-ui, sans-serif; font-size: 0.75em; font-weight: 700; color: #ffffff;
  background: #d00000; border-radius: 3px; padding: 1px 5px; margin: 0 3px; white-space: nowrap; }
.legend { display: flex; align-items: center; gap: 8px; font-size: 0.85em; color: #333333;
  margin-top: 6px; flex-wrap: wrap; }
.legend .ramp { display: inline-block; width: 160px; height: 12px; border: 1px solid #bbbbbb;
  background: linear-gradient(to right, #f7fbff, #c6dbef, #6baed6, #2171b5, #08306b); }
.legend .sample { padding: 0 4px; border: 1px solid #dddddd; }
.side-by-side { display: grid; gap: 16px; margin: 12px 0 20px; }
.side-by-side > section { min-width: 0; }
.side-by-side h4 { margin-top: 0.2em; }
)";

constexpr const char* kScript = R"(
window.addEventListener("load", function () {
  var plots = document.querySelectorAll("svg.plot");
  var drawn = 0;
  plots.forEach(function (plot) {
    var series = plot.querySelectorAll(".series");
    var ok = series.length > 0;
    series.forEach(function (s) {
      var box = s.getBBox();
      s.setAttribute("data-drawn-width", String(Math.round(box.width)));
      s.setAttribute("data-drawn-height", String(Math.round(box.height)));
      if (!(box.width > 0 || box.height > 0)) ok = false;
    });
    if (ok) drawn += 1;
  });
  document.body.setAttribute("data-plots-drawn", String(drawn));
  document.body.setAttribute("data-plots", String(plots.length));
  // Text of the plots in the plot's own units: the screen box scaled by the viewBox.
  var texts = 0, outside = 0, overlapping = 0, problems = [];
  plots.forEach(function (plot) {
    var frame = plot.getBoundingClientRect(), view = plot.viewBox.baseVal;
    var sx = view.width / frame.width, sy = view.height / frame.height;
    var boxes = [];
    plot.querySelectorAll("text").forEach(function (t) {
      var r = t.getBoundingClientRect();
      var b = {left: (r.left - frame.left) * sx, right: (r.right - frame.left) * sx,
               top: (r.top - frame.top) * sy, bottom: (r.bottom - frame.top) * sy,
               slanted: /rotate\(-40/.test(t.getAttribute("transform") || ""),
               x: Number(t.getAttribute("x")), text: t.textContent,
               size: parseFloat(getComputedStyle(t).fontSize)};
      texts += 1;
      if (b.left < -0.5 || b.top < -0.5 || b.right > view.width + 0.5 ||
          b.bottom > view.height + 0.5) {
        outside += 1;
        problems.push("outside: " + b.text);
      }
      boxes.push(b);
    });
    for (var i = 0; i < boxes.length; ++i)
      for (var j = i + 1; j < boxes.length; ++j) {
        var p = boxes[i], q = boxes[j], hit;
        if (p.slanted && q.slanted) // parallel runs: their baselines' distance
          hit = Math.abs(p.x - q.x) * Math.sin(40 * Math.PI / 180) < 0.9 * p.size;
        else
          hit = Math.min(p.right, q.right) - Math.max(p.left, q.left) > 1 &&
                Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 1;
        if (hit) {
          overlapping += 1;
          problems.push("overlap: " + p.text + " / " + q.text);
        }
      }
  });
  document.body.setAttribute("data-plot-texts", String(texts));
  document.body.setAttribute("data-texts-outside", String(outside));
  document.body.setAttribute("data-texts-overlapping", String(overlapping));
  document.body.setAttribute("data-text-problems", problems.slice(0, 5).join(" | "));
});
)";

std::string escape(std::string_view text) {
    return html_escape(sanitize_utf8(text));
}

} // namespace

// ---- escaping ----------------------------------------------------------------------------------

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string sanitize_utf8(std::string_view s) {
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        if (b0 < 0x80) {
            const bool allowed = b0 >= 0x20 || b0 == '\t' || b0 == '\n' || b0 == '\r';
            if (allowed)
                out += char(b0);
            else
                out += kReplacement;
            ++i;
            continue;
        }
        // Length and the range of the second byte (Unicode Table 3-7, well-formed sequences).
        std::size_t length = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF)
            length = 2;
        else if (b0 == 0xE0)
            length = 3, lo = 0xA0;
        else if (b0 == 0xED)
            length = 3, hi = 0x9F;
        else if (b0 >= 0xE1 && b0 <= 0xEF)
            length = 3;
        else if (b0 == 0xF0)
            length = 4, lo = 0x90;
        else if (b0 == 0xF4)
            length = 4, hi = 0x8F;
        else if (b0 >= 0xF1 && b0 <= 0xF3)
            length = 4;
        if (length == 0) { // a continuation byte or a byte that never starts a sequence
            out += kReplacement;
            ++i;
            continue;
        }
        std::size_t valid = 1; // bytes of the maximal well-formed prefix
        while (valid < length && i + valid < s.size()) {
            const auto b = static_cast<unsigned char>(s[i + valid]);
            const unsigned char l = valid == 1 ? lo : 0x80, h = valid == 1 ? hi : 0xBF;
            if (b < l || b > h)
                break;
            ++valid;
        }
        if (valid == length)
            out.append(s.substr(i, length));
        else
            out += kReplacement;
        i += valid;
    }
    return out;
}

std::string shade_colour(double value) {
    if (std::isnan(value))
        return "";
    // Light to dark blue; linear interpolation between five stops.
    static constexpr std::array<std::array<int, 3>, 5> stops = {{{0xf7, 0xfb, 0xff},
                                                                 {0xc6, 0xdb, 0xef},
                                                                 {0x6b, 0xae, 0xd6},
                                                                 {0x21, 0x71, 0xb5},
                                                                 {0x08, 0x30, 0x6b}}};
    const double v = std::clamp(value, 0.0, 1.0) * double(stops.size() - 1);
    const auto k = std::min(std::size_t(v), stops.size() - 2);
    const double t = v - double(k);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "#";
    for (std::size_t c = 0; c < 3; ++c) {
        const double x = double(stops[k][c]) + t * double(stops[k + 1][c] - stops[k][c]);
        const int byte = std::clamp(int(std::lround(x)), 0, 255);
        out += hex[byte >> 4];
        out += hex[byte & 15];
    }
    return out;
}

// ---- the report --------------------------------------------------------------------------------

HtmlReport::HtmlReport(std::string title) : title_(std::move(title)) {
    if (title_.find_first_not_of(" \t\r\n") == std::string::npos)
        throw ConfigError("HtmlReport: the title is empty");
}

void HtmlReport::heading(int level, const std::string& text, const std::string& id) {
    if (level < 1 || level > 4)
        throw ConfigError("HtmlReport::heading: level must be 1..4, got " + std::to_string(level));
    const std::string tag = std::string("h") += std::to_string(level);
    body_ += '<';
    body_ += tag;
    if (!id.empty())
        append(body_, " id=\"", escape(id), "\"");
    append(body_, ">", escape(text), "</", tag, ">\n");
}

void HtmlReport::paragraph(const std::string& text) {
    append(body_, "<p>", escape(text), "</p>\n");
}

void HtmlReport::preformatted(const std::string& text) {
    append(body_, "<pre>", escape(text), "</pre>\n");
}

namespace {

bool is_missing(const std::string& cell) {
    return cell.empty() || cell == "nan" || cell == "-" || cell == "n/a" || cell == kMissing;
}

// A token's text for the hover box: quoted, a newline shown as a return arrow.
std::string shown_token(std::string_view text) {
    std::string out = "\"";
    for (const char c : sanitize_utf8(text))
        out += c == '\n' ? std::string("\xE2\x86\xB5") : std::string(1, c);
    return out + "\"";
}

} // namespace

std::string token_tip(const ShadedToken& t) {
    std::string out;
    if (!std::isnan(t.prob))
        out += "p = " + fmt(t.prob);
    if (!std::isnan(t.entropy))
        out += (out.empty() ? "" : " \xC2\xB7 ") + ("entropy " + fmt(t.entropy, 2) + " nats");
    if (!t.alternatives.empty()) {
        out += out.empty() ? "most likely next:" : "\nmost likely next:";
        for (const TokenAlternative& a : t.alternatives)
            out += "\n  " + fmt(a.prob) + "  " + shown_token(a.text);
    }
    return out;
}

void HtmlReport::definitions(const std::vector<std::pair<std::string, std::string>>& terms) {
    if (terms.empty())
        return;
    body_ += "<dl class=\"defs\">\n";
    for (const auto& [term, definition] : terms)
        append(body_, "<dt>", escape(term), "</dt><dd>", escape(definition), "</dd>\n");
    body_ += "</dl>\n";
}

void HtmlReport::headline(const std::string& text) {
    append(body_, "<p class=\"headline\">", escape(text), "</p>\n");
}

void HtmlReport::table(const Table& table, const std::string& caption) {
    const auto& columns = table.columns();
    const auto& rows = table.rows();
    body_ += "<table class=\"data\">\n";
    if (!caption.empty())
        append(body_, "<caption>", escape(caption), "</caption>\n");
    body_ += "<thead><tr>";
    for (std::size_t c = 0; c < columns.size(); ++c) {
        const bool numeric = !rows.empty() && std::all_of(rows.begin(), rows.end(), [&](auto& r) {
            return is_number_cell(r[c]) || is_missing(r[c]);
        });
        body_ += numeric ? "<th class=\"num\">" : "<th>";
        append(body_, escape(columns[c]), "</th>");
    }
    body_ += "</tr></thead>\n<tbody>\n";
    for (const auto& row : rows) {
        body_ += "<tr>";
        for (const auto& cell : row)
            if (is_missing(cell))
                append(body_, "<td class=\"missing\" title=\"no value\">", kMissing, "</td>");
            else
                body_ +=
                    (is_number_cell(cell) ? "<td class=\"num\">" : "<td>") + escape(cell) + "</td>";
        body_ += "</tr>\n";
    }
    body_ += "</tbody>\n</table>\n";
}

void HtmlReport::svg(const std::string& svg_element, const std::string& caption) {
    append(body_, "<figure>\n", svg_element, "\n");
    if (!caption.empty())
        append(body_, "<figcaption>", escape(caption), "</figcaption>\n");
    body_ += "</figure>\n";
}

void HtmlReport::append_tokens(std::span<const ShadedToken> tokens) {
    body_ += "<div class=\"tokens\">";
    bool in_loop = true; // a text that starts inside a loop has no onset in it
    for (const auto& t : tokens) {
        if (t.in_loop && !in_loop)
            body_ += "<span class=\"onset\" title=\"From here on the same words repeat to the "
                     "end\">\xE2\x9F\xB3 loop starts</span>";
        in_loop = t.in_loop;
        const bool shaded = !std::isnan(t.value);
        const double v = shaded ? std::clamp(t.value, 0.0, 1.0) : 0.0;
        body_ += "<span class=\"tok";
        if (shaded && v > 0.55)
            body_ += " dark";
        if (t.in_loop)
            body_ += " loop";
        if (t.is_prompt)
            body_ += " prompt";
        append(body_, "\" data-value=\"", (shaded ? fmt(v, 3) : std::string("nan")), "\"");
        if (shaded)
            append(body_, " style=\"background-color:", shade_colour(v), "\"");
        if (!t.title.empty())
            append(body_, " title=\"", escape(t.title), "\"");
        if (const std::string tip = token_tip(t); !tip.empty()) {
            std::string attr = escape(tip);
            std::string with_breaks; // newlines as character references: kept in the attribute
            for (const char c : attr)
                with_breaks += c == '\n' ? std::string("&#10;") : std::string(1, c);
            append(body_, " data-tip=\"", with_breaks, "\"");
        }
        body_ += '>';
        body_ += escape(t.text);
        body_ += "</span>";
    }
    body_ += "</div>\n";
}

void HtmlReport::append_legend(const std::string& legend) {
    append(body_, "<div class=\"legend\"><span>", escape(legend),
           ":</span><span>0</span><span class=\"ramp\"></span><span>1</span><span class=\"sample "
           "tok prompt\">prompt</span><span class=\"sample tok loop\">in a loop</span></div>\n");
}

void HtmlReport::shaded_text(std::span<const ShadedToken> tokens, const std::string& legend) {
    body_ += "<div class=\"shaded\">\n";
    append_tokens(tokens);
    append_legend(legend);
    body_ += "</div>\n";
}

void HtmlReport::side_by_side(std::span<const Column> columns, const std::string& legend) {
    if (columns.empty())
        throw ConfigError("HtmlReport::side_by_side: no columns");
    append(body_,
           "<div class=\"shaded\">\n<div class=\"side-by-side\" style=\"grid-template-columns: "
           "repeat(",
           std::to_string(columns.size()), ", minmax(0, 1fr))\">\n");
    for (const auto& column : columns) {
        append(body_, "<section>\n<h4>", escape(column.heading), "</h4>\n");
        append_tokens(column.tokens);
        if (!column.numbers.columns().empty())
            table(column.numbers);
        body_ += "</section>\n";
    }
    body_ += "</div>\n";
    append_legend(legend);
    body_ += "</div>\n";
}

void HtmlReport::raw_html(const std::string& html) {
    append(body_, html, "\n");
}

std::string HtmlReport::str() const {
    std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    append(out, "<title>", escape(title_), "</title>\n");
    append(out, "<style>", std::string(kStyle), "</style>\n</head>\n<body>\n<main>\n");
    out += body_;
    append(out, "</main>\n<script>", std::string(kScript), "</script>\n</body>\n</html>\n");
    return out;
}

void HtmlReport::write(const std::filesystem::path& path) const {
    write_file_atomic(path, str());
}

} // namespace ouro::lab
