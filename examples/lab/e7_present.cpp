// E7's presentation (e7_sweep.cpp measures): the table, repetition against NLL and against each
// knob, and the findings (the boredom and confusion traps).
#include "experiments.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace collapse {

namespace olab = ouro::lab;
using olab::fmt;

namespace {

void e7_plots(ExperimentResult& r, const std::vector<E7Point>& points) {
    // Plot 1: repetition against NLL, one line per sweep, the temperatures marked.
    olab::PlotSpec scatter;
    scatter.title = "Repetition vs NLL of the generated text";
    scatter.x_label = "mean NLL of the generated tokens (nats)";
    scatter.y_label = "seq-rep-4";
    for (const char* sweep : {"temperature", "top-p"}) {
        olab::Series s;
        s.name = std::string(sweep) + " sweep";
        s.style = olab::Series::Style::line_points;
        for (const E7Point& p : points)
            if (p.sweep == sweep) {
                s.x.push_back(p.row.metrics.nll);
                s.y.push_back(p.row.metrics.seq_rep4);
            }
        scatter.series.push_back(std::move(s));
    }
    // Label the temperatures with markers, leaving out one that would sit on top of the last
    // label (closer than 1/8 of the NLL range).
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const E7Point& p : points)
        if (std::isfinite(p.row.metrics.nll)) {
            lo = std::min(lo, p.row.metrics.nll);
            hi = std::max(hi, p.row.metrics.nll);
        }
    double last = -std::numeric_limits<double>::infinity();
    for (const E7Point& p : points)
        if (p.sweep == "temperature" && std::isfinite(p.row.metrics.nll) &&
            std::abs(p.row.metrics.nll - last) >= (hi - lo) / 8.0) {
            scatter.markers.push_back({p.row.metrics.nll, p.row.name});
            last = p.row.metrics.nll;
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
        for (const E7Point& p : points)
            if (p.sweep == sweep) {
                seq.x.push_back(p.value);
                seq.y.push_back(p.row.metrics.seq_rep4);
            }
        plot.series = {seq};
        r.plots.push_back(std::move(plot));
    }
}

void e7_findings(ExperimentResult& r, const std::vector<E7Point>& points) {
    // Findings: the two ends of the temperature sweep, the top-p extremes, and where the
    // repetition falls below half of greedy's.
    const E7Point& cold = points.front();  // T = 0
    const E7Point& hot = points[7];        // T = 1.5
    const E7Point& unit = points[5];       // T = 1
    const E7Point& p_small = points[8];    // top-p 0.1
    const E7Point& p_full = points.back(); // top-p 1.0
    r.findings.push_back(
        "T=0 (greedy): seq-rep-4 " + fmt(cold.row.metrics.seq_rep4) + ", " +
        fmt(cold.row.metrics.holtzman_percent, 1) + "% of samples ending in a loop, mean NLL " +
        fmt(cold.row.metrics.nll) + " nats per token (raw entropy " +
        fmt(cold.row.metrics.entropy) + "). T=1: seq-rep-4 " + fmt(unit.row.metrics.seq_rep4) +
        ", " + fmt(unit.row.metrics.holtzman_percent, 1) + "% looping, NLL " +
        fmt(unit.row.metrics.nll) + ". T=1.5: seq-rep-4 " + fmt(hot.row.metrics.seq_rep4) + ", " +
        fmt(hot.row.metrics.holtzman_percent, 1) + "% looping, NLL " + fmt(hot.row.metrics.nll) +
        ".");
    const bool boredom = cold.row.metrics.seq_rep4 > unit.row.metrics.seq_rep4 &&
                         cold.row.metrics.nll < unit.row.metrics.nll;
    const bool confusion = hot.row.metrics.nll > unit.row.metrics.nll;
    r.findings.push_back(
        std::string(boredom ? "The boredom trap shows: the most probable text (lowest NLL) is the "
                              "most repetitive."
                            : "No boredom trap here: greedy text is not both more repetitive and "
                              "more probable than T=1 text.") +
        (confusion ? " Above T=1 the NLL keeps rising, by " +
                         fmt(hot.row.metrics.nll - unit.row.metrics.nll) +
                         " nats per token at T=1.5 (the confusion side)."
                   : std::string(" Above T=1 the NLL does not rise.")));
    r.findings.push_back("Top-p 0.1: seq-rep-4 " + fmt(p_small.row.metrics.seq_rep4) + ", NLL " +
                         fmt(p_small.row.metrics.nll) + "; top-p 1.0 (plain sampling): seq-rep-4 " +
                         fmt(p_full.row.metrics.seq_rep4) + ", NLL " + fmt(p_full.row.metrics.nll) +
                         ".");
    const E7Point* first_half = nullptr;
    for (std::size_t i = 1; i < 8; ++i)
        if (points[i].row.metrics.seq_rep4 <= 0.5 * cold.row.metrics.seq_rep4) {
            first_half = &points[i];
            break;
        }
    if (first_half && cold.row.metrics.seq_rep4 > 0)
        r.findings.push_back("The lowest temperature with at most half of greedy's seq-rep-4 is " +
                             first_half->row.name + " (seq-rep-4 " +
                             fmt(first_half->row.metrics.seq_rep4) + ", NLL " +
                             fmt(first_half->row.metrics.nll) + ").");
    else
        r.findings.push_back("No temperature up to 1.5 halves greedy's seq-rep-4 of " +
                             fmt(cold.row.metrics.seq_rep4) + ".");
}

} // namespace

ExperimentResult present_e7(const E7Result& m) {
    const std::vector<E7Point>& points = m.points;
    ExperimentResult r;
    r.id = "e7";
    r.title = "Temperature / top-p sweep";
    r.question = "Temperature / top-p sweep: repetition vs mean NLL of the generations (boredom "
                 "vs confusion traps).";
    r.method = "Temperatures 0, 0.3, 0.5, 0.7, 0.9, 1, 1.2, 1.5 and top-p 0.1 .. 1.0 (at T = 1) "
               "on " +
               std::to_string(m.run.prompts) + " prompts, " +
               std::to_string(m.run.samples_per_prompt) + " sample(s) each, " +
               std::to_string(m.run.max_new_tokens) + " new tokens (end token ignored, seed " +
               std::to_string(m.run.seed) +
               "); NLL = mean -ln p of the generated tokens under the model's raw distribution.";
    std::vector<std::string> columns = metrics_columns();
    columns.insert(columns.begin(), "sweep");
    r.table = olab::Table(columns);
    for (const E7Point& p : points) {
        std::vector<std::string> row = metrics_row(p.row.name, p.row.metrics);
        row.insert(row.begin(), p.sweep);
        r.table.add_row(std::move(row));
    }

    e7_plots(r, points);
    e7_findings(r, points);
    return r;
}

} // namespace collapse
