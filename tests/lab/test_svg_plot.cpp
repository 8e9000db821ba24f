#include "lab/svg_text_check.hpp"
#include "lab/xml_check.hpp"

#include <ouro/core/atomic_file.hpp>
#include <ouro/core/error.hpp>
#include <ouro/lab/plot_parts.hpp>
#include <ouro/lab/svg_plot.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

using namespace ouro;
using namespace ouro::lab;
using ouro::testing::count;
using ouro::testing::xml_problem;

namespace {

// The element that starts with `<tag ... class="series" data-name="name"`, up to its end.
std::string series_element(const std::string& svg, const std::string& name) {
    const auto at = svg.find("class=\"series\" data-name=\"" + name + "\"");
    if (at == std::string::npos)
        return "";
    const auto start = svg.rfind('<', at);
    const bool group = svg.compare(start, 2, "<g") == 0;
    const auto end = group ? svg.find("</g>", at) + 4 : svg.find("/>", at) + 2;
    return svg.substr(start, end - start);
}

PlotSpec two_lines() {
    PlotSpec spec;
    spec.title = "Entropy by position";
    spec.x_label = "position";
    spec.y_label = "entropy";
    Series a{"greedy", {0, 1, 2, 3, 4, 5}, {0.1, 0.5, std::nan(""), 0.7, 0.93, 0.2}};
    Series b{"top-p", {0, 1, 2, 3, 4, 5}, {0.3, 0.2, 0.25, 0.4, 0.35, 0.3}};
    spec.series = {a, b};
    spec.markers = {{3.0, "loop onset"}};
    return spec;
}

} // namespace

TEST_SUITE("lab") {
    TEST_CASE("svg_plot") {
        SUBCASE("a self-contained, well-formed svg element") {
            const std::string svg = svg_plot(two_lines());
            CHECK(xml_problem(svg) == "");
            CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\"", 0) == 0);
            CHECK(svg.find("viewBox=\"0 0 960 420\"") != std::string::npos);
            CHECK(svg.find("font-family=\"sans-serif\"") != std::string::npos);
            for (const char* banned : {"<script", "href", "url(", "@import", "<image", "<style"})
                CHECK_MESSAGE(svg.find(banned) == std::string::npos, banned);
            CHECK(count(svg, "http") == 1); // the xmlns only
            CHECK(svg.substr(svg.size() - 6) == "</svg>");
        }
        SUBCASE("deterministic") {
            CHECK(svg_plot(two_lines()) == svg_plot(two_lines()));
            PlotSpec other = two_lines();
            other.series[1].y[0] = 0.31;
            CHECK(svg_plot(other) != svg_plot(two_lines()));
        }
        SUBCASE("one element per series, a gap at NaN") {
            const std::string svg = svg_plot(two_lines());
            CHECK(count(svg, "class=\"series\"") == 2);
            const std::string greedy = series_element(svg, "greedy");
            REQUIRE(greedy.rfind("<g", 0) == 0);
            CHECK(count(greedy, "<circle") == 5); // a marker at each point (series 0: circles)
            CHECK(count(greedy, "M") == 2);       // two runs around the NaN
            CHECK(count(greedy, "L") == 3);
            CHECK(svg.find("data-name=\"greedy\"") < svg.find("data-name=\"top-p\""));
            // Legend entries, marker, title and axis labels.
            for (const char* text :
                 {">greedy</text>", ">top-p</text>", ">loop onset</text>",
                  ">Entropy by position</text>", ">position</text>", ">entropy</text>"})
                CHECK_MESSAGE(svg.find(text) != std::string::npos, text);
            CHECK(svg.find("stroke-dasharray") != std::string::npos);
        }
        SUBCASE("nice ticks") {
            // y from 0.1 to 0.93: step 0.2, range 0 to 1; x from 0 to 5: step 1.
            const std::string svg = svg_plot(two_lines());
            for (const char* label : {">0.0</text>", ">0.2</text>", ">0.4</text>", ">0.6</text>",
                                      ">0.8</text>", ">1.0</text>", ">0</text>", ">5</text>"})
                CHECK_MESSAGE(svg.find(label) != std::string::npos, label);
            CHECK(svg.find(">1.2</text>") == std::string::npos);
        }
        SUBCASE("points and bars over categories") {
            PlotSpec spec;
            spec.width = 400;
            spec.x_categories = {"greedy", "beam", "a rather long decoder name"};
            spec.series = {{"loops %", {0, 1, 2}, {90, 80, 5}, Series::Style::bars},
                           {"rep-4", {0, 1, 2}, {50, std::nan(""), 10}, Series::Style::points},
                           {"both", {0, 1, 2}, {20, 30, 40}, Series::Style::line_points}};
            const std::string svg = svg_plot(spec);
            CHECK(xml_problem(svg) == "");
            CHECK(count(series_element(svg, "loops %"), "<rect") == 3);
            CHECK(count(series_element(svg, "rep-4"), "<rect") == 2); // series 1: squares
            const std::string both = series_element(svg, "both");
            CHECK(count(both, "<path") == 4); // the line and 3 triangles (series 2)
            CHECK(svg.find(">a rather long decoder name</text>") != std::string::npos);
            CHECK(svg.find("rotate(-40") != std::string::npos); // long labels are rotated
            spec.x_categories = {"a", "b", "c"};
            CHECK(svg_plot(spec).find("rotate(-40") == std::string::npos);
        }
        SUBCASE("log axes skip non-positive values") {
            PlotSpec spec;
            spec.log_y = true;
            spec.series = {{"loss", {1, 2, 3, 4}, {0.0, 1.0, 10.0, 100.0}}};
            const std::string svg = svg_plot(spec);
            const std::string loss = series_element(svg, "loss");
            CHECK(count(loss, "M") == 1);
            CHECK(count(loss, "L") == 2);
            for (const char* label : {">1</text>", ">10</text>", ">100</text>"})
                CHECK_MESSAGE(svg.find(label) != std::string::npos, label);
        }
        SUBCASE("a series with no finite point is only in the legend") {
            PlotSpec spec = two_lines();
            spec.series.push_back({"empty", {0, 1}, {std::nan(""), std::nan("")}});
            const std::string svg = svg_plot(spec);
            CHECK(count(svg, "class=\"series\"") == 2);
            CHECK(svg.find(">empty</text>") != std::string::npos);
            PlotSpec none;
            none.series = {{"nothing", {}, {}}};
            CHECK(xml_problem(svg_plot(none)) == "");
        }
        SUBCASE("long legend names are cut, data-name is whole") {
            PlotSpec spec = two_lines();
            const std::string name(300, 'n');
            spec.series[0].name = name;
            const std::string svg = svg_plot(spec);
            CHECK(svg.find("data-name=\"" + name + "\"") != std::string::npos);
            CHECK(svg.find(">" + name + "</text>") == std::string::npos);
            CHECK(svg.find("n\xE2\x80\xA6</text>") != std::string::npos);
            CHECK(svg.find(">top-p</text>") != std::string::npos); // short names stay
        }
        SUBCASE("a log y axis when the values span decades") {
            PlotSpec spec;
            spec.series = {{"loss", {1, 2, 3, 4}, {0.5, 3.0, 40.0, 900.0}}};
            CHECK(svg_plot(spec).find(">1000</text>") != std::string::npos);
            CHECK(svg_plot(spec).find(">0.1</text>") != std::string::npos);
            spec.series[0].y[3] = 90.0; // 2.3 decades: linear
            CHECK(svg_plot(spec).find(">0.1</text>") == std::string::npos);
            spec.series[0].y[3] = 900.0;
            spec.y_min = 0.0; // a fixed range keeps the axis linear
            CHECK(svg_plot(spec).find(">0.1</text>") == std::string::npos);
        }
        SUBCASE("every series in its own colour") {
            PlotSpec spec;
            for (int k = 0; k < 12; ++k)
                spec.series.push_back({"s" + std::to_string(k), {0, 1}, {double(k), 1.0}});
            const std::string svg = svg_plot(spec);
            for (std::size_t k = 0; k < 12; ++k)
                CHECK(count(svg, "class=\"series\" data-name=\"s" + std::to_string(k) +
                                     "\" fill=\"" + plot::series_style(k).colour + "\"") == 1);
            spec.series.push_back({"one too many", {0}, {1}});
            CHECK_THROWS_WITH_AS(svg_plot(spec),
                                 "svg_plot: 13 series, but only 12 have a colour of their own",
                                 ConfigError);
        }
        SUBCASE("no text passes the edges or overlaps other text") {
            std::vector<PlotSpec> specs(6, two_lines());
            specs[1].title = std::string(400, 'T');
            specs[1].x_label = std::string(300, 'x');
            specs[1].y_label = std::string(300, 'y');
            specs[2].x_categories = {"a decoder with a very long name indeed, longer than most",
                                     "greedy",
                                     "beam 4",
                                     "T=1",
                                     "top-k 40",
                                     "top-p 0.95",
                                     "min-p 0.05",
                                     "typical 0.95",
                                     "eta 3e-4",
                                     "mirostat v2"};
            specs[2].series = {{"loops %",
                                {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
                                {90, 80, 5, 3, 2, 1, 4, 5, 6, 7},
                                Series::Style::bars}};
            specs[2].markers.clear();
            specs[3].series.clear();
            for (int k = 0; k < 12; ++k) // a legend of many rows
                specs[3].series.push_back(
                    {"decoder number " + std::to_string(k) + " with settings", {0, 5}, {0, 1}});
            specs[4].series = {{"big", {1e6, 2e6, 3e6, 4e6, 5e6}, {1, 2, 3, 4, 5}}};
            specs[4].markers = {
                {1.2e6, "loop onset"}, {1.3e6, "natural end"}, {4.9e6, "block size"}};
            specs[5].width = 320;
            specs[5].height = 200;
            for (std::size_t i = 0; i < specs.size(); ++i) {
                CAPTURE(i);
                const std::string svg = svg_plot(specs[i]);
                CHECK(ouro::testing::texts_outside(svg, specs[i].width, specs[i].height) == "");
                CHECK(ouro::testing::texts_overlapping(svg) == "");
            }
        }
        SUBCASE("fixed ranges") {
            PlotSpec spec = two_lines();
            spec.y_min = 0.0;
            spec.y_max = 0.5;
            const std::string svg = svg_plot(spec);
            CHECK(svg.find(">0.5</text>") != std::string::npos);
            CHECK(svg.find(">0.6</text>") == std::string::npos);
            CHECK(svg.find("overflow=\"hidden\"") != std::string::npos); // clipped
        }
        SUBCASE("text is escaped") {
            PlotSpec spec;
            spec.title = "<script>alert('x')</script>";
            spec.x_label = "a & b";
            spec.series = {{"say \"hi\" <now>", {0, 1}, {1, 2}}};
            spec.markers = {{0.5, "x>y"}};
            spec.x_categories = {};
            const std::string svg = svg_plot(spec);
            CHECK(xml_problem(svg) == "");
            CHECK(svg.find("<script") == std::string::npos);
            CHECK(svg.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") != std::string::npos);
            CHECK(svg.find(">a &amp; b</text>") != std::string::npos);
            CHECK(svg.find("data-name=\"say &quot;hi&quot; &lt;now&gt;\"") != std::string::npos);
            CHECK(svg.find(">x&gt;y</text>") != std::string::npos);
            spec.series[0].name = "bad \xFF byte";
            CHECK(svg_plot(spec).find("bad \xEF\xBF\xBD byte") != std::string::npos);
        }
        SUBCASE("rejects bad specs") {
            PlotSpec spec;
            CHECK_THROWS_WITH_AS(svg_plot(spec), "svg_plot: the spec has no series", ConfigError);
            spec.series = {{"greedy", std::vector<double>(10, 1.0), std::vector<double>(9, 1.0)}};
            CHECK_THROWS_WITH_AS(svg_plot(spec),
                                 "svg_plot: series 'greedy' has 10 x values and 9 y values",
                                 ConfigError);
            spec.series = {{"ok", {1, 2}, {1, 2}}};
            spec.width = 100;
            CHECK_THROWS_WITH_AS(svg_plot(spec),
                                 "svg_plot: the plot must be at least 160 x 120, got 100 x 420",
                                 ConfigError);
            spec.width = 640;
            spec.y_min = 2.0;
            spec.y_max = 1.0;
            CHECK_THROWS_WITH_AS(svg_plot(spec), "svg_plot: the y range is empty: 2.000 to 1.000",
                                 ConfigError);
            spec.y_min.reset();
            spec.y_max.reset();
            spec.log_x = true;
            spec.x_min = 0.0;
            spec.x_max = 10.0;
            CHECK_THROWS_WITH_AS(
                svg_plot(spec),
                "svg_plot: the x range of a log axis must be positive, got 0.000 to 10.000",
                ConfigError);
        }
        SUBCASE("values far outside a fixed range") {
            PlotSpec spec;
            spec.y_min = 0.0;
            spec.y_max = 1.0;
            spec.series = {{"far", {0, 1, 2}, {0.5, 1e300, -1e300}}};
            const std::string svg = svg_plot(spec);
            CHECK(xml_problem(svg) == "");
            CHECK(svg.find("inf") == std::string::npos);
            CHECK(svg.find("-1000000.00") != std::string::npos);
            spec.y_min.reset();
            spec.y_max.reset();
            spec.series = {{"huge", {0, 1}, {-1e308, 1e308}}};
            CHECK_THROWS_WITH_AS(svg_plot(spec),
                                 "svg_plot: the y values span more than a double holds",
                                 ConfigError);
        }
        SUBCASE("write_svg") {
            const auto dir = std::filesystem::temp_directory_path() / "ouro_test_svg_plot";
            std::filesystem::create_directories(dir);
            write_svg(dir / "p.svg", two_lines());
            const std::string text = read_file(dir / "p.svg", "test");
            CHECK(text ==
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg_plot(two_lines()) + "\n");
            CHECK(xml_problem(text) == "");
            std::filesystem::remove_all(dir);
            CHECK_THROWS_AS(write_svg(dir / "missing" / "p.svg", two_lines()), IoError);
        }
    }
}
