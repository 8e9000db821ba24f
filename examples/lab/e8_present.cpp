// E8's presentation (e8_remedies.cpp measures): the table, seq-rep-4 and NLL by remedy, and for
// each base decoder the remedy that repeats least and what it costs.
#include "experiments.hpp"

namespace collapse {

namespace olab = ouro::lab;
using olab::fmt;

namespace {

void e8_plots(ExperimentResult& r, const E8Result& m) {
    // Bars by remedy: seq-rep-4 (the effect) and NLL (the cost), one series per base decoder.
    const std::vector<std::string>& categories = m.remedies;
    auto bars = [&](const std::string& title, const std::string& y_label,
                    double SampleMetrics::*field) {
        olab::PlotSpec plot;
        plot.title = title;
        plot.x_label = "remedy";
        plot.y_label = y_label;
        plot.x_categories = categories;
        plot.height = 420;
        for (const char* base : {"greedy", "top-p 0.95"}) {
            olab::Series s{base, {}, {}, olab::Series::Style::bars};
            for (const E8Run& run : m.runs)
                if (run.base == base) {
                    s.x.push_back(double(s.x.size()));
                    s.y.push_back(run.row.metrics.*field);
                }
            plot.series.push_back(std::move(s));
        }
        plot.y_min = 0.0;
        r.plots.push_back(std::move(plot));
    };
    bars("seq-rep-4 by remedy (lower: fewer repeated 4-grams)", "seq-rep-4",
         &SampleMetrics::seq_rep4);
    bars("NLL of the generated text by remedy (its cost)", "mean NLL (nats)", &SampleMetrics::nll);
}

void e8_findings(ExperimentResult& r, const E8Result& m) {
    // Findings: for each base, the remedy with the lowest seq-rep-4 and its NLL cost, and the
    // windowed vs whole-history penalty.
    for (const char* base : {"greedy", "top-p 0.95"}) {
        const E8Run* alone = nullptr;
        const E8Run* best = nullptr;
        const E8Run* whole = nullptr;
        const E8Run* last64 = nullptr;
        for (const E8Run& run : m.runs) {
            if (run.base != base)
                continue;
            if (run.remedy == "none")
                alone = &run;
            else if (!best || run.row.metrics.seq_rep4 < best->row.metrics.seq_rep4)
                best = &run;
            if (run.remedy == "rep-penalty 1.3")
                whole = &run;
            if (run.remedy == "rep-penalty 1.3 last 64")
                last64 = &run;
        }
        r.findings.push_back(
            std::string(base) + " alone: seq-rep-4 " + fmt(alone->row.metrics.seq_rep4) + ", " +
            fmt(alone->row.metrics.holtzman_percent, 1) + "% looping, NLL " +
            fmt(alone->row.metrics.nll) + ". Lowest seq-rep-4 with " + best->remedy + ": " +
            fmt(best->row.metrics.seq_rep4) + " (" + fmt(best->row.metrics.holtzman_percent, 1) +
            "% looping) at NLL " + fmt(best->row.metrics.nll) + " (" +
            (best->row.metrics.nll >= alone->row.metrics.nll ? "+" : "") +
            fmt(best->row.metrics.nll - alone->row.metrics.nll) + " nats per token).");
        r.findings.push_back(
            std::string(base) + ": repetition penalty 1.3 over the whole history " +
            "gives seq-rep-4 " + fmt(whole->row.metrics.seq_rep4) + " at NLL " +
            fmt(whole->row.metrics.nll) + "; over the last 64 tokens " +
            fmt(last64->row.metrics.seq_rep4) + " at NLL " + fmt(last64->row.metrics.nll) + ".");
    }
}

} // namespace

ExperimentResult present_e8(const E8Result& m) {
    ExperimentResult r;
    r.id = "e8";
    r.title = "Which remedies work, at what cost?";
    r.question = "Which remedies work, at what cost? (penalties over the whole history vs the "
                 "last 64 tokens, DRY, no-repeat-ngram, XTC: E1 metrics plus the NLL of the text)";
    r.method = "Greedy and top-p 0.95, alone and with: repetition penalty 1.3 (whole history; last "
               "64 tokens), frequency 0.5, presence 0.5, DRY (multiplier 0.8, base 1.75, allowed "
               "length 2), no-repeat-ngram 3, XTC (probability 0.5, threshold 0.1); default "
               "sampler order (penalties, truncation, temperature), " +
               std::to_string(m.run.prompts) + " prompts, " +
               std::to_string(m.run.samples_per_prompt) + " sample(s) per prompt when sampling, " +
               std::to_string(m.run.max_new_tokens) + " new tokens, end token ignored, seed " +
               std::to_string(m.run.seed) + ".";
    r.table = olab::Table(metrics_columns());
    for (const E8Run& run : m.runs)
        r.table.add_row(metrics_row(run.row.name, run.row.metrics));

    e8_plots(r, m);
    e8_findings(r, m);
    return r;
}

} // namespace collapse
