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
table.data { border-collapse: collapse; margin: 12px 0 20px; font-size: 0.92em; }
table.data caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 6px; }
table.data th, table.data td { border-bottom: 1px solid #dddddd; padding: 3px 10px; text-align: left; }
table.data th { border-bottom: 2px solid #888888; }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 16px 0 24px; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #444444; margin-top: 4px; }
.shaded { margin: 12px 0 20px; }
.tokens { white-space: pre-wrap; font-family: ui-monospace, "DejaVu Sans Mono", monospace;
  font-size: 0.9em; line-height: 1.9; border: 1px solid #dddddd; padding: 8px 10px; }
.tok { border-radius: 2px; }
.tok.dark { color: #ffffff; }
.tok.loop { text-decoration-line: underline; text-decoration-color: #d00000;
  text-decoration-thickness: 2px; text-underline-offset: 3px; }
.tok.prompt { font-style: italic; font-weight: 700; }
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

void HtmlReport::table(const Table& table, const std::string& caption) {
    const auto& columns = table.columns();
    const auto& rows = table.rows();
    body_ += "<table class=\"data\">\n";
    if (!caption.empty())
        append(body_, "<caption>", escape(caption), "</caption>\n");
    body_ += "<thead><tr>";
    for (std::size_t c = 0; c < columns.size(); ++c) {
        const bool numeric = !rows.empty() && std::all_of(rows.begin(), rows.end(), [&](auto& r) {
            return is_number_cell(r[c]);
        });
        body_ += numeric ? "<th class=\"num\">" : "<th>";
        append(body_, escape(columns[c]), "</th>");
    }
    body_ += "</tr></thead>\n<tbody>\n";
    for (const auto& row : rows) {
        body_ += "<tr>";
        for (const auto& cell : row)
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
    for (const auto& t : tokens) {
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

// ---- the validator -----------------------------------------------------------------------------

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

bool is_void_element(std::string_view name) {
    static constexpr std::array<std::string_view, 14> names = {
        "area",  "base", "br",   "col",   "embed",  "hr",    "img",
        "input", "link", "meta", "param", "source", "track", "wbr"};
    return std::find(names.begin(), names.end(), name) != names.end();
}

// A value for a message: at most 60 bytes.
std::string shorten(std::string_view s) {
    return s.size() <= 60 ? std::string(s) : std::string(s.substr(0, 57)) + "...";
}

class HtmlChecker {
public:
    explicit HtmlChecker(std::string_view html) : html_(html) {
        for (std::size_t i = 0; i < html.size(); ++i)
            if (html[i] == '\n')
                newlines_.push_back(i);
    }

    std::vector<std::string> run() {
        check_doctype();
        parse();
        for (auto it = stack_.rbegin(); it != stack_.rend(); ++it)
            problems_.push_back("line " + std::to_string(it->line) + ": <" + it->name +
                                "> is never closed");
        if (!has_charset_)
            problems_.push_back("no <meta charset=\"utf-8\">");
        if (!has_title_)
            problems_.push_back("no <title> with text");
        return std::move(problems_);
    }

private:
    struct Open {
        std::string name; // lower case
        std::size_t line;
    };

    std::size_t line_at(std::size_t pos) const {
        return std::size_t(std::lower_bound(newlines_.begin(), newlines_.end(), pos) -
                           newlines_.begin()) +
               1;
    }

    void problem(std::size_t pos, const std::string& what) {
        problems_.push_back("line " + std::to_string(line_at(pos)) + ": " + what);
    }

    bool in_svg() const {
        return std::any_of(stack_.begin(), stack_.end(),
                           [](const Open& o) { return o.name == "svg"; });
    }

    void check_doctype() {
        std::string_view s = html_;
        if (starts_with(s, "\xEF\xBB\xBF"))
            s.remove_prefix(3);
        s = trim(s);
        if (lower(s.substr(0, 14)) != "<!doctype html")
            problems_.push_back("line 1: the page does not start with <!DOCTYPE html>");
    }

    void check_css(std::string_view css, std::size_t pos) {
        const std::string l = lower(css);
        for (auto at = l.find("@import"); at != std::string::npos; at = l.find("@import", at + 1))
            problem(pos + at, "CSS @import");
        for (auto at = l.find("url("); at != std::string::npos; at = l.find("url(", at + 1)) {
            std::size_t k = at + 4;
            while (k < l.size() && (is_space(l[k]) || l[k] == '"' || l[k] == '\''))
                ++k;
            const std::string_view target = std::string_view(l).substr(k);
            if (!starts_with(target, "data:") && !starts_with(target, "#"))
                problem(pos + at, "CSS url(" + shorten(css.substr(k, target.find(')'))) +
                                      ") refers to outside the page");
        }
    }

    void check_attribute(const std::string& element, const std::string& name,
                         std::string_view value, std::size_t pos) {
        if (starts_with(name, "xmlns"))
            return; // a namespace name, never fetched
        if (name == "style")
            check_css(value, pos);
        const std::string v = lower(trim(value));
        const std::string shown = "<" + element + " " + name + "=\"" + shorten(value) + "\">";
        if (starts_with(v, "http:") || starts_with(v, "https:") || starts_with(v, "ftp:")) {
            problem(pos, "external URL in " + shown);
            return;
        }
        const bool is_href = name == "href" || name == "xlink:href";
        if ((is_href || name == "src" || name == "action" || name == "formaction") &&
            starts_with(v, "//")) {
            problem(pos, "external URL in " + shown);
            return;
        }
        const bool loads = name == "src" || name == "srcset" || name == "poster" ||
                           (element == "object" && name == "data") ||
                           (element == "link" && name == "href");
        if (loads && !starts_with(v, "data:")) {
            problem(pos, "a file is loaded by " + shown + " (only data: URLs are inline)");
            return;
        }
        const bool svg_ref = element == "image" || element == "use" || element == "feimage";
        if (svg_ref && is_href && !starts_with(v, "data:") && !starts_with(v, "#"))
            problem(pos, "a file is loaded by " + shown + " (only data: URLs are inline)");
    }

    void end_tag(std::string_view name, std::size_t pos) {
        const std::string l = lower(name);
        auto k = stack_.size();
        while (k > 0 && stack_[k - 1].name != l)
            --k;
        if (k == 0) { // nothing to close: ignore it
            problem(pos, "</" + l + "> has no open <" + l + "> to close");
            return;
        }
        if (k < stack_.size()) // close up to it; the innermost open element is reported
            problem(pos, "</" + l + "> closes <" + stack_.back().name + "> opened at line " +
                             std::to_string(stack_.back().line));
        stack_.resize(k - 1);
    }

    static bool name_char(char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':' || c == '_' ||
               c == '.';
    }

    // Parses a start tag at html_[pos] == '<'; returns the position after it, or npos when the
    // rest of the page cannot be parsed.
    std::size_t start_tag(std::size_t pos) {
        const std::string_view h = html_;
        std::size_t j = pos + 1;
        while (j < h.size() && name_char(h[j]))
            ++j;
        const std::string name = lower(h.substr(pos + 1, j - pos - 1));
        bool self_closing = false;
        while (true) {
            while (j < h.size() && is_space(h[j]))
                ++j;
            if (j >= h.size()) {
                problem(pos, "<" + name + "> tag is not terminated");
                return std::string_view::npos;
            }
            if (h[j] == '>') {
                ++j;
                break;
            }
            if (h[j] == '/') {
                if (j + 1 < h.size() && h[j + 1] == '>') {
                    self_closing = true;
                    j += 2;
                    break;
                }
                ++j;
                continue;
            }
            if (h[j] == '"' || h[j] == '\'' || h[j] == '<' || h[j] == '=') {
                problem(j, std::string("unexpected ") + h[j] + " in <" + name + ">");
                ++j;
                continue;
            }
            const std::size_t name_start = j;
            while (j < h.size() && !is_space(h[j]) && h[j] != '=' && h[j] != '>' && h[j] != '/')
                ++j;
            const std::string attr = lower(h.substr(name_start, j - name_start));
            while (j < h.size() && is_space(h[j]))
                ++j;
            std::string_view value;
            if (j < h.size() && h[j] == '=') {
                ++j;
                while (j < h.size() && is_space(h[j]))
                    ++j;
                if (j < h.size() && (h[j] == '"' || h[j] == '\'')) {
                    const char quote = h[j];
                    const std::size_t close = h.find(quote, j + 1);
                    if (close == std::string_view::npos) {
                        problem(name_start, "the quote of attribute " + attr + " in <" + name +
                                                "> is not closed");
                        return std::string_view::npos;
                    }
                    value = h.substr(j + 1, close - j - 1);
                    j = close + 1;
                    if (j < h.size() && !is_space(h[j]) && h[j] != '>' && h[j] != '/')
                        problem(j, "no space after attribute " + attr + " in <" + name +
                                       "> (a stray quote?)");
                } else {
                    const std::size_t value_start = j;
                    while (j < h.size() && !is_space(h[j]) && h[j] != '>')
                        ++j;
                    value = h.substr(value_start, j - value_start);
                    if (value.find_first_of("\"'<=`") != std::string_view::npos)
                        problem(value_start, "unquoted value of attribute " + attr + " in <" +
                                                 name + "> holds a quote, < or =");
                }
            }
            check_attribute(name, attr, value, name_start);
            if (name == "meta" && attr == "charset" && lower(trim(value)) == "utf-8")
                has_charset_ = true;
        }
        const bool svg = in_svg() || name == "svg";
        if (is_void_element(name) && !svg)
            return j;
        if (self_closing) {
            if (!svg)
                problem(pos, "<" + name + "/> is not a void element: it needs </" + name + ">");
            return j;
        }
        stack_.push_back({name, line_at(pos)});
        if (name == "script" || name == "style" || name == "title" || name == "textarea") {
            // Raw text up to the end tag (which the main loop then reads).
            const std::string l = lower(h.substr(j));
            const std::size_t close = l.find("</" + name);
            if (close == std::string::npos) {
                problem(pos, "<" + name + "> is not closed");
                stack_.pop_back();
                return std::string_view::npos;
            }
            const std::string_view content = h.substr(j, close);
            if (name == "style")
                check_css(content, j);
            if (name == "title" && !trim(content).empty())
                has_title_ = true;
            return j + close;
        }
        return j;
    }

    void parse() {
        const std::string_view h = html_;
        std::size_t i = 0;
        while (i < h.size()) {
            const std::size_t lt = h.find('<', i);
            if (lt == std::string_view::npos)
                return;
            const std::string_view rest = h.substr(lt);
            if (starts_with(rest, "<!--")) {
                const std::size_t end = h.find("-->", lt + 4);
                if (end == std::string_view::npos) {
                    problem(lt, "comment is not terminated");
                    return;
                }
                i = end + 3;
            } else if (starts_with(rest, "<!") || starts_with(rest, "<?")) {
                const std::size_t end = h.find('>', lt);
                if (end == std::string_view::npos) {
                    problem(lt, "declaration is not terminated");
                    return;
                }
                i = end + 1;
            } else if (starts_with(rest, "</")) {
                std::size_t j = lt + 2;
                while (j < h.size() && name_char(h[j]))
                    ++j;
                const std::size_t end = h.find('>', j);
                if (end == std::string_view::npos) {
                    problem(lt, "end tag is not terminated");
                    return;
                }
                if (j == lt + 2)
                    problem(lt, "end tag without a name");
                else
                    end_tag(h.substr(lt + 2, j - lt - 2), lt);
                i = end + 1;
            } else if (rest.size() > 1 && std::isalpha(static_cast<unsigned char>(rest[1]))) {
                i = start_tag(lt);
                if (i == std::string_view::npos)
                    return;
            } else {
                i = lt + 1; // a '<' in text
            }
        }
    }

    std::string_view html_;
    std::vector<std::size_t> newlines_;
    std::vector<Open> stack_;
    std::vector<std::string> problems_;
    bool has_charset_ = false, has_title_ = false;
};

} // namespace

std::vector<std::string> check_self_contained_html(std::string_view html) {
    return HtmlChecker(html).run();
}

} // namespace ouro::lab
