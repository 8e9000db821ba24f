// E9's presentation (e9_data_ngrams.cpp measures): the loop units with their training counts,
// the training frequency of loop n-grams against other n-grams, and the findings.
#include "experiments.hpp"

namespace collapse {

namespace olab = ouro::lab;
using olab::fmt;

namespace {

constexpr int min_n = E9Result::min_n, max_n = E9Result::max_n;

void e9_plots(ExperimentResult& r, const E9Result& m) {
    std::vector<std::string> categories;
    olab::Series loop_mean{"loop n-grams", {}, {}, olab::Series::Style::bars};
    olab::Series other_mean{"other n-grams of the samples", {}, {}, olab::Series::Style::bars};
    olab::Series loop_seen{"loop n-grams", {}, {}, olab::Series::Style::bars};
    olab::Series other_seen{"other n-grams of the samples", {}, {}, olab::Series::Style::bars};
    auto seen = [](const E9Rates& s) {
        return s.ngrams ? 100.0 * double(s.ngrams - s.unseen) / double(s.ngrams)
                        : std::numeric_limits<double>::quiet_NaN();
    };
    for (int n = min_n; n <= max_n; ++n) {
        const E9Rates& loop = m.loop_rates[std::size_t(n)];
        const E9Rates& other = m.other_rates[std::size_t(n)];
        categories.push_back("n=" + std::to_string(n));
        const double x = double(n - min_n);
        loop_mean.x.push_back(x);
        loop_mean.y.push_back(loop.mean);
        other_mean.x.push_back(x);
        other_mean.y.push_back(other.mean);
        loop_seen.x.push_back(x);
        loop_seen.y.push_back(seen(loop));
        other_seen.x.push_back(x);
        other_seen.y.push_back(seen(other));
    }
    olab::PlotSpec rate_plot;
    rate_plot.title = "Training frequency: loop n-grams vs other n-grams";
    rate_plot.x_label = "n-gram length";
    rate_plot.y_label = "mean occurrences per million training n-grams";
    rate_plot.x_categories = categories;
    rate_plot.y_min = 0.0;
    rate_plot.series = {loop_mean, other_mean};
    r.plots.push_back(std::move(rate_plot));
    olab::PlotSpec seen_plot;
    seen_plot.title = "n-grams found in the training stories";
    seen_plot.x_label = "n-gram length";
    seen_plot.y_label = "% of the n-grams";
    seen_plot.x_categories = categories;
    seen_plot.y_min = 0.0;
    seen_plot.y_max = 100.0;
    seen_plot.series = {loop_seen, other_seen};
    r.plots.push_back(std::move(seen_plot));
}

void e9_findings(ExperimentResult& r, const E9Result& m) {
    r.findings.push_back(std::to_string(m.looping) + " of " + std::to_string(m.samples) +
                         " greedy samples end in a loop (3 copies), with " +
                         std::to_string(m.units.size()) + " distinct loop units.");
    if (m.units.empty()) {
        r.findings.push_back("No greedy sample ends in a loop of 3 copies at this length, so "
                             "there are no loop n-grams to look up.");
        return;
    }
    const E9Unit& top = m.units.front();
    r.findings.push_back("The most frequent unit in the training data, \"" + top.text +
                         "\" (period " + std::to_string(top.tokens.size()) + "), occurs " +
                         fmt(top.occurrences) + " times in " + fmt(top.stories) + " of " +
                         std::to_string(m.train_stories) + " training stories (" +
                         fmt(100.0 * double(top.stories) / double(m.train_stories), 1) + "%).");
    for (const int n : {2, 4, 6}) {
        const E9Rates& a = m.loop_rates[std::size_t(n)];
        const E9Rates& b = m.other_rates[std::size_t(n)];
        r.findings.push_back(std::to_string(n) + "-grams: loop n-grams occur " + fmt(a.mean, 1) +
                             " times per million training n-grams on average (median " +
                             fmt(a.median, 1) + ", " + fmt(a.unseen) + " of " + fmt(a.ngrams) +
                             " never), other n-grams of the samples " + fmt(b.mean, 1) +
                             " (median " + fmt(b.median, 1) + ", " + fmt(b.unseen) + " of " +
                             fmt(b.ngrams) + " never)" +
                             (b.mean > 0 ? ": a ratio of " + fmt(a.mean / b.mean, 2) + "." : "."));
    }
}

} // namespace

ExperimentResult present_e9(const E9Result& m) {
    ExperimentResult r;
    r.id = "e9";
    r.title = "Where do the loops come from?";
    r.question = "Where do the loops come from? (frequency in the training data of the n-grams "
                 "that appear in loops)";
    r.method = "Greedy samples of " + std::to_string(m.max_new_tokens) + " new tokens from " +
               std::to_string(m.prompts) +
               " prompts (end token ignored); loops by find_loop with 3 copies; their units and "
               "n-grams (n = 2..6) counted in " +
               std::to_string(m.train_stories) + " training stories (" +
               std::to_string(m.train_tokens) +
               " tokens), against as many random n-grams of the same samples outside the loops "
               "(seed " +
               std::to_string(m.seed) + ").";
    r.table = olab::Table({"loop unit", "period", "samples", "count in training data",
                           "per million", "stories containing it", "stories %"});
    for (std::size_t i = 0; i < m.units.size(); ++i) {
        const E9Unit& u = m.units[i];
        r.table.add_row({"\"" + u.text + "\"", fmt(std::int64_t(u.tokens.size())), fmt(u.samples),
                         fmt(u.occurrences), fmt(m.unit_per_million[i], 1), fmt(u.stories),
                         fmt(100.0 * double(u.stories) / double(m.train_stories), 2)});
    }
    e9_plots(r, m);
    e9_findings(r, m);
    return r;
}

} // namespace collapse
