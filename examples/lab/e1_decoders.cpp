// E1: which decoders loop? The same prompts under every decoder of COLLAPSE.md's table, past the
// end of the story (the end token ignored, as in the example from the blog post), scored with the
// sample metrics.
#include "lab.hpp"

#include <algorithm>

namespace collapse {

namespace olab = ouro::lab;

ExperimentResult run_e1_decoders(Lab& lab) {
    ExperimentResult r;
    r.id = "e1";
    r.title = "Which decoders loop?";
    r.question = "The same prompts under greedy, beam, T=1, top-k, top-p, min-p, typical, eta, "
                 "mirostat v2 and contrastive search: which of them end in a loop?";
    const DecodeRequest req = sweep_request(lab, 512);
    const std::vector<Decoder> decoders = standard_decoders();
    r.method = std::to_string(lab.prompts().size()) + " prompts, " +
               std::to_string(req.max_new_tokens) +
               " new tokens each, end-of-text ignored (the model runs past its story's end), " +
               std::to_string(req.samples_per_prompt) +
               " sample(s) per prompt for sampling "
               "decoders, seed " +
               std::to_string(req.seed) + ", context policy '" +
               ouro::gen::to_string(req.context.policy) + "'.";

    const std::vector<SampleMetrics> metrics = measure_decoders(lab, decoders, req, "E1 decoders");
    r.table = olab::Table(metrics_columns());
    olab::Series seq{"seq-rep-4", {}, {}, olab::Series::Style::bars};
    olab::Series holtz{"samples that loop (Holtzman's test)", {}, {}, olab::Series::Style::bars};
    olab::PlotSpec plot;
    std::vector<std::pair<std::string, SampleMetrics>> all;
    for (std::size_t i = 0; i < decoders.size(); ++i) {
        const SampleMetrics& m = metrics[i];
        all.emplace_back(decoders[i].name, m);
        r.table.add_row(metrics_row(decoders[i].name, m));
        plot.x_categories.push_back(decoders[i].name);
        seq.x.push_back(double(i));
        seq.y.push_back(m.seq_rep4);
        holtz.x.push_back(double(i));
        holtz.y.push_back(m.holtzman_percent);
        r.numbers["e1_" + decoders[i].name + "_seq_rep4"] = m.seq_rep4;
        r.numbers["e1_" + decoders[i].name + "_holtzman"] = m.holtzman_percent;
        r.numbers["e1_" + decoders[i].name + "_nll"] = m.nll;
    }
    // One quantity per plot: the repetition inside samples, then the share of samples that loop.
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
    for (const auto& [name, m] : all)
        nll_plot.series.push_back({name, {m.nll}, {m.seq_rep4}, olab::Series::Style::points});
    r.plots.push_back(nll_plot);

    // Findings: which loop, which do not, and what it costs.
    std::string looping, clean;
    for (const auto& [name, m] : all) {
        std::string& list = m.holtzman_percent >= 50.0 ? looping : clean;
        list += (list.empty() ? "" : ", ") + name + " (" + olab::fmt(m.holtzman_percent, 0) + "%)";
    }
    r.findings.push_back("Samples ending in a loop by Holtzman's test (at least half of them): " +
                         (looping.empty() ? std::string("no decoder") : looping) +
                         "; fewer: " + (clean.empty() ? std::string("no decoder") : clean) + ".");
    const SampleMetrics& greedy = all.front().second;
    const auto top_p =
        std::find_if(all.begin(), all.end(), [](const auto& x) { return x.first == "top-p 0.95"; });
    if (top_p != all.end())
        r.findings.push_back(
            "Greedy: seq-rep-4 " + olab::fmt(greedy.seq_rep4) + ", mean NLL " +
            olab::fmt(greedy.nll) + " nats; top-p 0.95: seq-rep-4 " +
            olab::fmt(top_p->second.seq_rep4) + ", NLL " + olab::fmt(top_p->second.nll) +
            ". The likelihood-seeking decoders find text the model itself finds far more probable "
            "than what it writes when it samples: the loop is the high-probability region.");
    return r;
}

} // namespace collapse
