#include "lab/html_check.hpp"
#include "lab/sample_report.hpp"
#include "lab/xml_check.hpp"

#include <ouro/core/atomic_file.hpp>
#include <ouro/core/error.hpp>
#include <ouro/lab/html_report.hpp>
#include <ouro/lab/svg_plot.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

using namespace ouro;
using namespace ouro::lab;
using ouro::examples::check_self_contained_html;
using ouro::testing::count;

namespace {

// A small valid page around `body`.
std::string page(const std::string& body, const std::string& head = "") {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<title>t</title>\n" +
           head + "</head>\n<body>\n" + body + "\n</body>\n</html>\n";
}

std::string joined(const std::vector<std::string>& problems) {
    std::string out;
    for (const auto& p : problems)
        out += p + "\n";
    return out;
}

} // namespace

TEST_SUITE("lab") {
    TEST_CASE("html_escape and sanitize_utf8") {
        CHECK(html_escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
        CHECK(html_escape("plain é") == "plain é");
        CHECK(sanitize_utf8("ok é € 𝄞") == "ok é € 𝄞");
        const std::string fffd = "\xEF\xBF\xBD";
        CHECK(sanitize_utf8("\xE2\x82") == fffd); // truncated 3-byte sequence
        CHECK(sanitize_utf8("a\x80"
                            "b") == "a" + fffd + "b");              // stray continuation byte
        CHECK(sanitize_utf8("\xC0\xAF") == fffd + fffd);            // overlong: C0 never starts
        CHECK(sanitize_utf8("\xED\xA0\x80") == fffd + fffd + fffd); // a surrogate
        CHECK(sanitize_utf8("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd); // above U+10FFFF
        CHECK(sanitize_utf8("\xF0\x9F\x98") == fffd); // truncated 4-byte sequence
        CHECK(sanitize_utf8(std::string("a\0b\x1b\tc\n", 7)) == "a" + fffd + "b" + fffd + "\tc\n");
    }

    TEST_CASE("shade_colour") {
        CHECK(shade_colour(0.0) == "#f7fbff");
        CHECK(shade_colour(1.0) == "#08306b");
        CHECK(shade_colour(0.5) == "#6baed6");
        CHECK(shade_colour(-3.0) == "#f7fbff"); // clamped
        CHECK(shade_colour(7.0) == "#08306b");
        CHECK(shade_colour(std::nan("")) == "");
        CHECK(shade_colour(0.125) != shade_colour(0.0));
    }

    TEST_CASE("HtmlReport") {
        SUBCASE("the page") {
            HtmlReport r("Collapse <report>");
            const std::string html = r.str();
            CHECK(
                html.rfind("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">",
                           0) == 0);
            CHECK(html.find("<title>Collapse &lt;report&gt;</title>") != std::string::npos);
            CHECK(count(html, "<script") == 1);
            CHECK(html.find("data-plots-drawn") != std::string::npos);
            CHECK(check_self_contained_html(html).empty());
            CHECK_THROWS_WITH_AS(HtmlReport(" "), "HtmlReport: the title is empty", ConfigError);
        }
        SUBCASE("blocks escape their text") {
            HtmlReport r("t");
            r.heading(2, "E1 <which> decoders loop?", "e1");
            r.paragraph("a & b < c");
            r.preformatted("x\n  <y>");
            Table t({"decoder", "loops %"});
            t.add_row({"<greedy>", "90"});
            r.table(t, "caption & more");
            PlotSpec spec;
            spec.series = {{"s", {0, 1}, {0, 1}}};
            r.svg(svg_plot(spec), "fig <1>");
            r.raw_html("<p class=\"raw\">raw</p>");
            const std::string html = r.str();
            CHECK(html.find("<h2 id=\"e1\">E1 &lt;which&gt; decoders loop?</h2>") !=
                  std::string::npos);
            CHECK(html.find("<p>a &amp; b &lt; c</p>") != std::string::npos);
            CHECK(html.find("<pre>x\n  &lt;y&gt;</pre>") != std::string::npos);
            CHECK(html.find("<caption>caption &amp; more</caption>") != std::string::npos);
            CHECK(html.find("<th>decoder</th><th class=\"num\">loops %</th>") != std::string::npos);
            CHECK(html.find("<td>&lt;greedy&gt;</td><td class=\"num\">90</td>") !=
                  std::string::npos);
            CHECK(html.find("<figure>\n<svg xmlns") != std::string::npos);
            CHECK(html.find("<figcaption>fig &lt;1&gt;</figcaption>") != std::string::npos);
            CHECK(html.find("<p class=\"raw\">raw</p>") != std::string::npos);
            CHECK(joined(check_self_contained_html(html)) == "");
            CHECK_THROWS_WITH_AS(r.heading(5, "x"),
                                 "HtmlReport::heading: level must be 1..4, got 5", ConfigError);
            CHECK_THROWS_WITH_AS(r.heading(0, "x"),
                                 "HtmlReport::heading: level must be 1..4, got 0", ConfigError);
        }
        SUBCASE("shaded text") {
            HtmlReport r("t");
            const std::vector<ShadedToken> tokens = {
                {"Once", std::nan(""), false, true, ""},
                {" upon", 0.0, false, false, "p=0.93 H=0.41 rank=0"},
                {" <a>", 0.5, true, false, "say \"x\""},
                {" \xE2\x80", 2.0, true, false, ""}, // partial UTF-8, clamped shade
            };
            r.shaded_text(tokens, "entropy / max <H>");
            const std::string html = r.str();
            CHECK(html.find("<span class=\"tok prompt\" data-value=\"nan\">Once</span>") !=
                  std::string::npos);
            CHECK(html.find("<span class=\"tok\" data-value=\"0.000\" "
                            "style=\"background-color:#f7fbff\" "
                            "title=\"p=0.93 H=0.41 rank=0\"> upon</span>") != std::string::npos);
            CHECK(html.find("<span class=\"tok loop\" data-value=\"0.500\" "
                            "style=\"background-color:#6baed6\" "
                            "title=\"say &quot;x&quot;\"> &lt;a&gt;</span>") != std::string::npos);
            CHECK(html.find("<span class=\"tok dark loop\" data-value=\"1.000\" "
                            "style=\"background-color:#08306b\"> \xEF\xBF\xBD</span>") !=
                  std::string::npos);
            CHECK(html.find("entropy / max &lt;H&gt;:") != std::string::npos);
            CHECK(html.find("white-space: pre-wrap") != std::string::npos);
            CHECK(joined(check_self_contained_html(html)) == "");
        }
        SUBCASE("the loop onset is marked once, before the loop's first token") {
            HtmlReport r("t");
            const std::vector<ShadedToken> tokens = {{"a", 0.1, false, false, ""},
                                                     {"b", 0.1, true, false, ""},
                                                     {"c", 0.1, true, false, ""}};
            r.shaded_text(tokens, "H");
            const std::string html = r.str();
            const auto onset = html.find("<span class=\"onset\"");
            REQUIRE(onset != std::string::npos);
            CHECK(html.find("<span class=\"onset\"", onset + 1) == std::string::npos);
            CHECK(html.find("loop starts</span><span class=\"tok loop\"") != std::string::npos);
            CHECK(html.find(">a</span>") < onset);
        }
        SUBCASE("hover numbers: probability, entropy, alternatives") {
            ShadedToken t{" the", 0.2, false, false, ""};
            CHECK(token_tip(t) == "");
            t.prob = 0.93;
            t.entropy = 0.412;
            t.alternatives = {{" the", 0.93}, {"\n", 0.04}, {" <a>", 0.01}};
            CHECK(token_tip(t) == "p = 0.930 \xC2\xB7 entropy 0.41 nats\nmost likely next:\n"
                                  "  0.930  \" the\"\n  0.040  \"\xE2\x86\xB5\"\n"
                                  "  0.010  \" <a>\"");
            HtmlReport r("t");
            r.shaded_text(std::vector<ShadedToken>{t}, "H");
            const std::string html = r.str();
            CHECK(html.find("data-tip=\"p = 0.930 \xC2\xB7 entropy 0.41 nats&#10;most likely "
                            "next:&#10;  0.930  &quot; the&quot;&#10;") != std::string::npos);
            CHECK(html.find("&quot; &lt;a&gt;&quot;\">") != std::string::npos);
            CHECK(html.find(".tok[data-tip]:hover::after") != std::string::npos);
            CHECK(joined(check_self_contained_html(html)) == "");
        }
        SUBCASE("headline, definitions and missing values") {
            HtmlReport r("t");
            r.headline("Greedy loops <always>.");
            r.definitions({{"seq-rep-4", "share of repeated 4-grams"}, {"a&b", "x"}});
            r.definitions({});
            Table t({"decoder", "loops %", "onset"});
            t.add_row({"greedy", "90", "nan"});
            t.add_row({"top-p", "-", "n/a"});
            t.add_row({"beam", "", "12"});
            r.table(t);
            const std::string html = r.str();
            CHECK(html.find("<p class=\"headline\">Greedy loops &lt;always&gt;.</p>") !=
                  std::string::npos);
            CHECK(html.find("<dl class=\"defs\">\n<dt>seq-rep-4</dt><dd>share of repeated "
                            "4-grams</dd>\n<dt>a&amp;b</dt><dd>x</dd>\n</dl>") !=
                  std::string::npos);
            CHECK(html.find("<dl class=\"defs\">", html.find("</dl>")) == std::string::npos);
            const std::string missing =
                std::string("<td class=\"missing\" title=\"no value\">") + kMissing + "</td>";
            std::size_t n = 0;
            for (auto at = html.find(missing); at != std::string::npos;
                 at = html.find(missing, at + 1))
                ++n;
            CHECK(n == 4);
            CHECK(html.find(">nan<") == std::string::npos);
            CHECK(html.find("<th class=\"num\">loops %</th><th class=\"num\">onset</th>") !=
                  std::string::npos);
            CHECK(joined(check_self_contained_html(html)) == "");
        }
        SUBCASE("side by side") {
            HtmlReport r("t");
            Table numbers({"metric", "value"});
            numbers.add_row({"rep-4", "0.5"});
            const std::vector<HtmlReport::Column> columns = {
                {"greedy", {{"a", 0.1, false, false, ""}}, numbers},
                {"top-p <0.9>", {{"b", 0.9, true, false, ""}}, Table()}};
            r.side_by_side(columns, "H");
            const std::string html = r.str();
            CHECK(html.find("grid-template-columns: repeat(2, minmax(0, 1fr))") !=
                  std::string::npos);
            CHECK(html.find("<h4>greedy</h4>") != std::string::npos);
            CHECK(html.find("<h4>top-p &lt;0.9&gt;</h4>") != std::string::npos);
            CHECK(count(html, "<table class=\"data\">") == 1); // the empty table is left out
            CHECK(joined(check_self_contained_html(html)) == "");
            CHECK_THROWS_WITH_AS(r.side_by_side({}, "H"), "HtmlReport::side_by_side: no columns",
                                 ConfigError);
        }
        SUBCASE("write") {
            const auto dir = std::filesystem::temp_directory_path() / "ouro_test_html_report";
            std::filesystem::create_directories(dir);
            HtmlReport r("t");
            r.paragraph("hello");
            r.write(dir / "r.html");
            CHECK(read_file(dir / "r.html", "test") == r.str());
            std::filesystem::remove_all(dir);
            CHECK_THROWS_AS(r.write(dir / "missing" / "r.html"), IoError);
        }
    }

    TEST_CASE("check_self_contained_html") {
        SUBCASE("accepts good pages") {
            CHECK(joined(check_self_contained_html(page("<p>hi<br>there</p>"))) == "");
            CHECK(joined(check_self_contained_html(page(
                      "<img src=\"data:image/png;base64,AAAA\" alt=\"x\">"
                      "<a href=\"#top\">top</a> <a href=\"e1.csv\">csv</a>"
                      "<!-- a <div> in a comment -->"
                      "<svg xmlns=\"http://www.w3.org/2000/svg\"><circle r=\"1\"/><use "
                      "href=\"#c\"/></svg>"
                      "<script>if (a < b && c > d) { x = \"</p>\"; }</script>",
                      "<style>body { background: url(data:image/png;base64,AA); }</style>\n"))) ==
                  "");
            CHECK(joined(check_self_contained_html("<!doctype HTML><html><head><META "
                                                   "CHARSET=UTF-8><title>x</title></head><body>"
                                                   "</body></html>")) == "");
        }
        SUBCASE("finds problems, with line numbers") {
            CHECK(check_self_contained_html(page("<div><span></div>")) ==
                  std::vector<std::string>{"line 8: </div> closes <span> opened at line 8"});
            CHECK(check_self_contained_html(page("<div>\n<p>x</p>")) ==
                  std::vector<std::string>{"line 10: </body> closes <div> opened at line 8"});
            CHECK(check_self_contained_html(page("</p>")) ==
                  std::vector<std::string>{"line 8: </p> has no open <p> to close"});
            CHECK(
                check_self_contained_html(page("<div/>")) ==
                std::vector<std::string>{"line 8: <div/> is not a void element: it needs </div>"});
            CHECK(check_self_contained_html(page("<p title=\"x>y</p>")) ==
                  std::vector<std::string>{
                      "line 8: the quote of attribute title in <p> is not closed",
                      "line 7: <body> is never closed", "line 2: <html> is never closed"});
            CHECK(check_self_contained_html(page("<p title=\"a\"b\">x</p>")).front() ==
                  "line 8: no space after attribute title in <p> (a stray quote?)");
            CHECK(check_self_contained_html(page("<!-- x")).front() ==
                  "line 8: comment is not terminated");
        }
        SUBCASE("missing head elements") {
            CHECK(check_self_contained_html("<html><head></head><body></body></html>") ==
                  std::vector<std::string>{"line 1: the page does not start with <!DOCTYPE html>",
                                           "no <meta charset=\"utf-8\">", "no <title> with text"});
            CHECK(check_self_contained_html("<!DOCTYPE html><html><head><meta charset=\"latin1\">"
                                            "<title> </title></head></html>") ==
                  std::vector<std::string>{"no <meta charset=\"utf-8\">", "no <title> with text"});
        }
        SUBCASE("external references") {
            auto first = [](const std::string& body, const std::string& head = "") {
                const auto p = check_self_contained_html(page(body, head));
                return p.empty() ? std::string() : p.front();
            };
            CHECK(first("<a href=\"https://example.com/\">x</a>") ==
                  "line 8: external URL in <a href=\"https://example.com/\">");
            CHECK(first("<a href=\"//example.com/x\">x</a>") ==
                  "line 8: external URL in <a href=\"//example.com/x\">");
            CHECK(
                first("<img src=\"plot.png\">") ==
                "line 8: a file is loaded by <img src=\"plot.png\"> (only data: URLs are inline)");
            CHECK(first("<script src=\"app.js\"></script>") ==
                  "line 8: a file is loaded by <script src=\"app.js\"> (only data: URLs are "
                  "inline)");
            CHECK(first("", "<link rel=\"stylesheet\" href=\"style.css\">\n") ==
                  "line 6: a file is loaded by <link href=\"style.css\"> (only data: URLs are "
                  "inline)");
            CHECK(
                first("<svg><image href=\"x.png\"/></svg>") ==
                "line 8: a file is loaded by <image href=\"x.png\"> (only data: URLs are inline)");
            CHECK(first("<form action=\"ftp://x\"></form>") ==
                  "line 8: external URL in <form action=\"ftp://x\">");
            CHECK(first("", "<style>\n@import 'x.css';\n</style>\n") == "line 7: CSS @import");
            CHECK(first("", "<style>p { background: url( 'http://x/y.png' ) }</style>\n") ==
                  "line 6: CSS url(http://x/y.png' ) refers to outside the page");
            CHECK(first("<p style=\"background:url(y.png)\">x</p>") ==
                  "line 8: CSS url(y.png) refers to outside the page");
        }
        SUBCASE("the sample report") {
            const std::string html = ouro::testing::sample_report_html();
            CHECK(joined(check_self_contained_html(html)) == "");
            CHECK(count(html, "<svg xmlns") == std::size_t(ouro::testing::kSamplePlots));
            CHECK(count(html, "class=\"series\"") == std::size_t(ouro::testing::kSampleSeries));
            // The svg plots alone are well-formed XML too.
            for (const auto& spec :
                 {ouro::testing::sample_line_plot(), ouro::testing::sample_points_plot(),
                  ouro::testing::sample_bar_plot()})
                CHECK(ouro::testing::xml_problem(svg_plot(spec)) == "");
            CHECK(html == ouro::testing::sample_report_html()); // deterministic
        }
    }
}
