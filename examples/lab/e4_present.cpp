// E4's presentation (e4_context.cpp measures): the table by model and policy, the human-text NLL
// by position, greedy repetition inside vs past the trained context, and the findings.
#include "experiments.hpp"

#include <cmath>

namespace collapse {

namespace gen = ouro::gen;
namespace olab = ouro::lab;
using olab::fmt;

namespace {

// Missing values are written as in every table (olab::missing_cell).
std::string cell(double v, int decimals = 3) {
    return std::isnan(v) ? std::string(olab::missing_cell) : fmt(v, decimals);
}

// A number with its 95% interval, or the missing-value mark.
std::string ci(const olab::Interval& i, int decimals = 3, double scale = 1.0,
               const std::string& unit = "") {
    return std::isnan(i.estimate) ? cell(i.estimate)
                                  : olab::with_interval(i, decimals, scale, unit);
}

olab::Table e4_table(const E4Result& r) {
    olab::Table t({"model", "positions", "policy", "tf nll first block", "tf nll past block",
                   "greedy seq-rep-4 first", "greedy seq-rep-4 past", "greedy loop% past",
                   "top-p seq-rep-4 first", "top-p seq-rep-4 past", "top-p loop% past"});
    for (const E4Model& m : r.models)
        for (const E4Policy& p : m.policies)
            t.add_row({m.name, m.position, policy_name(p.policy),
                       p.applies ? cell(p.tf_first.estimate) : olab::missing_cell,
                       cell(p.tf_past.estimate), cell(p.greedy.seq_rep4_first.estimate),
                       cell(p.greedy.seq_rep4_past.estimate), cell(p.greedy.loop_past_percent(), 1),
                       cell(p.top_p.seq_rep4_first.estimate), cell(p.top_p.seq_rep4_past.estimate),
                       cell(p.top_p.loop_past_percent(), 1)});
    return t;
}

// One plot per model: teacher-forced NLL by window of positions, a line per policy.
void nll_plots(ExperimentResult& r, const E4Result& e) {
    for (const E4Model& m : e.models) {
        olab::PlotSpec plot;
        plot.title = "Human-text NLL by position: " + m.name;
        plot.x_label = "position of the predicted token (window start)";
        plot.y_label = "mean NLL (nats)";
        for (const E4Policy& p : m.policies) {
            if (!p.applies || p.tf_windows.mean.empty())
                continue;
            olab::Series s{policy_name(p.policy), {}, {}, olab::Series::Style::line_points};
            for (std::size_t w = 0; w < p.tf_windows.mean.size(); ++w) {
                s.x.push_back(double(p.tf_windows.begin(std::int64_t(w)) + 1));
                s.y.push_back(p.tf_windows.mean[w]);
            }
            plot.series.push_back(std::move(s));
        }
        if (plot.series.empty())
            continue;
        plot.markers.push_back({double(m.block_size), "end of the trained context"});
        r.plots.push_back(std::move(plot));
    }
}

// The repetition of greedy samples past block_size, by model and policy.
void repetition_plot(ExperimentResult& r, const E4Result& e) {
    olab::PlotSpec plot;
    plot.title = "Greedy seq-rep-4: inside vs past the trained context";
    plot.x_label = "model / policy";
    plot.y_label = "seq-rep-4";
    plot.y_min = 0.0;
    plot.height = 420;
    olab::Series first{"inside the trained context", {}, {}, olab::Series::Style::bars};
    olab::Series past{"past the trained context", {}, {}, olab::Series::Style::bars};
    for (const E4Model& m : e.models)
        for (const E4Policy& p : m.policies) {
            if (!p.applies || p.policy == gen::ContextPolicy::stop)
                continue;
            const double x = double(plot.x_categories.size());
            plot.x_categories.push_back((e.models.size() > 1 ? m.position + " " : std::string()) +
                                        policy_name(p.policy));
            first.x.push_back(x);
            first.y.push_back(p.greedy.seq_rep4_first.estimate);
            past.x.push_back(x);
            past.y.push_back(p.greedy.seq_rep4_past.estimate);
        }
    plot.series = {first, past};
    if (!plot.x_categories.empty())
        r.plots.push_back(std::move(plot));
}

// With 95% intervals: Student's t over the streams (NLL) or samples (seq-rep-4), Wilson's for
// the share of samples that loop.
void e4_findings(ExperimentResult& r, const E4Model& m) {
    std::string tf = m.name + " (" + m.position + " positions, trained context " +
                     std::to_string(m.block_size) + " tokens): surprise at human text fed in ";
    const E4Policy& stop = m.policies.front();
    if (std::isnan(stop.tf_first.estimate)) {
        tf += "not measured (pass --valid).";
    } else {
        tf += ci(stop.tf_first) + " nats inside the trained context; past it";
        for (const E4Policy& p : m.policies)
            if (p.policy != gen::ContextPolicy::stop)
                tf += " " + policy_name(p.policy) + " " +
                      (p.applies ? ci(p.tf_past) : cell(std::nan(""))) +
                      (p.policy == gen::ContextPolicy::sinks ? "." : ",");
    }
    r.findings.push_back(tf);
    std::string rep = m.name + ": greedy seq-rep-4 inside the trained context vs past it:";
    const char* sep = " ";
    for (const E4Policy& p : m.policies)
        if (p.applies && p.policy != gen::ContextPolicy::stop) {
            rep += sep + policy_name(p.policy) + " " + ci(p.greedy.seq_rep4_first) + " -> " +
                   ci(p.greedy.seq_rep4_past) + " (" + ci(p.greedy.loop_past(), 1, 100.0, "%") +
                   " loop; top-p " + ci(p.top_p.seq_rep4_first) + " -> " +
                   ci(p.top_p.seq_rep4_past) + ")";
            sep = "; ";
        }
    r.findings.push_back(rep + ".");
}

} // namespace

ExperimentResult present_e4(const E4Result& e) {
    ExperimentResult r;
    r.id = "e4";
    r.title = "What happens past the trained context?";
    r.question = "What happens past the trained context? (stop, crop-and-recompute, sliding KV "
                 "cache, sliding cache keeping the first 4 tokens; learned positions vs RoPE vs "
                 "ALiBi)";
    r.method = "For each model and context policy: greedy and top-p 0.95 samples of twice "
               "the trained context (block_size) in new tokens (end token ignored) from " +
               std::to_string(e.prompts) + " prompts (" + std::to_string(e.samples) +
               " top-p sample(s) each, seed " + std::to_string(e.seed) +
               "), and teacher forcing of up to " + std::to_string(e.streams_wanted) +
               " streams of twice the trained context of held-out stories" +
               (e.quick ? "; quick mode: crop stops 64 tokens past the trained context" : "") +
               ". slide / sinks need RoPE or ALiBi (not run with learned positions); stop ends at "
               "the trained context, so it has nothing past it.";
    r.table = e4_table(e);
    nll_plots(r, e);
    repetition_plot(r, e);
    for (const E4Model& m : e.models)
        e4_findings(r, m);
    return r;
}

} // namespace collapse
