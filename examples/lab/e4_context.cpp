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
#include "experiments.hpp"

#include <ouro/gen/concurrent.hpp>
#include <ouro/lab/loops.hpp>
#include <ouro/lab/positional.hpp>
#include <ouro/lab/repetition.hpp>
#include <ouro/lab/table.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
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

bool allowed(gen::ContextPolicy p, ouro::nn::PositionEncoding pos) {
    const bool sliding = p == gen::ContextPolicy::slide || p == gen::ContextPolicy::sinks;
    return !sliding || pos != ouro::nn::PositionEncoding::learned;
}

// The estimate as measured before (a plain mean, NaN if any value is), with the ends of the
// Student's t interval of `values`.
olab::Interval around(double estimate, const std::vector<double>& values, double lower = 0.0) {
    const olab::Interval i = olab::mean_interval(values, lower);
    return {estimate, i.lo, i.hi};
}

// What the samples of one decoder did inside the first block and past block_size.
E4Samples sample_stats(const DecodedSet& set, const std::vector<std::vector<std::int32_t>>& prompts,
                       std::int64_t T, bool past_exists) {
    E4Samples s;
    s.seq_rep4_first = s.seq_rep4_past = {nan, nan, nan};
    double first = 0, past = 0;
    std::vector<double> firsts, pasts;
    for (std::size_t i = 0; i < set.samples.size(); ++i) {
        const std::vector<std::int32_t>& x = set.samples[i];
        const std::int64_t prompt = std::int64_t(prompts[std::size_t(set.prompt_index[i])].size());
        // Generated token j sits at position prompt + j: the first block ends at j = T - prompt.
        const std::size_t split =
            std::size_t(std::clamp<std::int64_t>(T - prompt, 0, std::int64_t(x.size())));
        firsts.push_back(olab::seq_rep_n(std::span(x).first(split), 4));
        first += firsts.back();
        if (past_exists && split < x.size()) {
            const std::span<const std::int32_t> tail = std::span(x).subspan(split);
            pasts.push_back(olab::seq_rep_n(tail, 4));
            past += pasts.back();
            s.loops_past += olab::find_loop(tail, 3).has_value();
            ++s.samples_past;
        }
    }
    if (!firsts.empty())
        s.seq_rep4_first = around(first / double(firsts.size()), firsts);
    if (!pasts.empty())
        s.seq_rep4_past = around(past / double(pasts.size()), pasts);
    return s;
}

} // namespace

std::string policy_name(gen::ContextPolicy p) {
    return p == gen::ContextPolicy::sinks ? "sinks(4)" : gen::to_string(p);
}

double E4Samples::loop_past_percent() const {
    return samples_past ? 100.0 * double(loops_past) / double(samples_past) : nan;
}

olab::Interval E4Samples::loop_past() const {
    return samples_past ? olab::wilson_interval(loops_past, samples_past)
                        : olab::Interval{nan, nan, nan};
}

namespace {

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

} // namespace

namespace {

// Sizes of one model's runs under each policy: new tokens generated and human stream length
// (in quick mode crop stops 64 tokens past the context: each of its tokens is a full forward
// pass).
struct E4Plan {
    std::int64_t T = 0, shortest_prompt = 0, samples = 1;
    bool quick = false;
    std::int64_t past_quick() const { return std::min<std::int64_t>(T, 64); }
    std::int64_t new_tokens(gen::ContextPolicy p) const {
        return quick && p == gen::ContextPolicy::crop ? T - shortest_prompt + past_quick() : 2 * T;
    }
    std::int64_t stream_length(gen::ContextPolicy p) const {
        return quick && p == gen::ContextPolicy::crop ? T + past_quick() : 2 * T;
    }
};

// Teacher-forced NLL of the streams inside the first block and past it, and by window.
void teacher_forced(Lab& m, const E4Plan& plan, const gen::ContextOptions& ctx,
                    const std::vector<std::vector<std::int32_t>>& streams, E4Policy& pr) {
    std::vector<std::vector<std::int32_t>> texts = streams;
    for (auto& t : texts)
        t.resize(std::min(t.size(), std::size_t(plan.stream_length(ctx.policy))));
    const auto scores =
        olab::teacher_force(m.model(), texts, ctx, m.eot(), std::int64_t(texts.size()));
    const auto nll = olab::field_of(scores, &olab::TokenScore::nll);
    double first = 0, after = 0;
    std::int64_t n_first = 0, n_after = 0;
    std::vector<double> firsts, pasts; // per stream
    for (const auto& row : nll) {
        double f = 0, a = 0;
        std::int64_t nf = 0, na = 0;
        for (std::size_t t = 0; t < row.size(); ++t) {
            if (std::int64_t(t) < plan.T) {
                first += row[t];
                f += row[t];
                ++nf;
            } else {
                after += row[t];
                a += row[t];
                ++na;
            }
        }
        n_first += nf;
        n_after += na;
        firsts.push_back(nf ? f / double(nf) : nan);
        pasts.push_back(na ? a / double(na) : nan);
    }
    pr.tf_first = around(n_first ? first / double(n_first) : nan, firsts);
    pr.tf_past = around(n_after ? after / double(n_after) : nan, pasts);
    pr.tf_windows = olab::mean_by_window(nll, std::max<std::int64_t>(1, plan.T / 8));
}

// The policy's header fields; whether it applies to the model.
E4Policy policy_result(const Lab& m, gen::ContextPolicy p) {
    E4Policy pr;
    pr.policy = p;
    pr.applies = allowed(p, m.config().position);
    pr.tf_first = pr.tf_past = {nan, nan, nan};
    pr.greedy.seq_rep4_first = pr.greedy.seq_rep4_past = {nan, nan, nan};
    pr.top_p = pr.greedy;
    return pr;
}

// One model with what its runs need.
struct E4Job {
    std::unique_ptr<Lab> lab;
    E4Plan plan;
    std::vector<std::vector<std::int32_t>> streams;
    E4Model result;
};

// The runs of one policy as pieces for gen::run_concurrently (greedy and top-p samples, the
// teacher forcing), each writing its own field of `pr`.
void policy_pieces(E4Job& job, E4Policy& pr, ouro::examples::ProgressBar& bar, std::uint64_t& done,
                   std::vector<std::function<void()>>& pieces) {
    if (!pr.applies)
        return;
    Lab& m = *job.lab;
    const E4Plan& plan = job.plan;
    gen::ContextOptions ctx;
    ctx.policy = pr.policy;
    ctx.sink_tokens = sink_tokens;
    DecodeRequest request;
    request.max_new_tokens = plan.new_tokens(pr.policy);
    request.context = ctx;
    request.samples_per_prompt = plan.samples;
    request.seed = m.settings().seed;
    const bool past = pr.policy != gen::ContextPolicy::stop;
    for (E4Samples* into : {&pr.greedy, &pr.top_p})
        pieces.push_back([&m, &plan, &bar, &done, into, request, past,
                          name = into == &pr.greedy ? "greedy" : "top-p 0.95"] {
            *into = sample_stats(decode(m, find_decoder(name), request, &bar, &done), m.prompts(),
                                 plan.T, past);
        });
    if (!job.streams.empty())
        pieces.push_back([&m, &plan, &job, &pr, &bar, &done, ctx] {
            teacher_forced(m, plan, ctx, job.streams, pr);
            advance(bar, done,
                    std::uint64_t(job.streams.size()) *
                        std::uint64_t(plan.stream_length(pr.policy)));
        });
}

E4Job load_model(const Lab& lab, const fs::path& ckpt, const std::vector<std::string>& prompts,
                 const std::vector<std::string>& stories, std::int64_t samples,
                 std::int64_t streams_wanted) {
    LabSettings s = lab.settings();
    s.prompts = prompts;
    if (!ckpt.empty()) {
        s.checkpoint = ckpt;
        s.tokenizer.clear(); // the checkpoint's own folder
    }
    E4Job job;
    job.lab = std::make_unique<Lab>(s);
    const Lab& m = *job.lab;
    E4Plan& plan = job.plan;
    plan.T = m.config().block_size;
    plan.quick = s.quick;
    plan.samples = samples;
    plan.shortest_prompt = std::numeric_limits<std::int64_t>::max();
    for (const auto& p : m.prompts())
        plan.shortest_prompt = std::min<std::int64_t>(plan.shortest_prompt, std::int64_t(p.size()));
    job.streams = human_streams(m, stories, streams_wanted, 2 * plan.T);
    E4Model& res = job.result;
    res.name = ckpt.empty() ? model_name(lab.settings().checkpoint) + " (lab)" : model_name(ckpt);
    res.position = ouro::nn::to_string(m.config().position);
    res.block_size = plan.T;
    for (const gen::ContextPolicy p : policies)
        res.policies.push_back(policy_result(m, p));
    return job;
}

// Tokens the bar counts for one model's runs.
std::uint64_t work_of(const E4Job& job) {
    std::uint64_t total = 0;
    for (const E4Policy& pr : job.result.policies)
        if (pr.applies)
            total += std::uint64_t(job.lab->prompts().size()) *
                         std::uint64_t(1 + job.plan.samples) *
                         std::uint64_t(job.plan.new_tokens(pr.policy)) +
                     std::uint64_t(job.streams.size()) *
                         std::uint64_t(job.plan.stream_length(pr.policy));
    return total;
}

} // namespace

E4Result measure_e4(Lab& lab, const std::vector<fs::path>& extra_checkpoints) {
    const LabSettings& settings = lab.settings();
    E4Result r;
    r.quick = settings.quick;
    r.seed = settings.seed;
    // Prompts: all of the lab's (two in quick mode); samples per prompt for top-p.
    std::vector<std::string> prompts = lab.prompt_texts();
    if (r.quick && prompts.size() > 2)
        prompts.resize(2);
    r.prompts = prompts.size();
    r.samples = r.quick ? 1 : settings.samples_per_prompt;
    r.streams_wanted = r.quick ? 2 : 8;
    // The human stories as text, so that each model encodes them with its own tokenizer.
    std::vector<std::string> stories;
    for (const std::vector<std::int32_t>& s : lab.human_stories()) {
        if (stories.size() >= std::size_t(r.streams_wanted) * 16)
            break;
        stories.push_back(lab.text(std::span(s).subspan(1)));
    }
    std::vector<fs::path> checkpoints{fs::path()};
    checkpoints.insert(checkpoints.end(), extra_checkpoints.begin(), extra_checkpoints.end());
    // Every model is loaded first (a bad one fails before any work); then all models' policies
    // run side by side (gen::run_concurrently), crop's runs (a full pass per token) first.
    std::vector<E4Job> jobs;
    std::uint64_t total = 0;
    for (const fs::path& ckpt : checkpoints) {
        jobs.push_back(load_model(lab, ckpt, prompts, stories, r.samples, r.streams_wanted));
        total += work_of(jobs.back());
    }
    ouro::examples::ProgressBar bar = progress_bar(lab, "e4 context", total);
    std::uint64_t done = 0;
    std::vector<std::function<void()>> crop, others;
    for (E4Job& job : jobs)
        for (E4Policy& pr : job.result.policies)
            policy_pieces(job, pr, bar, done,
                          pr.policy == gen::ContextPolicy::crop ? crop : others);
    crop.insert(crop.end(), others.begin(), others.end());
    gen::run_concurrently(crop);
    bar.finish();
    for (E4Job& job : jobs)
        r.models.push_back(std::move(job.result));
    return r;
}

} // namespace collapse
