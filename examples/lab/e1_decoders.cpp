// E1: which decoders loop? The same prompts under every decoder of COLLAPSE.md's table, past the
// end of the story (the end token ignored, as in the example from the blog post), scored with the
// sample metrics.
#include "experiments.hpp"

#include <algorithm>

namespace collapse {

namespace olab = ouro::lab;

E1Result measure_e1(Lab& lab) {
    const DecodeRequest req = sweep_request(lab, 512);
    const std::vector<Decoder> decoders = standard_decoders();
    const std::vector<SampleMetrics> metrics = measure_decoders(lab, decoders, req, "E1 decoders");
    E1Result m;
    m.run = run_shape(lab, req);
    for (std::size_t i = 0; i < decoders.size(); ++i)
        m.rows.push_back({decoders[i].name, metrics[i]});
    return m;
}

namespace {

// One quantity per plot: the repetition inside samples, then the share of samples that loop,
// then repetition against the model's own surprise.
void e1_plots(ExperimentResult& r, const E1Result& m) {
    olab::Series seq{"seq-rep-4", {}, {}, olab::Series::Style::bars};
    olab::Series holtz{"samples that loop (Holtzman's test)", {}, {}, olab::Series::Style::bars};
    olab::PlotSpec plot;
    for (std::size_t i = 0; i < m.rows.size(); ++i) {
        plot.x_categories.push_back(m.rows[i].name);
        seq.x.push_back(double(i));
        seq.y.push_back(m.rows[i].metrics.seq_rep4);
        holtz.x.push_back(double(i));
        holtz.y.push_back(m.rows[i].metrics.holtzman_percent);
    }
    plot.title = "E1: repetition by decoder";
    plot.x_label = "decoder";
    plot.y_label = "seq-rep-4";
    plot.y_min = 0.0;
    plot.y_max = 1.0;
    plot.series = {seq};
    r.plots.push_back(plot);
    plot.title = "E1: samples that end in a loop, by decoder";
    plot.y_label = "samples (%)";
    plot.y_max = 100.0;
    plot.series = {holtz};
    r.plots.push_back(plot);

    olab::PlotSpec nll_plot;
    nll_plot.title = "E1: repetition against the model's own surprise";
    nll_plot.x_label = "mean NLL of the generated tokens under the model (nats)";
    nll_plot.y_label = "seq-rep-4";
    for (const DecoderRow& d : m.rows)
        nll_plot.series.push_back(
            {d.name, {d.metrics.nll}, {d.metrics.seq_rep4}, olab::Series::Style::points});
    r.plots.push_back(nll_plot);
}

// Findings: which loop, which do not, and what it costs.
void e1_findings(ExperimentResult& r, const E1Result& m) {
    std::string looping, clean;
    for (const DecoderRow& d : m.rows) {
        std::string& list = d.metrics.holtzman_percent >= 50.0 ? looping : clean;
        list += (list.empty() ? "" : ", ") + d.name + " (" +
                olab::fmt(d.metrics.holtzman_percent, 0) + "%)";
    }
    r.findings.push_back("Samples ending in a loop by Holtzman's test (at least half of them): " +
                         (looping.empty() ? std::string("no decoder") : looping) +
                         "; fewer: " + (clean.empty() ? std::string("no decoder") : clean) + ".");
    const SampleMetrics& greedy = row_named(m.rows, "greedy", "E1").metrics;
    const SampleMetrics& top_p = row_named(m.rows, "top-p 0.95", "E1").metrics;
    auto loops = [](const SampleMetrics& x) {
        std::int64_t k = 0;
        for (const std::uint8_t h : x.holtzman_each)
            k += h;
        return k;
    };
    // 95% intervals over the samples: Student's t for the means, Newcombe's for the difference
    // of the shares that loop.
    const olab::Interval d =
        olab::difference_interval(loops(greedy), std::int64_t(greedy.holtzman_each.size()),
                                  loops(top_p), std::int64_t(top_p.holtzman_each.size()));
    r.findings.push_back(
        "Greedy: seq-rep-4 " + olab::with_interval(greedy.seq_rep4_interval()) + ", mean NLL " +
        olab::with_interval(greedy.nll_interval()) + " nats; top-p 0.95: seq-rep-4 " +
        olab::with_interval(top_p.seq_rep4_interval()) + ", NLL " +
        olab::with_interval(top_p.nll_interval()) + "; greedy's share of looping samples minus " +
        "top-p's: " + olab::with_interval(d, 0, 100.0) + " percentage points (95% intervals " +
        "over the samples)." +
        " The likelihood-seeking decoders find text the model itself finds far more probable "
        "than what it writes when it samples: the loop is the high-probability region.");
}

} // namespace

ExperimentResult present_e1(const E1Result& m) {
    ExperimentResult r;
    r.id = "e1";
    r.title = "Which decoders loop?";
    r.question = "The same prompts under greedy, beam, T=1, top-k, top-p, min-p, typical, eta, "
                 "mirostat v2 and contrastive search: which of them end in a loop?";
    r.method = std::to_string(m.run.prompts) + " prompts, " + std::to_string(m.run.max_new_tokens) +
               " new tokens each, end-of-text ignored (the model runs past its story's end), " +
               std::to_string(m.run.samples_per_prompt) +
               " sample(s) per prompt for sampling "
               "decoders, seed " +
               std::to_string(m.run.seed) + ", context policy '" +
               ouro::gen::to_string(m.run.policy) + "'.";
    r.table = olab::Table(metrics_columns());
    for (const DecoderRow& d : m.rows)
        r.table.add_row(metrics_row(d.name, d.metrics));
    e1_plots(r, m);
    e1_findings(r, m);
    return r;
}

} // namespace collapse
