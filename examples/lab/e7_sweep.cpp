// E7: the temperature and top-p sweeps. Each setting decodes the lab's prompts, and its samples
// get the metrics of COLLAPSE.md; repetition (seq-rep-4, Holtzman %) against the mean NLL of the
// generated text under the model shows the two traps of Basu et al. 2021 ("Mirostat: a neural
// text decoding algorithm that directly controls perplexity"): at low temperature / small p the
// text is very probable and repeats itself (the boredom trap), at high temperature it stops
// repeating but becomes improbable (the confusion trap).
#include "lab.hpp"

#include <ouro/lab/table.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace collapse {

namespace olab = ouro::lab;
using olab::fmt;

namespace {

struct SweepPoint {
    std::string sweep; // "temperature" or "top-p"
    double value = 0;  // T or p
    Decoder decoder;
    SampleMetrics metrics;
};

std::string trimmed(double v) {
    // "0.3", "1", "1.5": one decimal is enough for the sweep's values.
    std::string s = fmt(v, 1);
    if (s.size() > 2 && s.substr(s.size() - 2) == ".0")
        s.resize(s.size() - 2);
    return s;
}

} // namespace

ExperimentResult run_e7_sweep(Lab& lab) {
    const LabSettings& settings = lab.settings();
    std::vector<SweepPoint> points;
    for (const double t : {0.0, 0.3, 0.5, 0.7, 0.9, 1.0, 1.2, 1.5}) {
        SweepPoint p;
        p.sweep = "temperature";
        p.value = t;
        p.decoder.name = "T=" + trimmed(t);
        p.decoder.settings.temperature = t;
        points.push_back(std::move(p));
    }
    for (int k = 1; k <= 10; ++k) {
        SweepPoint p;
        p.sweep = "top-p";
        p.value = k / 10.0;
        p.decoder.name = "top-p " + trimmed(p.value);
        p.decoder.settings.top_p = p.value;
        points.push_back(std::move(p));
    }

    const DecodeRequest request = sweep_request(lab, 128);
    std::vector<Decoder> decoders;
    for (const SweepPoint& p : points)
        decoders.push_back(p.decoder);
    const std::vector<SampleMetrics> metrics = measure_decoders(lab, decoders, request, "e7 sweep");
    for (std::size_t i = 0; i < points.size(); ++i)
        points[i].metrics = metrics[i];

    ExperimentResult r;
    r.id = "e7";
    r.title = "Temperature / top-p sweep";
    r.question = "Temperature / top-p sweep: repetition vs mean NLL of the generations (boredom "
                 "vs confusion traps).";
    r.method = "Temperatures 0, 0.3, 0.5, 0.7, 0.9, 1, 1.2, 1.5 and top-p 0.1 .. 1.0 (at T = 1) "
               "on " +
               std::to_string(lab.prompts().size()) + " prompts, " +
               std::to_string(request.samples_per_prompt) + " sample(s) each, " +
               std::to_string(request.max_new_tokens) + " new tokens (end token ignored, seed " +
               std::to_string(settings.seed) +
               "); NLL = mean -ln p of the generated tokens under the model's raw distribution.";
    std::vector<std::string> columns = metrics_columns();
    columns.insert(columns.begin(), "sweep");
    r.table = olab::Table(columns);
    for (const SweepPoint& p : points) {
        std::vector<std::string> row = metrics_row(p.decoder.name, p.metrics);
        row.insert(row.begin(), p.sweep);
        r.table.add_row(std::move(row));
    }

    // Plot 1: repetition against NLL, one line per sweep, the temperatures marked.
    olab::PlotSpec scatter;
    scatter.title = "Repetition vs NLL of the generated text";
    scatter.x_label = "mean NLL of the generated tokens (nats)";
    scatter.y_label = "seq-rep-4";
    for (const char* sweep : {"temperature", "top-p"}) {
        olab::Series s;
        s.name = std::string(sweep) + " sweep";
        s.style = olab::Series::Style::line_points;
        for (const SweepPoint& p : points)
            if (p.sweep == sweep) {
                s.x.push_back(p.metrics.nll);
                s.y.push_back(p.metrics.seq_rep4);
            }
        scatter.series.push_back(std::move(s));
    }
    // Label the temperatures with markers, leaving out one that would sit on top of the last
    // label (closer than 1/8 of the NLL range).
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const SweepPoint& p : points)
        if (std::isfinite(p.metrics.nll)) {
            lo = std::min(lo, p.metrics.nll);
            hi = std::max(hi, p.metrics.nll);
        }
    double last = -std::numeric_limits<double>::infinity();
    for (const SweepPoint& p : points)
        if (p.sweep == "temperature" && std::isfinite(p.metrics.nll) &&
            std::abs(p.metrics.nll - last) >= (hi - lo) / 8.0) {
            scatter.markers.push_back({p.metrics.nll, p.decoder.name});
            last = p.metrics.nll;
        }
    r.plots.push_back(std::move(scatter));
    // Plots 2 and 3: repetition against the knob (one quantity per axis: the share of samples
    // that loop is in the table).
    for (const char* sweep : {"temperature", "top-p"}) {
        olab::PlotSpec plot;
        plot.title = std::string("Repetition along the ") + sweep + " sweep";
        plot.x_label = sweep;
        plot.y_label = "seq-rep-4";
        plot.y_min = 0.0;
        olab::Series seq{"seq-rep-4", {}, {}, olab::Series::Style::line_points};
        for (const SweepPoint& p : points)
            if (p.sweep == sweep) {
                seq.x.push_back(p.value);
                seq.y.push_back(p.metrics.seq_rep4);
            }
        plot.series = {seq};
        r.plots.push_back(std::move(plot));
    }

    // Findings: the two ends of the temperature sweep, the top-p extremes, and where the
    // repetition falls below half of greedy's.
    const SweepPoint& cold = points.front();  // T = 0
    const SweepPoint& hot = points[7];        // T = 1.5
    const SweepPoint& unit = points[5];       // T = 1
    const SweepPoint& p_small = points[8];    // top-p 0.1
    const SweepPoint& p_full = points.back(); // top-p 1.0
    r.findings.push_back(
        "T=0 (greedy): seq-rep-4 " + fmt(cold.metrics.seq_rep4) + ", " +
        fmt(cold.metrics.holtzman_percent, 1) + "% of samples ending in a loop, mean NLL " +
        fmt(cold.metrics.nll) + " nats per token (raw entropy " + fmt(cold.metrics.entropy) +
        "). T=1: seq-rep-4 " + fmt(unit.metrics.seq_rep4) + ", " +
        fmt(unit.metrics.holtzman_percent, 1) + "% looping, NLL " + fmt(unit.metrics.nll) +
        ". T=1.5: seq-rep-4 " + fmt(hot.metrics.seq_rep4) + ", " +
        fmt(hot.metrics.holtzman_percent, 1) + "% looping, NLL " + fmt(hot.metrics.nll) + ".");
    const bool boredom =
        cold.metrics.seq_rep4 > unit.metrics.seq_rep4 && cold.metrics.nll < unit.metrics.nll;
    const bool confusion = hot.metrics.nll > unit.metrics.nll;
    r.findings.push_back(
        std::string(boredom ? "The boredom trap shows: the most probable text (lowest NLL) is the "
                              "most repetitive."
                            : "No boredom trap here: greedy text is not both more repetitive and "
                              "more probable than T=1 text.") +
        (confusion
             ? " Above T=1 the NLL keeps rising, by " + fmt(hot.metrics.nll - unit.metrics.nll) +
                   " nats per token at T=1.5 (the confusion side)."
             : std::string(" Above T=1 the NLL does not rise.")));
    r.findings.push_back("Top-p 0.1: seq-rep-4 " + fmt(p_small.metrics.seq_rep4) + ", NLL " +
                         fmt(p_small.metrics.nll) + "; top-p 1.0 (plain sampling): seq-rep-4 " +
                         fmt(p_full.metrics.seq_rep4) + ", NLL " + fmt(p_full.metrics.nll) + ".");
    const SweepPoint* first_half = nullptr;
    for (std::size_t i = 1; i < 8; ++i)
        if (points[i].metrics.seq_rep4 <= 0.5 * cold.metrics.seq_rep4) {
            first_half = &points[i];
            break;
        }
    if (first_half && cold.metrics.seq_rep4 > 0)
        r.findings.push_back("The lowest temperature with at most half of greedy's seq-rep-4 is " +
                             first_half->decoder.name + " (seq-rep-4 " +
                             fmt(first_half->metrics.seq_rep4) + ", NLL " +
                             fmt(first_half->metrics.nll) + ").");
    else
        r.findings.push_back("No temperature up to 1.5 halves greedy's seq-rep-4 of " +
                             fmt(cold.metrics.seq_rep4) + ".");

    for (const SweepPoint& p : points) {
        const std::string key =
            "e7_" + std::string(p.sweep == "temperature" ? "t" : "top_p") + "_" + trimmed(p.value);
        r.numbers[key + "_seq_rep4"] = p.metrics.seq_rep4;
        r.numbers[key + "_nll"] = p.metrics.nll;
        r.numbers[key + "_holtzman_percent"] = p.metrics.holtzman_percent;
    }
    r.numbers["e7_boredom_seq_rep4"] = cold.metrics.seq_rep4;
    r.numbers["e7_boredom_nll"] = cold.metrics.nll;
    r.numbers["e7_confusion_seq_rep4"] = hot.metrics.seq_rep4;
    r.numbers["e7_confusion_nll"] = hot.metrics.nll;
    return r;
}

} // namespace collapse
