// check_self_contained_html: a small validator of self-contained HTML5 pages; see the header.
#include "lab/html_check.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

namespace ouro::examples {

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

} // namespace ouro::examples
