// E4: what happens past the trained context (COLLAPSE.md, mechanism 4)? A model trained on
// windows of block_size tokens never saw a position past block_size - 1. Four ways to go on:
//   stop   end the sample when the context is full (nothing past block_size);
//   crop   nanoGPT's sample.py: recompute over the last block_size tokens at positions
//          0 .. block_size-1 for every new token (exact, a full forward pass per token);
//   slide  a sliding KV cache of the last block_size tokens (RoPE / ALiBi only: learned position
//          embeddings bake the position into every cached key and value);
//   sinks  the same keeping the first 4 tokens in the cache (StreamingLLM's attention sinks, Xiao
//          et al. 2023).
// For the lab's model and any extra checkpoints (learned / RoPE / ALiBi runs of the same
// config, examples/lab/train_models.sh), each policy is used to (a) generate 2 x block_size new
// tokens, greedy and top-p 0.95, and (b) teacher-force held-out human stories concatenated into
// streams of 2 x block_size tokens. Reported: the teacher-forced NLL in the first block vs past
// block_size (does the model still predict human text there?), and the repetition of the
// samples past block_size (seq-rep-4, loops) against their first block.
#include "lab.hpp"

#include <ouro/lab/loops.hpp>
#include <ouro/lab/positional.hpp>
#include <ouro/lab/repetition.hpp>
#include <ouro/lab/table.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

namespace collapse {

namespace gen = ouro::gen;
namespace olab = ouro::lab;
using olab::fmt;

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t sink_tokens = 4;

const gen::ContextPolicy policies[] = {gen::ContextPolicy::stop, gen::ContextPolicy::crop,
                                       gen::ContextPolicy::slide, gen::ContextPolicy::sinks};

std::string policy_name(gen::ContextPolicy p) {
    return p == gen::ContextPolicy::sinks ? "sinks(4)" : gen::to_string(p);
}

bool allowed(gen::ContextPolicy p, ouro::nn::PositionEncoding pos) {
    const bool sliding = p == gen::ContextPolicy::slide || p == gen::ContextPolicy::sinks;
    return !sliding || pos != ouro::nn::PositionEncoding::learned;
}

// What the samples of one decoder did past block_size.
struct SampleStats {
    double seq_rep4_first = nan; // mean seq-rep-4 of the generated tokens in the first block
    double seq_rep4_past = nan;  // ... of those at positions >= block_size
    double loop_past = nan;      // % of samples whose part past block_size ends in a loop
};

struct PolicyResult {
    gen::ContextPolicy policy;
    bool applies = false;
    double tf_first = nan, tf_past = nan; // teacher-forced mean NLL
    olab::WindowMeans tf_windows;
    SampleStats greedy, top_p;
};

struct ModelResult {
    std::string name, position;
    std::int64_t block_size = 0;
    std::vector<PolicyResult> policies;
};

SampleStats sample_stats(const DecodedSet& set,
                         const std::vector<std::vector<std::int32_t>>& prompts, std::int64_t T,
                         bool past_exists) {
    SampleStats s;
    double first = 0, past = 0;
    std::int64_t n_first = 0, n_past = 0, loops = 0;
    for (std::size_t i = 0; i < set.samples.size(); ++i) {
        const std::vector<std::int32_t>& x = set.samples[i];
        const std::int64_t prompt = std::int64_t(prompts[std::size_t(set.prompt_index[i])].size());
        // Generated token j sits at position prompt + j: the first block ends at j = T - prompt.
        const std::size_t split =
            std::size_t(std::clamp<std::int64_t>(T - prompt, 0, std::int64_t(x.size())));
        first += olab::seq_rep_n(std::span(x).first(split), 4);
        ++n_first;
        if (past_exists && split < x.size()) {
            const std::span<const std::int32_t> tail = std::span(x).subspan(split);
            past += olab::seq_rep_n(tail, 4);
            loops += olab::find_loop(tail, 3).has_value();
            ++n_past;
        }
    }
    if (n_first)
        s.seq_rep4_first = first / double(n_first);
    if (n_past) {
        s.seq_rep4_past = past / double(n_past);
        s.loop_past = 100.0 * double(loops) / double(n_past);
    }
    return s;
}

// Held-out stories (text) packed into streams of `length` tokens in `lab`'s tokenizer: each story
// preceded by the end-of-text token, a story that does not fit cut off where the stream ends.
std::vector<std::vector<std::int32_t>> human_streams(const Lab& lab,
                                                     const std::vector<std::string>& stories,
                                                     std::int64_t count, std::int64_t length) {
    std::vector<std::vector<std::int32_t>> streams;
    std::vector<std::int32_t> cur;
    for (const std::string& story : stories) {
        if (std::int64_t(streams.size()) == count)
            break;
        cur.push_back(lab.eot());
        const std::vector<std::int32_t> body = lab.tokenizer().encode(story);
        cur.insert(cur.end(), body.begin(), body.end());
        if (std::int64_t(cur.size()) >= length) {
            cur.resize(std::size_t(length));
            streams.push_back(std::move(cur));
            cur.clear();
        }
    }
    return streams;
}

std::string model_name(const fs::path& checkpoint) {
    const std::string folder = checkpoint.parent_path().filename().string();
    return (folder.empty() ? "" : folder + "/") + checkpoint.stem().string();
}

std::string cell(double v, int decimals = 3) {
    return std::isnan(v) ? "n/a" : fmt(v, decimals);
}

} // namespace

ExperimentResult run_e4_context(Lab& lab, const std::vector<fs::path>& extra_checkpoints) {
    const LabSettings& settings = lab.settings();
    const bool quick = settings.quick;
    // Prompts: all of the lab's (two in quick mode); samples per prompt for top-p.
    std::vector<std::string> prompts = lab.prompt_texts();
    if (quick && prompts.size() > 2)
        prompts.resize(2);
    const std::int64_t samples = quick ? 1 : settings.samples_per_prompt;
    const std::int64_t streams_wanted = quick ? 2 : 8;
    // The human stories as text, so that each model encodes them with its own tokenizer.
    std::vector<std::string> stories;
    for (const std::vector<std::int32_t>& s : lab.human_stories()) {
        if (stories.size() >= std::size_t(streams_wanted) * 16)
            break;
        stories.push_back(lab.text(std::span(s).subspan(1)));
    }

    std::vector<ModelResult> models;
    std::vector<fs::path> checkpoints{fs::path()};
    checkpoints.insert(checkpoints.end(), extra_checkpoints.begin(), extra_checkpoints.end());
    for (const fs::path& ckpt : checkpoints) {
        LabSettings s = settings;
        s.prompts = prompts;
        if (!ckpt.empty()) {
            s.checkpoint = ckpt;
            s.tokenizer.clear(); // the checkpoint's own folder
        }
        Lab m(s);
        const std::int64_t T = m.config().block_size;
        // Generation: 2 x block_size new tokens; in quick mode crop stops 64 tokens past the
        // context (each of its tokens is a full forward pass).
        std::int64_t shortest = std::numeric_limits<std::int64_t>::max();
        for (const auto& p : m.prompts())
            shortest = std::min<std::int64_t>(shortest, std::int64_t(p.size()));
        const std::int64_t past_quick = std::min<std::int64_t>(T, 64);
        auto new_tokens = [&](gen::ContextPolicy p) {
            return quick && p == gen::ContextPolicy::crop ? T - shortest + past_quick : 2 * T;
        };
        auto stream_length = [&](gen::ContextPolicy p) {
            return quick && p == gen::ContextPolicy::crop ? T + past_quick : 2 * T;
        };
        const std::vector<std::vector<std::int32_t>> streams =
            human_streams(m, stories, streams_wanted, 2 * T);

        ModelResult res;
        res.name = ckpt.empty() ? model_name(settings.checkpoint) + " (lab)" : model_name(ckpt);
        res.position = ouro::nn::to_string(m.config().position);
        res.block_size = T;
        std::uint64_t total = 0;
        for (const gen::ContextPolicy p : policies)
            if (allowed(p, m.config().position))
                total += std::uint64_t(m.prompts().size()) * std::uint64_t(1 + samples) *
                             std::uint64_t(new_tokens(p)) +
                         std::uint64_t(streams.size()) * std::uint64_t(stream_length(p));
        ouro::examples::ProgressBar bar = progress_bar(lab, "e4 " + res.name, total);
        std::uint64_t done = 0;
        for (const gen::ContextPolicy p : policies) {
            PolicyResult pr;
            pr.policy = p;
            pr.applies = allowed(p, m.config().position);
            if (pr.applies) {
                gen::ContextOptions ctx;
                ctx.policy = p;
                ctx.sink_tokens = sink_tokens;
                DecodeRequest request;
                request.max_new_tokens = new_tokens(p);
                request.context = ctx;
                request.samples_per_prompt = samples;
                request.seed = settings.seed;
                Decoder greedy;
                greedy.name = "greedy";
                greedy.settings.greedy = true;
                Decoder nucleus;
                nucleus.name = "top-p 0.95";
                nucleus.settings.top_p = 0.95;
                const bool past = p != gen::ContextPolicy::stop;
                pr.greedy =
                    sample_stats(decode(m, greedy, request, &bar, &done), m.prompts(), T, past);
                pr.top_p =
                    sample_stats(decode(m, nucleus, request, &bar, &done), m.prompts(), T, past);
                if (!streams.empty()) {
                    std::vector<std::vector<std::int32_t>> texts = streams;
                    for (auto& t : texts)
                        t.resize(std::min(t.size(), std::size_t(stream_length(p))));
                    gen::InferenceSession session(
                        m.model(),
                        gen::session_options(m.config(), ctx, std::int64_t(texts.size())));
                    const auto scores = olab::teacher_force(session, texts, ctx, m.eot());
                    const auto nll = olab::field_of(scores, &olab::TokenScore::nll);
                    double first = 0, after = 0;
                    std::int64_t n_first = 0, n_after = 0;
                    for (const auto& row : nll)
                        for (std::size_t t = 0; t < row.size(); ++t) {
                            if (std::int64_t(t) < T) {
                                first += row[t];
                                ++n_first;
                            } else {
                                after += row[t];
                                ++n_after;
                            }
                        }
                    pr.tf_first = n_first ? first / double(n_first) : nan;
                    pr.tf_past = n_after ? after / double(n_after) : nan;
                    pr.tf_windows = olab::mean_by_window(nll, std::max<std::int64_t>(1, T / 8));
                    done += std::uint64_t(texts.size()) * std::uint64_t(stream_length(p));
                    bar.update(done);
                }
            }
            res.policies.push_back(std::move(pr));
        }
        bar.finish();
        models.push_back(std::move(res));
    }

    ExperimentResult r;
    r.id = "e4";
    r.title = "What happens past the trained context?";
    r.question = "What happens past the trained context? (stop, crop-and-recompute, sliding KV "
                 "cache, sliding cache keeping the first 4 tokens; learned positions vs RoPE vs "
                 "ALiBi)";
    r.method = "For each model and context policy: greedy and top-p 0.95 samples of twice "
               "the trained context (block_size) in new tokens (end token ignored) from " +
               std::to_string(prompts.size()) + " prompts (" + std::to_string(samples) +
               " top-p sample(s) each, seed " + std::to_string(settings.seed) +
               "), and teacher forcing of up to " + std::to_string(streams_wanted) +
               " streams of twice the trained context of held-out stories" +
               (quick ? "; quick mode: crop stops 64 tokens past the trained context" : "") +
               ". slide / sinks need RoPE or ALiBi (not run with learned positions); stop ends at "
               "the trained context, so it has nothing past it.";
    r.table =
        olab::Table({"model", "positions", "policy", "tf nll first block", "tf nll past block",
                     "greedy seq-rep-4 first", "greedy seq-rep-4 past", "greedy loop% past",
                     "top-p seq-rep-4 first", "top-p seq-rep-4 past", "top-p loop% past"});
    for (const ModelResult& m : models)
        for (const PolicyResult& p : m.policies)
            r.table.add_row({m.name, m.position, policy_name(p.policy),
                             p.applies ? cell(p.tf_first) : "n/a", cell(p.tf_past),
                             cell(p.greedy.seq_rep4_first), cell(p.greedy.seq_rep4_past),
                             cell(p.greedy.loop_past, 1), cell(p.top_p.seq_rep4_first),
                             cell(p.top_p.seq_rep4_past), cell(p.top_p.loop_past, 1)});

    // One plot per model: teacher-forced NLL by window of positions, a line per policy.
    for (const ModelResult& m : models) {
        olab::PlotSpec plot;
        plot.title = "Human-text NLL by position: " + m.name;
        plot.x_label = "position of the predicted token (window start)";
        plot.y_label = "mean NLL (nats)";
        for (const PolicyResult& p : m.policies) {
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
    // And the repetition of greedy samples past block_size, by model and policy.
    {
        olab::PlotSpec plot;
        plot.title = "Greedy seq-rep-4: inside vs past the trained context";
        plot.x_label = "model / policy";
        plot.y_label = "seq-rep-4";
        plot.y_min = 0.0;
        plot.height = 420;
        olab::Series first{"inside the trained context", {}, {}, olab::Series::Style::bars};
        olab::Series past{"past the trained context", {}, {}, olab::Series::Style::bars};
        for (const ModelResult& m : models)
            for (const PolicyResult& p : m.policies) {
                if (!p.applies || p.policy == gen::ContextPolicy::stop)
                    continue;
                const double x = double(plot.x_categories.size());
                plot.x_categories.push_back((models.size() > 1 ? m.position + " " : std::string()) +
                                            policy_name(p.policy));
                first.x.push_back(x);
                first.y.push_back(p.greedy.seq_rep4_first);
                past.x.push_back(x);
                past.y.push_back(p.greedy.seq_rep4_past);
            }
        plot.series = {first, past};
        if (!plot.x_categories.empty())
            r.plots.push_back(std::move(plot));
    }

    for (std::size_t i = 0; i < models.size(); ++i) {
        const ModelResult& m = models[i];
        std::string tf = m.name + " (" + m.position + " positions, trained context " +
                         std::to_string(m.block_size) + " tokens): surprise at human text fed in ";
        const PolicyResult& stop = m.policies.front();
        if (std::isnan(stop.tf_first)) {
            tf += "not measured (pass --valid).";
        } else {
            tf += fmt(stop.tf_first) + " nats inside the trained context; past it";
            for (const PolicyResult& p : m.policies)
                if (p.policy != gen::ContextPolicy::stop)
                    tf += " " + policy_name(p.policy) + " " +
                          (p.applies ? cell(p.tf_past) : std::string("n/a")) +
                          (p.policy == gen::ContextPolicy::sinks ? "." : ",");
        }
        r.findings.push_back(tf);
        std::string rep = m.name + ": greedy seq-rep-4 inside the trained context vs past it:";
        const char* sep = " ";
        for (const PolicyResult& p : m.policies)
            if (p.applies && p.policy != gen::ContextPolicy::stop) {
                rep += sep + policy_name(p.policy) + " " + cell(p.greedy.seq_rep4_first) + " -> " +
                       cell(p.greedy.seq_rep4_past) + " (" + cell(p.greedy.loop_past, 1) +
                       "% loop; top-p " + cell(p.top_p.seq_rep4_first) + " -> " +
                       cell(p.top_p.seq_rep4_past) + ")";
                sep = "; ";
            }
        r.findings.push_back(rep + ".");
        for (const PolicyResult& p : m.policies) {
            if (!p.applies)
                continue;
            std::string key = gen::to_string(p.policy);
            key = (i == 0 ? "e4_" : "e4_m" + std::to_string(i) + "_" + m.position + "_") + key;
            r.numbers[key + "_tf_nll_first"] = p.tf_first;
            r.numbers[key + "_tf_nll_past"] = p.tf_past;
            r.numbers[key + "_greedy_seq_rep4_first"] = p.greedy.seq_rep4_first;
            r.numbers[key + "_greedy_seq_rep4_past"] = p.greedy.seq_rep4_past;
            r.numbers[key + "_greedy_loop_percent_past"] = p.greedy.loop_past;
            r.numbers[key + "_top_p_seq_rep4_past"] = p.top_p.seq_rep4_past;
        }
    }
    return r;
}

} // namespace collapse
