// The sample report of the lab writers' tests: three plots (lines with a marker and a gap, points
// over categories, grouped bars), a table, a shaded text with a prompt and a loop, and two shaded
// texts side by side. Data are fixed formulas, so the page is the same bytes on every run.
// Used by the doctest suite (validator) and by ouro_make_sample_report (headless Chromium test).
#pragma once

#include <ouro/lab/html_report.hpp>
#include <ouro/lab/svg_plot.hpp>
#include <ouro/lab/table.hpp>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace ouro::testing {

/// Plots in the sample report, and drawn series in them (every series has finite points).
inline constexpr int kSamplePlots = 3;
inline constexpr int kSampleSeries = 6;

/// The words of the shaded sample: a prompt, a story, then a loop.
inline std::vector<lab::ShadedToken> sample_tokens() {
    const std::string prompt = "Once upon a time there was a prince";
    const std::string story = " who lived in a big castle. He was very happy and loved to play "
                              "with his friends. The moral of the story is";
    const std::string loop = " to be kind and help others.";
    std::vector<lab::ShadedToken> tokens;
    auto add_words = [&](const std::string& text, bool is_prompt, bool in_loop, double start) {
        std::istringstream in(text);
        std::size_t i = 0;
        for (std::string w; in >> w; ++i) {
            lab::ShadedToken t;
            t.text = (tokens.empty() ? "" : " ") + w;
            t.is_prompt = is_prompt;
            t.in_loop = in_loop;
            t.value = is_prompt ? std::nan("") : start * std::exp(-0.08 * double(i));
            if (!is_prompt) { // hover numbers: p, entropy, five alternatives (the token first)
                t.prob = 1.0 - t.value * 0.9;
                t.entropy = t.value * 4.0;
                t.alternatives.push_back({t.text, t.prob});
                for (const char* alt : {" the", " a", "\n", " <and>"})
                    t.alternatives.push_back({alt, (1.0 - t.prob) / 4.0});
            }
            tokens.push_back(t);
        }
    };
    add_words(prompt, true, false, 0.0);
    add_words(story, false, false, 0.9);
    for (int copy = 0; copy < 3; ++copy)
        add_words(loop, false, true, 0.3 / double(copy + 1));
    // A token that is a partial UTF-8 character (the first two bytes of a 3-byte one).
    tokens.push_back({"\xE2\x80", 0.5, true, false, "partial <UTF-8> & \"quotes\""});
    return tokens;
}

/// Plot 1: entropy along a sample (one NaN gap) and along human text, with the loop onset.
inline lab::PlotSpec sample_line_plot() {
    lab::PlotSpec spec;
    spec.title = "Entropy by position";
    spec.x_label = "position";
    spec.y_label = "entropy (nats)";
    lab::Series sampled{"greedy sample", {}, {}, lab::Series::Style::line};
    lab::Series human{"human text (teacher-forced)", {}, {}, lab::Series::Style::line};
    for (int i = 0; i < 200; ++i) {
        const double x = double(i);
        sampled.x.push_back(x);
        sampled.y.push_back(i == 60 ? std::nan("") : 3.0 * std::exp(-x / 70.0) + 0.2 * std::sin(x));
        human.x.push_back(x);
        human.y.push_back(2.2 + 1.2 * std::exp(-x / 40.0) + 0.15 * std::cos(0.7 * x));
    }
    spec.series = {sampled, human};
    spec.markers = {{120.0, "loop onset"}};
    return spec;
}

inline const std::vector<std::string>& sample_decoders() {
    static const std::vector<std::string> names = {"greedy",   "beam 4",     "T=1",
                                                   "top-k 40", "top-p 0.95", "min-p 0.05",
                                                   "typical",  "mirostat v2"};
    return names;
}

/// Plot 2: two metrics per decoder as points over named categories.
inline lab::PlotSpec sample_points_plot() {
    lab::PlotSpec spec;
    spec.title = "Repetition by decoder";
    spec.y_label = "fraction";
    spec.x_categories = sample_decoders();
    lab::Series rep{"seq-rep-4", {}, {}, lab::Series::Style::points};
    lab::Series distinct{"distinct-2", {}, {}, lab::Series::Style::points};
    for (std::size_t i = 0; i < spec.x_categories.size(); ++i) {
        rep.x.push_back(double(i));
        rep.y.push_back(0.85 / (1.0 + double(i) * 0.7));
        distinct.x.push_back(double(i));
        distinct.y.push_back(0.2 + 0.08 * double(i));
    }
    spec.series = {rep, distinct};
    spec.y_min = 0.0;
    spec.y_max = 1.0;
    return spec;
}

/// Plot 3: grouped bars, a remedy's loop rate with the penalty over two windows.
inline lab::PlotSpec sample_bar_plot() {
    lab::PlotSpec spec;
    spec.title = "Samples that loop, by remedy <penalty window>";
    spec.y_label = "loops (%)";
    spec.x_categories = {"none", "repetition penalty 1.3", "frequency 0.5", "DRY",
                         "no-repeat-ngram 3"};
    lab::Series whole{"whole history", {}, {}, lab::Series::Style::bars};
    lab::Series last{"last 64 tokens", {}, {}, lab::Series::Style::bars};
    const double whole_y[] = {92, 18, 35, 9, 4}, last_y[] = {92, 31, 47, 14, 11};
    for (std::size_t i = 0; i < 5; ++i) {
        whole.x.push_back(double(i));
        whole.y.push_back(whole_y[i]);
        last.x.push_back(double(i));
        last.y.push_back(last_y[i]);
    }
    spec.series = {whole, last};
    return spec;
}

inline lab::Table sample_table() {
    lab::Table t({"decoder", "seq-rep-4", "distinct-2", "loops %", "note"});
    const auto& names = sample_decoders();
    for (std::size_t i = 0; i < names.size(); ++i)
        t.add_row({names[i], lab::fmt(0.85 / (1.0 + double(i) * 0.7)),
                   lab::fmt(0.2 + 0.08 * double(i)), lab::fmt(std::int64_t(90 - 11 * int(i))),
                   i == 0 ? "loops \"early\" & <often>" : ""});
    return t;
}

/// The whole sample page.
inline std::string sample_report_html() {
    lab::HtmlReport r("ouro lab writers: sample report");
    r.heading(1, "Sample report", "top");
    r.paragraph("Three plots, a table and shaded text; escaping: <b>not bold</b> & \"quoted\".");
    r.heading(2, "Plots", "plots");
    r.svg(lab::svg_plot(sample_line_plot()), "Entropy falls along the greedy sample.");
    r.svg(lab::svg_plot(sample_points_plot()), "Points over named categories.");
    r.svg(lab::svg_plot(sample_bar_plot()), "Grouped bars over named categories.");
    r.heading(2, "Table", "table");
    r.table(sample_table(), "E1 (made-up numbers)");
    r.heading(2, "Shaded text", "shaded");
    const auto tokens = sample_tokens();
    r.shaded_text(tokens, "entropy / max entropy");
    lab::Table numbers({"metric", "value"});
    numbers.add_row({"seq-rep-4", "0.517"});
    numbers.add_row({"loop onset", "23"});
    const std::vector<lab::HtmlReport::Column> columns = {
        {"greedy", tokens, numbers},
        {"top-p 0.95", std::vector<lab::ShadedToken>(tokens.begin(), tokens.begin() + 20),
         numbers}};
    r.heading(3, "Side by side");
    r.side_by_side(columns, "entropy / max entropy");
    r.preformatted("decoder  loops %\ngreedy        90\n");
    return r.str();
}

} // namespace ouro::testing
