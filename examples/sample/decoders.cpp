// sample's decoders: the sampler chain, contrastive and beam search (see decoders.hpp).
#include "decoders.hpp"

#include "common/text_width.hpp"

#include <ouro/core/error.hpp>

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

gen::Decoder decoder_of(const CLI::App& app, const Options& o) {
    if (app.count("--beam") != 0) {
        gen::Decoder d = gen::Decoder::beam("beam", o.beam, o.length_penalty);
        d.hypotheses = o.beam; // all of them: the summary counts them
        return d;
    }
    if (o.contrastive)
        return gen::Decoder::contrastive("contrastive", o.contrastive_k, o.alpha);
    return gen::Decoder::chain("chain", o.sampler, o.samplers);
}

gen::DecodeOptions decode_options_of(const Options& o, std::int32_t end_token) {
    gen::DecodeOptions d;
    d.max_new_tokens = o.max_new_tokens;
    d.context.policy = gen::parse_context_policy(o.context_policy);
    d.context.context = o.context;
    d.context.sink_tokens = o.sink_tokens;
    d.half_weights = o.half;
    d.end_token = end_token;
    d.end_of_text = gen::parse_end_of_text(o.end_of_text);
    d.stop_strings = o.stop;
    d.alternatives = o.top_logprobs;
    return d;
}

gen::InferenceSession Job::session() const {
    gen::InferenceSession s = gen::decode_session(*bundle.model, decoder, options, 1);
    for (std::size_t p = 0; p < prompts.size(); ++p)
        gen::check_prompt_fits(options.context.policy, std::int64_t(prompts[p].size()), s.context(),
                               "prompt " + std::to_string(p + 1));
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

void run_sampling(Job& job, gen::InferenceSession& session) {
    const Options& o = job.o;
    gen::DecodeOptions g = job.options;
    // The text of each token after the one before: decode() calls decode once per token, in
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
            std::vector<gen::DecodedSequence> out = gen::decode(session, job.decoder, one, g);
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
    gen::DecodeOptions c = job.options;
    std::int32_t prev = -1; // as in run_sampling: decode is called once per token, in order
    c.decode = [&job, &prev](std::int32_t id) {
        return job.token_text(std::exchange(prev, id), id);
    };
    for (std::size_t p = 0; p < job.prompts.size(); ++p) {
        prev = job.prompts[p].back();
        job.writer.begin(std::int64_t(p), std::int64_t(p), job.texts[p], prev);
        Tally tally;
        c.on_token = [&](const gen::TraceRecord& r) {
            job.writer.token(r);
            tally.add(r);
        };
        const auto start = std::chrono::steady_clock::now();
        std::vector<gen::DecodedSequence> out =
            gen::decode(session, job.decoder, {job.prompts[p]}, c);
        const double seconds = seconds_since(start);
        job.writer.end(out[0]);
        summary("prompt " + std::to_string(p + 1), tally, gen::to_string(out[0].finish), seconds);
        job.keep_trace(out[0].trace, std::int64_t(p));
    }
}

void run_beam(Job& job, gen::InferenceSession& session) {
    const Options& o = job.o;
    gen::DecodeOptions options = job.options;
    options.trace = false; // the text only: no teacher forcing of the hypotheses
    std::int64_t printed = 0;
    for (std::size_t p = 0; p < job.prompts.size(); ++p) {
        const auto start = std::chrono::steady_clock::now();
        const std::vector<gen::DecodedSequence> hyps =
            gen::decode(session, job.decoder, {job.prompts[p]}, options);
        const double seconds = seconds_since(start);
        const std::size_t shown = std::min(hyps.size(), std::size_t(o.num_samples));
        for (std::size_t i = 0; i < shown; ++i) {
            const gen::DecodedSequence& h = hyps[i];
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
                          h.finish == gen::FinishReason::end_of_text ? "end_of_text" : "unfinished",
                          h.log_prob, h.score, seconds * 1e3);
            std::fprintf(stderr, "%s\n", flags::wrap(line, flags::columns, 4).c_str());
        }
    }
}

} // namespace sample
