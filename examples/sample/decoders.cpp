// sample's decoders: the sampler chain, contrastive and beam search (see decoders.hpp).
#include "decoders.hpp"

#include "common/text_width.hpp"

#include <ouro/core/error.hpp>
#include <ouro/gen/search.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <span>
#include <utility>

using namespace ouro;

namespace sample {

namespace {

// A sample's last line on stderr.
struct Tally {
    std::int64_t tokens = 0;
    double entropy = 0.0; // sum of the raw entropies
    void add(const gen::TraceRecord& r) {
        ++tokens;
        entropy += r.decision.entropy_raw;
    }
};

void summary(const std::string& label, const Tally& t, const char* finish, double seconds) {
    std::fprintf(stderr, "[%s] %lld tokens, %s, %.1f tokens/s, mean entropy %.3f nats\n",
                 label.c_str(), (long long)t.tokens, finish,
                 seconds > 0 ? double(t.tokens) / seconds : 0.0,
                 t.tokens ? t.entropy / double(t.tokens) : 0.0);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

gen::InferenceSession Job::session(std::int64_t slots) const {
    gen::SessionOptions so = gen::session_options(bundle.config, context, slots);
    so.half_weights = o.half;
    gen::InferenceSession s(*bundle.model, so);
    if (context.policy == gen::ContextPolicy::stop)
        for (std::size_t p = 0; p < prompts.size(); ++p)
            if (std::int64_t(prompts[p].size()) > s.context())
                throw ConfigError("prompt " + std::to_string(p + 1) + " has " +
                                  std::to_string(prompts[p].size()) + " tokens (with " +
                                  bundle.tokenizer.token(bundle.tokenizer.story_separator()) +
                                  "), more than the context of " + std::to_string(s.context()) +
                                  " under --context-policy stop (use crop, slide or sinks, "
                                  "or a larger --context)");
    return s;
}

void Job::keep_trace(std::vector<gen::TraceRecord>& records, std::int64_t sequence) {
    if (o.trace.empty())
        return;
    for (gen::TraceRecord& r : records) {
        r.sequence = sequence;
        trace.push_back(std::move(r));
    }
}

void run_sampling(Job& job, gen::InferenceSession& session, gen::SamplerChain& chain) {
    const Options& o = job.o;
    gen::GenerateOptions g;
    g.max_new_tokens = o.max_new_tokens;
    g.context = job.context;
    g.end_token = job.bundle.tokenizer.story_separator();
    g.end_of_text = gen::parse_end_of_text(o.end_of_text);
    g.trace = !o.trace.empty();
    g.stop_strings = o.stop;
    // The text of each token after the one before: generate() calls decode once per token, in
    // order, and one sequence runs at a time, so `prev` follows the sequence.
    std::int32_t prev = -1;
    g.decode = [&job, &prev](std::int32_t id) {
        return job.token_text(std::exchange(prev, id), id);
    };
    const std::int64_t total = std::int64_t(job.prompts.size()) * o.num_samples;
    for (std::size_t p = 0; p < job.prompts.size(); ++p) {
        const std::vector<std::vector<std::int32_t>> one{job.prompts[p]};
        for (std::int64_t i = 0; i < o.num_samples; ++i) {
            const std::int64_t k = std::int64_t(p) * o.num_samples + i;
            g.seed = Rng::stream_value(o.seed, std::uint64_t(k));
            Tally tally;
            g.on_token = [&](const gen::TraceRecord& r) {
                job.writer.token(r);
                tally.add(r);
            };
            prev = job.prompts[p].back();
            job.writer.begin(k, std::int64_t(p), job.texts[p], prev);
            const auto start = std::chrono::steady_clock::now();
            std::vector<gen::GeneratedSequence> out =
                gen::generate(session, std::span<gen::SamplerChain>(&chain, 1), one, g);
            const double seconds = seconds_since(start);
            job.writer.end(out[0]);
            summary("sample " + std::to_string(k + 1) + "/" + std::to_string(total) + ", prompt " +
                        std::to_string(p + 1),
                    tally, gen::to_string(out[0].finish), seconds);
            job.keep_trace(out[0].trace, k);
        }
    }
}

void run_contrastive(Job& job, gen::InferenceSession& session) {
    const Options& o = job.o;
    gen::ContrastiveOptions c;
    c.top_k = o.contrastive_k;
    c.alpha = o.alpha;
    c.max_new_tokens = o.max_new_tokens;
    c.end_token = job.bundle.tokenizer.story_separator();
    c.context = job.context;
    c.stop_strings = o.stop;
    std::int32_t prev = -1; // as in run_sampling: decode is called once per token, in order
    c.decode = [&job, &prev](std::int32_t id) {
        return job.token_text(std::exchange(prev, id), id);
    };
    for (std::size_t p = 0; p < job.prompts.size(); ++p) {
        prev = job.prompts[p].back();
        job.writer.begin(std::int64_t(p), std::int64_t(p), job.texts[p], prev);
        const auto start = std::chrono::steady_clock::now();
        gen::GeneratedSequence out = gen::contrastive_search(session, job.prompts[p], c);
        const double seconds = seconds_since(start);
        Tally tally;
        for (const gen::TraceRecord& r : out.trace) {
            job.writer.token(r);
            tally.add(r);
        }
        job.writer.end(out);
        summary("prompt " + std::to_string(p + 1), tally, gen::to_string(out.finish), seconds);
        job.keep_trace(out.trace, std::int64_t(p));
    }
}

void run_beam(Job& job, gen::InferenceSession& session) {
    const Options& o = job.o;
    gen::BeamSearchOptions b;
    b.beams = o.beam;
    b.max_new_tokens = o.max_new_tokens;
    b.length_penalty = o.length_penalty;
    b.end_token = job.bundle.tokenizer.story_separator();
    b.context = job.context;
    std::int64_t printed = 0;
    for (std::size_t p = 0; p < job.prompts.size(); ++p) {
        const auto start = std::chrono::steady_clock::now();
        const std::vector<gen::BeamHypothesis> hyps = gen::beam_search(session, job.prompts[p], b);
        const double seconds = seconds_since(start);
        const std::size_t shown = std::min(hyps.size(), std::size_t(o.num_samples));
        for (std::size_t i = 0; i < shown; ++i) {
            const gen::BeamHypothesis& h = hyps[i];
            if (printed++ > 0)
                job.printer.plain(separator);
            std::string text = job.texts[p];
            std::int32_t prev = job.prompts[p].back();
            for (const std::int32_t id : h.tokens)
                text += job.token_text(std::exchange(prev, id), id);
            job.printer.plain(text);
            job.printer.finish();
            char line[256];
            std::snprintf(line, sizeof line,
                          "[prompt %zu, hypothesis %zu/%zu] %zu tokens, %s, log-prob %.3f, score "
                          "%.4f; the search took %.1f ms",
                          p + 1, i + 1, hyps.size(), h.tokens.size(),
                          h.finished ? "end_of_text" : "unfinished", h.log_prob, h.score,
                          seconds * 1e3);
            std::fprintf(stderr, "%s\n", flags::wrap(line, flags::columns, 4).c_str());
        }
    }
}

} // namespace sample
