// E5's presentation (e5_end_of_story.cpp measures): p(end) around human stories' ends, the table
// by decoder and end-of-text mode, repetition before and after the natural end, the findings.
#include "experiments.hpp"

#include <cmath>

namespace collapse {

namespace olab = ouro::lab;
namespace gen = ouro::gen;

namespace {

double mean(const std::vector<double>& v) {
    if (v.empty())
        return std::nan("");
    double s = 0;
    for (double x : v)
        s += x;
    return s / double(v.size());
}

double percent(std::int64_t k, std::int64_t n) {
    return 100.0 * double(k) / double(n);
}

void end_plot(ExperimentResult& r, const E5Result& m) {
    olab::Series s_pend{"p(end token), human stories", {}, {}, olab::Series::Style::line_points};
    olab::Series s_h{"entropy (nats / 10)", {}, {}, olab::Series::Style::line};
    for (std::size_t k = 0; k < m.offset.size(); ++k) {
        s_pend.x.push_back(m.offset[k]);
        s_pend.y.push_back(m.p_end[k]);
        s_h.x.push_back(m.offset[k]);
        s_h.y.push_back(m.entropy[k] / 10.0);
    }
    olab::PlotSpec p1;
    p1.title = "E5: probability of the end token around the natural end of human stories";
    p1.x_label = "tokens from the story's end (0: the end token is the next token)";
    p1.y_label = "probability";
    p1.y_min = 0.0;
    p1.y_max = 1.0;
    p1.series = {s_pend, s_h};
    p1.markers.push_back({0.0, "story ends"});
    r.plots.push_back(p1);
}

olab::Table e5_table(const E5Result& m) {
    olab::Table t({"decoder", "end token", "samples", "mean tokens", "ended %",
                   "natural end found %", "mean natural end", "seq-rep-4 before end",
                   "seq-rep-4 after end", "loop %", "loop onset - end"});
    for (const E5Row& row : m.rows)
        t.add_row({row.decoder, gen::to_string(row.mode), olab::fmt(row.samples),
                   olab::fmt(mean(row.lengths), 1),
                   row.mode == gen::EndOfText::stop ? olab::fmt(percent(row.ended, row.samples), 1)
                                                    : std::string("-"),
                   olab::fmt(percent(row.found, row.samples), 1), olab::fmt(mean(row.ends), 1),
                   olab::fmt(mean(row.rep_before)), olab::fmt(mean(row.rep_after)),
                   olab::fmt(percent(row.loops, row.samples), 1),
                   olab::fmt(mean(row.onset_minus_end), 1)});
    return t;
}

void repetition_plot(ExperimentResult& r, const E5Result& m) {
    olab::PlotSpec p2;
    p2.title = "E5: repetition before and after the natural end (end token ignored)";
    p2.x_label = "decoder";
    p2.y_label = "seq-rep-4";
    p2.y_min = 0.0;
    p2.y_max = 1.0;
    olab::Series bars_before{"before the natural end", {}, {}, olab::Series::Style::bars};
    olab::Series bars_after{"after the natural end", {}, {}, olab::Series::Style::bars};
    for (const E5Row& row : m.rows)
        if (row.mode == gen::EndOfText::ignore) {
            const double x = double(p2.x_categories.size());
            p2.x_categories.push_back(row.decoder);
            bars_before.x.push_back(x);
            bars_before.y.push_back(mean(row.rep_before));
            bars_after.x.push_back(x);
            bars_after.y.push_back(mean(row.rep_after));
        }
    p2.series = {bars_before, bars_after};
    r.plots.push_back(p2);
}

void e5_findings(ExperimentResult& r, const E5Result& m) {
    r.findings.push_back("At the end of a human story the model gives the end token probability " +
                         olab::fmt(m.p_end_at_end) + " on average (" +
                         olab::fmt(m.p_end_10_before) +
                         " ten tokens earlier), and it is the first choice in " +
                         olab::fmt(percent(m.end_is_argmax, std::int64_t(m.stories)), 0) +
                         "% of the stories: it knows where stories end.");
    const E5Row& ignore = m.row("greedy", gen::EndOfText::ignore);
    const E5Row& stop = m.row("greedy", gen::EndOfText::stop);
    const double onset = mean(ignore.onset_minus_end);
    // 95% intervals over the samples: Student's t for seq-rep-4, Wilson's for the share ended.
    r.findings.push_back(
        "With the end token ignored (as in the example from the blog post), "
        "greedy text has seq-rep-4 " +
        olab::with_interval(mean_and_interval(ignore.rep_before, 0.0, 1.0)) +
        " before its natural end and " +
        olab::with_interval(mean_and_interval(ignore.rep_after, 0.0, 1.0)) + " after it; " +
        (std::isnan(onset) ? "no loop that runs to the end began within " +
                                 std::to_string(m.max_new_tokens) + " tokens"
                           : "its loops begin on average " + olab::fmt(onset, 0) +
                                 " tokens after the natural end") +
        ". Stopping at the end token ends " +
        olab::with_interval(as_percent(olab::wilson_interval(stop.ended, stop.samples)), 0, 1.0,
                            "%") +
        " of the greedy samples before any of that.");
}

} // namespace

ExperimentResult present_e5(const E5Result& m) {
    ExperimentResult r;
    r.id = "e5";
    r.title = "What happens at the end of a story?";
    r.question = "p(end token) around the natural end; decoding that stops vs that ignores the "
                 "end token; the loop onset after it.";
    end_plot(r, m);
    r.table = e5_table(m);
    repetition_plot(r, m);
    r.method = std::to_string(m.stories) +
               " held-out stories teacher-forced through their end token into the next story; " +
               std::to_string(m.prompts) + " prompts decoded for up to " +
               std::to_string(m.max_new_tokens) +
               " tokens with the end token as a stop, ignored (its logit at -inf, as in the "
               "example from the blog post) or fed as a new story. The natural end of a sample is "
               "the first token "
               "where the end token was the model's most probable choice.";
    e5_findings(r, m);
    return r;
}

} // namespace collapse
