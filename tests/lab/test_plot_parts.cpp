#include "lab/svg_text_check.hpp"

#include <ouro/core/error.hpp>
#include <ouro/lab/plot_parts.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::lab;
using namespace ouro::lab::plot;

TEST_SUITE("lab") {
    TEST_CASE("plot text measure") {
        SUBCASE("width per code point") {
            CHECK(text_width("abc", 10.0) == doctest::Approx(18.0));
            CHECK(text_width("\xC3\xA9t\xC3\xA9", 10.0) == doctest::Approx(18.0)); // "été"
        }
        SUBCASE("fit_text cuts with an ellipsis") {
            CHECK(fit_text("short", 100.0, 10.0) == "short");
            const std::string cut = fit_text(std::string(50, 'n'), 60.0, 10.0);
            CHECK(cut == std::string(9, 'n') + "\xE2\x80\xA6");
            CHECK(text_width(cut, 10.0) <= 60.0);
            CHECK(fit_text("bad \xFF", 100.0, 10.0) == "bad \xEF\xBF\xBD");
        }
    }
    TEST_CASE("plot axes") {
        SUBCASE("linear ticks at 1, 2, 5 times a power of ten") {
            const Axis a = make_axis("y", false, 0.1, 0.93, std::nullopt, std::nullopt);
            CHECK(a.lo == doctest::Approx(0.0));
            CHECK(a.hi == doctest::Approx(1.0));
            CHECK(a.labels == std::vector<std::string>{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"});
            const Axis b = make_axis("x", false, 3, 1717, std::nullopt, std::nullopt);
            CHECK(b.labels.front() == "0");
            CHECK(b.labels.back() == "2000");
            CHECK(b.ticks.size() == 5);
            CHECK(a.fraction(0.5) == doctest::Approx(0.5));
        }
        SUBCASE("fixed ends stay") {
            const Axis a = make_axis("y", false, 0.1, 0.93, 0.0, 0.5);
            CHECK(a.hi == 0.5);
            CHECK(a.labels.back() == "0.5");
        }
        SUBCASE("log ticks: 1, 2, 5 over few decades, powers of ten over many") {
            const Axis few = make_axis("y", true, 1.5, 80, std::nullopt, std::nullopt);
            CHECK(few.lo == doctest::Approx(1.0));
            CHECK(few.hi == doctest::Approx(100.0));
            CHECK(few.labels == std::vector<std::string>{"1", "2", "5", "10", "20", "50", "100"});
            const Axis many = make_axis("y", true, 3e-4, 2e5, std::nullopt, std::nullopt);
            // Ten decades: a label every second one.
            CHECK(many.labels ==
                  std::vector<std::string>{"0.0001", "0.01", "1", "100", "10000", "1e+06"});
            CHECK(many.fraction(1.0) == doctest::Approx(0.4));
        }
        SUBCASE("spans_decades") {
            std::vector<Series> s = {{"a", {0, 1}, {0.5, 2}}, {"b", {0, 1}, {1, 600}}};
            CHECK(spans_decades(s)); // 0.5 .. 600: 3.08 decades
            CHECK_FALSE(spans_decades(s, 4.0));
            s[1].y[1] = 400; // 2.9 decades
            CHECK_FALSE(spans_decades(s));
            s[1].y[1] = 6000;
            s[0].y[0] = 0.0; // not positive: no log axis
            CHECK_FALSE(spans_decades(s));
            s[0].y[0] = std::nan(""); // missing values do not count
            CHECK(spans_decades(s));
        }
        SUBCASE("label_stride thins labels that would overlap") {
            const std::vector<std::string> labels = {"1000000", "2000000", "3000000", "4000000"};
            const std::vector<double> wide = {0, 100, 200, 300}, narrow = {0, 40, 80, 120};
            CHECK(label_stride(wide, labels, 11.0) == 1);
            // Each label is 46.2 px wide: 40 px apart is too close, 80 px is enough.
            CHECK(label_stride(narrow, labels, 11.0) == 2);
            CHECK(label_stride(std::vector<double>{0, 10}, labels, 11.0) == 2);
        }
        SUBCASE("rejects bad ranges") {
            CHECK_THROWS_WITH_AS(make_axis("y", false, 0, 1, 2.0, 1.0),
                                 "svg_plot: the y range is empty: 2.000 to 1.000", ConfigError);
            CHECK_THROWS_WITH_AS(
                make_axis("x", true, 1, 2, 0.0, 10.0),
                "svg_plot: the x range of a log axis must be positive, got 0.000 to 10.000",
                ConfigError);
        }
    }
    TEST_CASE("plot series") {
        SUBCASE("every series has its own colour and marker") {
            std::set<std::string> colours;
            std::set<std::pair<std::string, int>> looks;
            for (std::size_t k = 0; k < kMaxSeries; ++k) {
                const SeriesStyle s = series_style(k);
                CHECK(s.colour.size() == 7);
                colours.insert(s.colour);
                looks.insert({s.colour, int(s.shape)});
                if (k > 0) // neighbours differ in shape too
                    CHECK(s.shape != series_style(k - 1).shape);
            }
            CHECK(colours.size() == kMaxSeries);
            CHECK(looks.size() == kMaxSeries);
            CHECK_THROWS_WITH_AS(series_style(kMaxSeries),
                                 "svg_plot: 13 series, but only 12 have a colour of their own",
                                 ConfigError);
        }
        SUBCASE("marker shapes") {
            CHECK(marker_element(MarkerShape::circle, 10, 20, 3, "#000000") ==
                  "<circle cx=\"10.00\" cy=\"20.00\" r=\"3.00\" fill=\"#000000\"/>");
            CHECK(marker_element(MarkerShape::square, 10, 20, 3, "#000000").rfind("<rect", 0) == 0);
            for (const MarkerShape s : {MarkerShape::triangle, MarkerShape::diamond,
                                        MarkerShape::triangle_down, MarkerShape::hexagon}) {
                const std::string e = marker_element(s, 10, 20, 3, "#000000");
                CHECK(e.rfind("<path d=\"M", 0) == 0);
                CHECK(e.find("Z\"") != std::string::npos);
            }
        }
        SUBCASE("lines get a few markers, points one per point, a gap at NaN") {
            Frame f;
            f.x0 = 0, f.x1 = 100, f.y0 = 0, f.y1 = 100;
            f.xa = make_axis("x", false, 0, 99, std::nullopt, std::nullopt);
            f.ya = make_axis("y", false, 0, 1, std::nullopt, std::nullopt);
            Series line{"greedy", {}, {}};
            for (int i = 0; i < 100; ++i) {
                line.x.push_back(i);
                line.y.push_back(i == 50 ? std::nan("") : 0.5);
            }
            const std::string e = series_element(line, 1, f, {}, 0);
            CHECK(e.rfind("<g class=\"series\" data-name=\"greedy\" fill=\"#D55E00\">", 0) == 0);
            std::size_t markers = 0, at = 0;
            while ((at = e.find("<rect", at + 1)) != std::string::npos) // series 1: squares
                ++markers;
            CHECK(markers == 12);
            const auto path = e.substr(e.find("<path"), e.find("/>") - e.find("<path"));
            CHECK(std::count(path.begin(), path.end(), 'M') == 2);
            Series points{"p", {0, 1, 2}, {0.1, std::nan(""), 0.3}, Series::Style::points};
            const std::string p = series_element(points, 0, f, {}, 0);
            CHECK(std::count(p.begin(), p.end(), '<') - 2 == 2); // g, 2 circles, /g
            Series none{"none", {0}, {std::nan("")}};
            CHECK(series_element(none, 0, f, {}, 0) == "");
        }
    }
    TEST_CASE("plot legend") {
        SUBCASE("items in rows, never overlapping, never past the right end") {
            std::vector<Series> series;
            for (int k = 0; k < 10; ++k)
                series.push_back({"decoder number " + std::to_string(k), {}, {}});
            series.push_back({"", {}, {}}); // no name: no item
            series.push_back({std::string(200, 'x'), {}, {}});
            const LegendLayout l = layout_legend(series, 50, 500, 30);
            REQUIRE(l.items.size() == 11);
            CHECK(l.series.back() == 11);
            for (std::size_t a = 0; a < l.items.size(); ++a) {
                const LegendItem& p = l.items[a];
                CHECK(p.x >= 50);
                CHECK(p.x + p.width <= 550 + 1e-9);
                for (std::size_t b = a + 1; b < l.items.size(); ++b) {
                    const LegendItem& q = l.items[b];
                    const bool same_row = p.y == q.y;
                    CHECK((!same_row || p.x + p.width <= q.x || q.x + q.width <= p.x));
                }
            }
            CHECK(l.items.back().text.size() < 200);                       // cut to the row
            CHECK(l.height == doctest::Approx(l.items.back().y - 30 + 9)); // rows x 18
            CHECK(l.height > 18.0 * 2);
            const std::string svg = legend_element(series, l);
            CHECK(svg.find(">decoder number 9</text>") != std::string::npos);
            std::vector<Series> unnamed = {{"", {}, {}}};
            CHECK(layout_legend(unnamed, 0, 100, 0).height == 0.0);
        }
        SUBCASE("marker labels that would overlap go to the next row") {
            const std::vector<double> lefts = {10, 50, 200, 60}, widths = {60, 60, 60, 10};
            CHECK(marker_label_rows(lefts, widths) == std::vector<int>{0, 1, 0, 2});
        }
    }
}
