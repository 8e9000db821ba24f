// E6's presentation (e6_training.cpp measures): the table by checkpoint, loss, repetition and
// loop onset by training step, and the findings.
#include "experiments.hpp"

#include <algorithm>
#include <cmath>

namespace collapse {

namespace olab = ouro::lab;
using olab::fmt;

namespace {

void e6_plots(ExperimentResult& r, const E6Result& m) {
    auto series = [&](const std::string& name, auto value) {
        olab::Series s{name, {}, {}, olab::Series::Style::line_points};
        for (const E6Checkpoint& c : m.checkpoints) {
            s.x.push_back(double(c.step));
            s.y.push_back(value(c));
        }
        return s;
    };
    olab::PlotSpec loss;
    loss.title = "Validation loss by training step";
    loss.x_label = "step";
    loss.y_label = "mean NLL on held-out stories (nats)";
    loss.series = {series("val loss", [](const E6Checkpoint& c) { return c.val_loss; })};
    r.plots.push_back(std::move(loss));
    // One quantity per axis: the greedy samples' repetition, then next-token repetition of the
    // model beside that of the human text.
    olab::PlotSpec rep;
    rep.title = "Repetition of greedy samples by training step";
    rep.x_label = "step";
    rep.y_label = "seq-rep-4";
    rep.y_min = 0.0;
    rep.series = {
        series("greedy seq-rep-4", [](const E6Checkpoint& c) { return c.greedy.seq_rep4; })};
    r.plots.push_back(std::move(rep));
    rep = {};
    rep.title = "Next-token repetition (human text fed in) by training step";
    rep.x_label = "step";
    rep.y_label = "rep/128";
    rep.y_min = 0.0;
    rep.series = {series("model rep/128", [](const E6Checkpoint& c) { return c.rep128; }),
                  series("human rep/128", [](const E6Checkpoint& c) { return c.human_rep128; })};
    r.plots.push_back(std::move(rep));
    olab::PlotSpec onset;
    onset.title = "Mean loop onset of greedy samples by training step";
    onset.x_label = "step";
    onset.y_label = "generated tokens before the loop";
    onset.series = {
        series("mean loop onset", [](const E6Checkpoint& c) { return c.greedy.mean_loop_onset; })};
    r.plots.push_back(std::move(onset));
}

void e6_findings(ExperimentResult& r, const E6Result& m) {
    auto onset_text = [](const E6Checkpoint& c) {
        return std::isnan(c.greedy.mean_loop_onset) ? std::string("none (no loop)")
                                                    : fmt(c.greedy.mean_loop_onset, 1) + " tokens";
    };
    const E6Checkpoint& a = m.checkpoints.front();
    const E6Checkpoint& b = m.checkpoints.back();
    if (!std::isnan(a.val_loss))
        r.findings.push_back("From step " + fmt(a.step) + " to step " + fmt(b.step) +
                             " the validation loss goes from " + fmt(a.val_loss) + " to " +
                             fmt(b.val_loss) + " nats, and rep/128 from " + fmt(a.rep128) + " to " +
                             fmt(b.rep128) + " (human text: " + fmt(b.human_rep128) + ").");
    else
        r.findings.push_back("Validation loss and rep/128 were not measured: pass --valid.");
    r.findings.push_back("Greedy seq-rep-4 goes from " + fmt(a.greedy.seq_rep4) + " to " +
                         fmt(b.greedy.seq_rep4) + ", samples ending in a loop (Holtzman) from " +
                         fmt(a.greedy.holtzman_percent, 1) + "% to " +
                         fmt(b.greedy.holtzman_percent, 1) +
                         "%, mean loop onset (samples with a loop of 3 copies) from " +
                         onset_text(a) + " to " + onset_text(b) + ".");
    const auto most = std::max_element(m.checkpoints.begin(), m.checkpoints.end(),
                                       [](const E6Checkpoint& x, const E6Checkpoint& y) {
                                           return x.greedy.seq_rep4 < y.greedy.seq_rep4;
                                       });
    r.findings.push_back("The most repetitive checkpoint is step " + fmt(most->step) +
                         " (greedy seq-rep-4 " + fmt(most->greedy.seq_rep4) + ", val loss " +
                         fmt(most->val_loss) + ").");
}

} // namespace

ExperimentResult present_e6(const E6Result& m) {
    ExperimentResult r;
    r.id = "e6";
    r.title = "How does collapse change as training goes on?";
    r.question = "How does collapse change as training goes on? (every checkpoint: val loss, "
                 "greedy seq-rep-4, rep/128, loop onset)";
    r.method = std::to_string(m.checkpoints.size()) +
               " checkpoints of one run; val loss and rep/128 " +
               (m.streams == 0 ? std::string("not measured (no --valid text)")
                               : "teacher-forced on " + std::to_string(m.streams) + " streams of " +
                                     std::to_string(m.block_size) + " tokens of held-out stories") +
               "; greedy samples of " + std::to_string(m.max_new_tokens) + " new tokens from " +
               std::to_string(m.prompts) + " prompts (end token ignored).";
    r.table = olab::Table({"step", "checkpoint", "val loss", "rep/128", "wrep/128", "human rep/128",
                           "greedy seq-rep-4", "holtzman%", "loop%", "mean loop onset"});
    for (const E6Checkpoint& c : m.checkpoints)
        r.table.add_row({fmt(c.step), c.path.filename().string(), fmt(c.val_loss), fmt(c.rep128),
                         fmt(c.wrep128), fmt(c.human_rep128), fmt(c.greedy.seq_rep4),
                         fmt(c.greedy.holtzman_percent, 1), fmt(c.greedy.loop_percent, 1),
                         fmt(c.greedy.mean_loop_onset, 1)});

    e6_plots(r, m);
    e6_findings(r, m);
    return r;
}

} // namespace collapse
