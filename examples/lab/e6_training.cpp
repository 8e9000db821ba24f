// E6: how does collapse change as training goes on (COLLAPSE.md, mechanism 5)? Every checkpoint
// of one run is scored the same way: the validation loss (teacher-forced mean NLL on held-out
// human stories packed into block_size streams, as the trainer's val loss), rep/128 (Welleck et
// al. 2020: how often the teacher-forced argmax prediction repeats one of the previous 128
// tokens; the MLE objective over-predicts repeats), and greedy samples' seq-rep-4, Holtzman %
// and mean loop onset. A falling loss with a rising repetition says that better likelihood alone
// does not cure the loops.
#include "lab.hpp"

#include <ouro/core/error.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/lab/next_token_repetition.hpp>
#include <ouro/lab/table.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace collapse {

namespace gen = ouro::gen;
namespace olab = ouro::lab;
using olab::fmt;

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

struct CheckpointResult {
    fs::path path;
    std::int64_t step = 0;
    double val_loss = nan, rep128 = nan, wrep128 = nan, human_rep128 = nan;
    SampleMetrics greedy;
};

// The first field in which two configs differ, or "".
std::string config_difference(const ouro::nn::GPTConfig& a, const ouro::nn::GPTConfig& b) {
    auto num = [](const char* name, std::int64_t x, std::int64_t y) {
        return x == y ? std::string()
                      : std::string(name) + " " + std::to_string(x) + " vs " + std::to_string(y);
    };
    for (const std::string& d :
         {num("vocab_size", a.vocab_size, b.vocab_size),
          num("block_size", a.block_size, b.block_size), num("n_layer", a.n_layer, b.n_layer),
          num("n_head", a.n_head, b.n_head), num("n_embd", a.n_embd, b.n_embd)})
        if (!d.empty())
            return d;
    if (a.position != b.position)
        return std::string("position ") + ouro::nn::to_string(a.position) + " vs " +
               ouro::nn::to_string(b.position);
    if (a.bias != b.bias)
        return std::string("bias ") + (a.bias ? "on" : "off") + " vs " + (b.bias ? "on" : "off");
    return "";
}

// Held-out stories packed into streams of `length` tokens (a story cut where a stream ends).
std::vector<std::vector<std::int32_t>> pack(const std::vector<std::vector<std::int32_t>>& stories,
                                            std::int64_t count, std::int64_t length) {
    std::vector<std::vector<std::int32_t>> streams;
    std::vector<std::int32_t> cur;
    for (const auto& s : stories) {
        if (std::int64_t(streams.size()) == count)
            break;
        cur.insert(cur.end(), s.begin(), s.end());
        if (std::int64_t(cur.size()) >= length) {
            cur.resize(std::size_t(length));
            streams.push_back(std::move(cur));
            cur.clear();
        }
    }
    return streams;
}

} // namespace

ExperimentResult run_e6_training(Lab& lab, const std::vector<fs::path>& checkpoints) {
    if (checkpoints.empty())
        throw ouro::ConfigError("E6 needs checkpoints: pass --checkpoints FILE... or a folder");
    const LabSettings& settings = lab.settings();
    const bool quick = settings.quick;
    const fs::path tokenizer_dir = lab.bundle().tokenizer_dir;

    // Open every checkpoint first, so that a wrong file fails before any work.
    std::vector<ouro::nn::GPTConfig> configs;
    for (const fs::path& c : checkpoints)
        configs.push_back(ouro::io::Checkpoint::read(c.string()).config);
    for (std::size_t i = 1; i < checkpoints.size(); ++i) {
        const std::string d = config_difference(configs[i], configs[0]);
        if (!d.empty())
            throw ouro::ConfigError("E6: " + checkpoints[i].string() + " is not from the run of " +
                                    checkpoints[0].string() + " (" + d +
                                    "); E6 compares the checkpoints of one run");
    }
    if (configs[0].vocab_size != lab.config().vocab_size)
        throw ouro::ConfigError("E6: " + checkpoints[0].string() + " has a vocabulary of " +
                                std::to_string(configs[0].vocab_size) +
                                " tokens, the lab's model " +
                                std::to_string(lab.config().vocab_size) +
                                " (E6 uses the lab's tokenizer for every checkpoint)");

    const std::int64_t T = configs[0].block_size;
    const std::int64_t streams_wanted = quick ? 8 : 32;
    const std::vector<std::vector<std::int32_t>> streams =
        pack(lab.human_stories(), streams_wanted, T);
    Decoder greedy;
    greedy.name = "greedy";
    greedy.settings.greedy = true;
    DecodeRequest request;
    request.max_new_tokens =
        quick ? std::min<std::int64_t>(settings.max_new_tokens, 128) : settings.max_new_tokens;
    request.seed = settings.seed;

    std::vector<CheckpointResult> results;
    const std::uint64_t per_ckpt =
        std::uint64_t(lab.prompts().size()) * std::uint64_t(request.max_new_tokens) +
        std::uint64_t(streams.size()) * std::uint64_t(T);
    ouro::examples::ProgressBar bar =
        progress_bar(lab, "e6 checkpoints", per_ckpt * std::uint64_t(checkpoints.size()));
    std::uint64_t done = 0;
    for (const fs::path& c : checkpoints) {
        // The checkpoint with the lab's tokenizer (load_model_bundle checks that they belong
        // together) and the lab's prompts.
        LabSettings s = settings;
        s.checkpoint = c;
        s.tokenizer = tokenizer_dir;
        s.prompts = lab.prompt_texts();
        Lab m(s);
        CheckpointResult res;
        res.path = c;
        res.step = m.bundle().state.step;
        DecodeRequest req = request;
        req.context = m.long_context();
        res.greedy = measure(decode(m, greedy, req, &bar, &done));
        if (!streams.empty()) {
            gen::ContextOptions ctx; // stop: the streams are block_size long
            gen::InferenceSession session(
                m.model(), gen::session_options(m.config(), ctx, std::int64_t(streams.size())));
            const auto scores = olab::teacher_force(session, streams, ctx, m.eot());
            double nll = 0;
            std::int64_t count = 0;
            std::vector<std::vector<std::int32_t>> predictions, targets;
            for (std::size_t i = 0; i < scores.size(); ++i) {
                std::vector<std::int32_t> pred, target;
                for (std::size_t t = 0; t < scores[i].size(); ++t) {
                    nll += scores[i][t].nll;
                    ++count;
                    pred.push_back(scores[i][t].argmax);
                    target.push_back(streams[i][t + 1]);
                }
                predictions.push_back(std::move(pred));
                targets.push_back(std::move(target));
            }
            res.val_loss = count ? nll / double(count) : nan;
            const olab::NextTokenRepetition rep =
                olab::next_token_repetition(std::span(predictions), std::span(targets), 128);
            res.rep128 = rep.rep();
            res.wrep128 = rep.wrep();
            res.human_rep128 = rep.human_rep();
            done += std::uint64_t(streams.size()) * std::uint64_t(T);
            bar.update(done);
        }
        results.push_back(std::move(res));
    }
    bar.finish();
    std::stable_sort(
        results.begin(), results.end(),
        [](const CheckpointResult& a, const CheckpointResult& b) { return a.step < b.step; });

    ExperimentResult r;
    r.id = "e6";
    r.title = "How does collapse change as training goes on?";
    r.question = "How does collapse change as training goes on? (every checkpoint: val loss, "
                 "greedy seq-rep-4, rep/128, loop onset)";
    r.method =
        std::to_string(results.size()) + " checkpoints of one run; val loss and rep/128 " +
        (streams.empty() ? std::string("not measured (no --valid text)")
                         : "teacher-forced on " + std::to_string(streams.size()) + " streams of " +
                               std::to_string(T) + " tokens of held-out stories") +
        "; greedy samples of " + std::to_string(request.max_new_tokens) + " new tokens from " +
        std::to_string(lab.prompts().size()) + " prompts (end token ignored).";
    r.table = olab::Table({"step", "checkpoint", "val loss", "rep/128", "wrep/128", "human rep/128",
                           "greedy seq-rep-4", "holtzman%", "loop%", "mean loop onset"});
    for (const CheckpointResult& c : results)
        r.table.add_row({fmt(c.step), c.path.filename().string(), fmt(c.val_loss), fmt(c.rep128),
                         fmt(c.wrep128), fmt(c.human_rep128), fmt(c.greedy.seq_rep4),
                         fmt(c.greedy.holtzman_percent, 1), fmt(c.greedy.loop_percent, 1),
                         fmt(c.greedy.mean_loop_onset, 1)});

    auto series = [&](const std::string& name, auto value) {
        olab::Series s{name, {}, {}, olab::Series::Style::line_points};
        for (const CheckpointResult& c : results) {
            s.x.push_back(double(c.step));
            s.y.push_back(value(c));
        }
        return s;
    };
    olab::PlotSpec loss;
    loss.title = "Validation loss by training step";
    loss.x_label = "step";
    loss.y_label = "mean NLL on held-out stories (nats)";
    loss.series = {series("val loss", [](const CheckpointResult& c) { return c.val_loss; })};
    r.plots.push_back(std::move(loss));
    // One quantity per axis: the greedy samples' repetition, then next-token repetition of the
    // model beside that of the human text.
    olab::PlotSpec rep;
    rep.title = "Repetition of greedy samples by training step";
    rep.x_label = "step";
    rep.y_label = "seq-rep-4";
    rep.y_min = 0.0;
    rep.series = {
        series("greedy seq-rep-4", [](const CheckpointResult& c) { return c.greedy.seq_rep4; })};
    r.plots.push_back(std::move(rep));
    rep = {};
    rep.title = "Next-token repetition (human text fed in) by training step";
    rep.x_label = "step";
    rep.y_label = "rep/128";
    rep.y_min = 0.0;
    rep.series = {
        series("model rep/128", [](const CheckpointResult& c) { return c.rep128; }),
        series("human rep/128", [](const CheckpointResult& c) { return c.human_rep128; })};
    r.plots.push_back(std::move(rep));
    olab::PlotSpec onset;
    onset.title = "Mean loop onset of greedy samples by training step";
    onset.x_label = "step";
    onset.y_label = "generated tokens before the loop";
    onset.series = {series("mean loop onset",
                           [](const CheckpointResult& c) { return c.greedy.mean_loop_onset; })};
    r.plots.push_back(std::move(onset));

    auto onset_text = [](const CheckpointResult& c) {
        return std::isnan(c.greedy.mean_loop_onset) ? std::string("none (no loop)")
                                                    : fmt(c.greedy.mean_loop_onset, 1) + " tokens";
    };
    const CheckpointResult& a = results.front();
    const CheckpointResult& b = results.back();
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
    const auto most = std::max_element(results.begin(), results.end(),
                                       [](const CheckpointResult& x, const CheckpointResult& y) {
                                           return x.greedy.seq_rep4 < y.greedy.seq_rep4;
                                       });
    r.findings.push_back("The most repetitive checkpoint is step " + fmt(most->step) +
                         " (greedy seq-rep-4 " + fmt(most->greedy.seq_rep4) + ", val loss " +
                         fmt(most->val_loss) + ").");
    r.numbers["e6_first_step"] = double(a.step);
    r.numbers["e6_last_step"] = double(b.step);
    r.numbers["e6_first_val_loss"] = a.val_loss;
    r.numbers["e6_last_val_loss"] = b.val_loss;
    r.numbers["e6_first_rep128"] = a.rep128;
    r.numbers["e6_last_rep128"] = b.rep128;
    r.numbers["e6_first_seq_rep4"] = a.greedy.seq_rep4;
    r.numbers["e6_last_seq_rep4"] = b.greedy.seq_rep4;
    r.numbers["e6_first_holtzman_percent"] = a.greedy.holtzman_percent;
    r.numbers["e6_last_holtzman_percent"] = b.greedy.holtzman_percent;
    r.numbers["e6_last_mean_loop_onset"] = b.greedy.mean_loop_onset;
    return r;
}

} // namespace collapse
