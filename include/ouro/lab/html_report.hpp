// The lab's report: one self-contained HTML5 page (inline CSS, inline SVG plots, one small inline
// script, no URL that a browser would fetch), built block by block: headings, paragraphs, tables,
// plots, and text shaded token by token (e.g. by entropy) with loops and the prompt marked.
//
//   HtmlReport r("Decoding collapse");
//   r.heading(1, "Decoding collapse");
//   r.paragraph("Greedy decoding loops after 80 tokens.");
//   r.svg(svg_plot(spec), "Entropy by position");
//   r.shaded_text(tokens, "entropy / max entropy");
//   r.write("runs/report.html");
//
// The inline script runs on load and records, for tests in a headless browser, what was drawn:
// every `svg.plot .series` element gets data-drawn-width and data-drawn-height (its getBBox()
// rounded to px), and <body> gets data-plots (the number of svg.plot) and data-plots-drawn (those
// that have at least one series and whose series boxes are all non-empty, i.e. width or height is
// above zero: a flat line has height 0 and is drawn), data-plot-texts (the <text> elements of
// all plots), data-texts-outside (those whose rendered box passes the edges of their plot's
// viewBox by more than half a px) and data-texts-overlapping (pairs of texts of one plot whose
// boxes overlap by more than one px each way; two parallel slanted labels are compared along
// their normal), with the first offenders in data-text-problems.
//
// Hovering a token that has numbers (ShadedToken::prob, entropy, alternatives) shows them in a
// box (CSS only: the text is in the span's data-tip attribute).
//
// The lab program checks its page with check_self_contained_html() (examples/lab/html_check.hpp)
// before writing it.
#pragma once

#include "ouro/lab/table.hpp"

#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ouro::lab {

/// A token the model could have chosen instead, with its probability.
struct TokenAlternative {
    std::string text; ///< raw bytes (made valid UTF-8 when shown)
    double prob = 0.0;
};

/// One token of a shaded text view.
struct ShadedToken {
    std::string
        text; ///< raw bytes of the token (may be partial UTF-8: replace bad bytes by U+FFFD)
    double value = 0.0;   ///< shade in [0, 1] (clamped; NaN = no shade), e.g. entropy / max entropy
    bool in_loop = false; ///< drawn with the loop marking (e.g. red underline + class "loop")
    bool is_prompt = false; ///< drawn in the prompt style (e.g. bold/italic, class "prompt")
    std::string title;      ///< tooltip (title attribute), e.g. "p=0.93 H=0.41 rank=0"
    /// Shown on hover when given: the token's probability, the entropy of the distribution it
    /// was chosen from (nats), and the most probable tokens with their probabilities.
    double prob = std::numeric_limits<double>::quiet_NaN();
    double entropy = std::numeric_limits<double>::quiet_NaN();
    std::vector<TokenAlternative> alternatives{};
};

/// The hover text of a token: "p = 0.930 · entropy 0.41 nats" then "most likely next:" and one
/// line per alternative ("  0.930  \" the\"", newlines shown as ↵); "" when the token has none
/// of these numbers.
std::string token_tip(const ShadedToken& token);

/// How the report writes a missing value (NaN, "-", "n/a", an empty cell): an em dash.
inline constexpr const char* kMissing = "\xE2\x80\x94"; // U+2014 EM DASH

/// Builds one self-contained HTML5 page: inline CSS, inline SVG, no external URL of any kind
/// (no http:, https:, //, src= to files, @import, url(...) to outside), UTF-8, <!DOCTYPE html>,
/// <html lang="en">, <meta charset="utf-8">, a <title>. Every text given is HTML-escaped (and
/// made valid UTF-8 by sanitize_utf8). The constructor throws ConfigError for an empty title:
/// "HtmlReport: the title is empty".
class HtmlReport {
public:
    explicit HtmlReport(std::string title);

    /// <h1>..<h4> with an optional id (for links within the page). Throws ConfigError for another
    /// level: "HtmlReport::heading: level must be 1..4, got 5".
    void heading(int level, const std::string& text, const std::string& id = "");
    /// Escaped text in <p>.
    void paragraph(const std::string& text);
    /// Escaped text in <pre>.
    void preformatted(const std::string& text);
    /// A <table> with the columns as <th> and an optional <caption>; number cells
    /// (is_number_cell) are right-aligned; a missing value (a cell "nan", "-", "n/a" or "") is
    /// written one way, kMissing, in a <td class="missing">.
    void table(const Table& table, const std::string& caption = "");
    /// Terms with a one-line plain definition each, as a <dl class="defs"> (e.g. under a table,
    /// its columns). Nothing for an empty list.
    void definitions(const std::vector<std::pair<std::string, std::string>>& terms);
    /// A highlighted one-sentence answer (<p class="headline">), escaped.
    void headline(const std::string& text);
    /// The element inserted verbatim in a <figure>, with an optional <figcaption>.
    void svg(const std::string& svg_element, const std::string& caption = "");

    /// Tokens as inline <span>s (white-space: pre-wrap) with a background colour scale for value
    /// (light to dark, legend with `legend` as its label), loops marked, prompt styled. Each span
    /// has class "tok", plus "loop" and "prompt" when set, data-value (the clamped value with
    /// 3 decimals, or "nan") and data-tip (token_tip) when the token has numbers. Where a loop
    /// begins (an in_loop token after one that is not), a <span class="onset"> "loop starts"
    /// badge goes before the token.
    void shaded_text(std::span<const ShadedToken> tokens, const std::string& legend);

    /// Several blocks side by side (CSS grid), each with a heading and a shaded text and a small
    /// table of numbers (omitted when it has no columns). Throws ConfigError when there are no
    /// columns: "HtmlReport::side_by_side: no columns".
    struct Column {
        std::string heading;
        std::vector<ShadedToken> tokens;
        Table numbers;
    };
    void side_by_side(std::span<const Column> columns, const std::string& legend);

    /// For the rare case the above do not cover; the caller escapes.
    void raw_html(const std::string& html);

    /// The whole document.
    std::string str() const;
    /// Writes str() atomically; IoError names the path.
    void write(const std::filesystem::path& path) const;

private:
    void append_tokens(std::span<const ShadedToken> tokens);
    void append_legend(const std::string& legend);

    std::string title_;
    std::string body_;
};

/// HTML/XML escaping of & < > " ' (for the writers and callers): &amp; &lt; &gt; &quot; &#39;.
std::string html_escape(std::string_view text);

/// The text as valid UTF-8 that XML accepts: each ill-formed sequence (a stray continuation
/// byte, a truncated or overlong sequence, a surrogate, a code point above U+10FFFF) becomes one
/// U+FFFD per maximal ill-formed part (as the Unicode standard recommends), and so does each C0
/// control character other than tab, LF and CR.
std::string sanitize_utf8(std::string_view text);

/// The background colour of a shade in [0, 1] (clamped) as "#rrggbb", from a light to a dark
/// blue; values above 0.55 need light text on it. NaN gives "" (no shade).
std::string shade_colour(double value);

} // namespace ouro::lab
