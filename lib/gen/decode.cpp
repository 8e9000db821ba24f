// decode(): every decoder through one entry point, and teacher forcing (see decode.hpp).
#include "ouro/gen/decode.hpp"

#include "ouro/core/error.hpp"
#include "ouro/gen/search.hpp"
#include "sequence_jobs.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace ouro::gen {
namespace {

std::string str(std::int64_t v) {
    return std::to_string(v);
}

const char* decoder_kind(Decoder::Kind kind) {
    return kind == Decoder::Kind::beam ? "beam search" : "contrastive search";
}

void check_options(const InferenceSession& session, const Decoder& decoder,
                   const std::vector<std::vector<std::int32_t>>& prompts,
                   const DecodeOptions& options) {
    if (prompts.empty())
        throw ConfigError("decode: no prompts");
    if (options.samples_per_prompt < 1)
        throw ConfigError("decode: samples_per_prompt must be at least 1, got " +
                          str(options.samples_per_prompt));
    if (options.alternatives < 0)
        throw ConfigError("decode: alternatives must be at least 0, got " +
                          str(options.alternatives));
    if (decoder.kind == Decoder::Kind::beam) {
        if (decoder.hypotheses < 1 || decoder.hypotheses > decoder.beams)
            throw ConfigError("decode: hypotheses must be in [1, " + str(decoder.beams) +
                              "] (the beams), got " + str(decoder.hypotheses));
        if (!options.stop_strings.empty())
            throw ConfigError("decode: stop strings are not available with beam search (it ranks "
                              "whole hypotheses)");
    }
    if (decoder.kind != Decoder::Kind::chain && options.end_of_text == EndOfText::new_story)
        throw ConfigError(std::string("decode: end of text 'new_story' is not available with ") +
                          decoder_kind(decoder.kind));
    for (std::size_t p = 0; p < prompts.size(); ++p)
        check_prompt_fits(options.context.policy, std::int64_t(prompts[p].size()),
                          session.context(), "decode: prompt " + str(std::int64_t(p)));
}

// Sequences [first, last) of the chain in one batch: sequence i = c * P + p is copy c of prompt p
// (decode() runs them all; decode_parallel a group of them).
std::vector<DecodedSequence> decode_chain(InferenceSession& session, const Decoder& decoder,
                                          const std::vector<std::vector<std::int32_t>>& prompts,
                                          const DecodeOptions& options, std::int64_t first,
                                          std::int64_t last) {
    const std::int64_t P = std::int64_t(prompts.size());
    std::vector<std::vector<std::int32_t>> batch;
    std::vector<std::int64_t> prompt_index;
    for (std::int64_t i = first; i < last; ++i) {
        batch.push_back(prompts[std::size_t(i % P)]);
        prompt_index.push_back(i % P);
    }
    std::vector<SamplerChain> chains;
    chains.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
        chains.push_back(SamplerChain::from_settings(decoder.settings, decoder.order));
        chains.back().set_alternatives(options.alternatives);
    }
    GenerateOptions g;
    g.max_new_tokens = options.max_new_tokens;
    g.context = options.context;
    g.end_token = options.end_token;
    g.end_of_text = options.end_of_text;
    g.seed = options.seed;
    g.first_sequence = std::uint64_t(first);
    g.trace = options.trace;
    g.decode = options.decode;
    g.on_token = options.on_token;
    g.stop_strings = options.stop_strings;
    std::vector<GeneratedSequence> out = generate(session, std::span(chains), batch, g);
    std::vector<DecodedSequence> result(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        DecodedSequence& d = result[i];
        d.prompt_index = prompt_index[i];
        d.tokens = std::move(out[i].tokens);
        d.trace = std::move(out[i].trace);
        d.finish = out[i].finish;
        d.text = std::move(out[i].text);
        d.stop_index = out[i].stop_index;
    }
    return result;
}

// The search decoders' records: every generated token scored by teacher forcing, the text and
// changed_by of the search's own records kept when it has them.
void score_searched(InferenceSession& session,
                    const std::vector<std::vector<std::int32_t>>& prompts,
                    std::vector<DecodedSequence>& sequences, const DecodeOptions& options) {
    std::vector<std::vector<std::int32_t>> texts;
    texts.reserve(sequences.size());
    for (DecodedSequence& s : sequences) {
        std::vector<std::int32_t> t = prompts[std::size_t(s.prompt_index)];
        t.insert(t.end(), s.tokens.begin(), s.tokens.end());
        texts.push_back(std::move(t));
        s.trace.resize(s.tokens.size());
    }
    GenerateOptions stats; // what fill_statistics reads: the end token for p_end
    stats.end_token = options.end_token;
    teacher_force(
        session, texts, options.context, [&](std::size_t i, std::size_t t, std::int64_t slot) {
            const std::size_t first = prompts[std::size_t(sequences[i].prompt_index)].size();
            if (t < first)
                return;
            TraceRecord& r = sequences[i].trace[t - first];
            const std::span<const float> logits = session.logits(slot);
            std::string changed_by = std::move(r.decision.changed_by);
            r.sequence = std::int64_t(i);
            r.step = std::int64_t(t - first);
            r.position = std::int64_t(t);
            r.context = session.cached(slot);
            r.token = texts[i][t];
            fill_raw_decision(logits, r.token, r.decision, options.alternatives);
            r.decision.changed_by = std::move(changed_by);
            detail::fill_statistics(r, logits, std::span(texts[i]).first(t + 1), stats);
        });
}

// Prompts [first, last) with contrastive search, one after another.
std::vector<DecodedSequence>
decode_contrastive(InferenceSession& session, const Decoder& decoder,
                   const std::vector<std::vector<std::int32_t>>& prompts,
                   const DecodeOptions& options, std::int64_t first, std::int64_t last) {
    ContrastiveOptions c;
    c.top_k = decoder.top_k;
    c.alpha = decoder.alpha;
    c.max_new_tokens = options.max_new_tokens;
    c.context = options.context;
    // Contrastive search has no "ignore" mode: without an end token it runs on through it.
    c.end_token = options.end_of_text == EndOfText::stop ? options.end_token : -1;
    c.decode = options.decode;
    c.stop_strings = options.stop_strings;
    std::vector<DecodedSequence> result;
    for (std::size_t p = std::size_t(first); p < std::size_t(last); ++p) {
        GeneratedSequence g = contrastive_search(session, prompts[p], c);
        DecodedSequence& d = result.emplace_back();
        d.prompt_index = std::int64_t(p);
        d.tokens = std::move(g.tokens);
        d.trace = std::move(g.trace);
        d.finish = g.finish;
        d.text = std::move(g.text);
        d.stop_index = g.stop_index;
    }
    if (options.trace)
        score_searched(session, prompts, result, options);
    else
        for (DecodedSequence& d : result)
            d.trace.clear();
    return result;
}

// Prompts [first, last) with beam search, one after another.
std::vector<DecodedSequence> decode_beam(InferenceSession& session, const Decoder& decoder,
                                         const std::vector<std::vector<std::int32_t>>& prompts,
                                         const DecodeOptions& options, std::int64_t first,
                                         std::int64_t last) {
    BeamSearchOptions b;
    b.beams = decoder.beams;
    b.length_penalty = decoder.length_penalty;
    b.max_new_tokens = options.max_new_tokens;
    b.context = options.context;
    b.end_token = options.end_of_text == EndOfText::stop ? options.end_token : -1;
    std::vector<DecodedSequence> result;
    for (std::size_t p = std::size_t(first); p < std::size_t(last); ++p) {
        std::vector<BeamHypothesis> hyps = beam_search(session, prompts[p], b);
        const std::size_t n = std::min(hyps.size(), std::size_t(decoder.hypotheses));
        for (std::size_t h = 0; h < n; ++h) {
            DecodedSequence& d = result.emplace_back();
            d.prompt_index = std::int64_t(p);
            d.tokens = std::move(hyps[h].tokens);
            d.log_prob = hyps[h].log_prob;
            d.score = hyps[h].score;
            d.finish = hyps[h].finished ? FinishReason::end_of_text
                       : std::int64_t(d.tokens.size()) < options.max_new_tokens
                           ? FinishReason::context_full
                           : FinishReason::max_tokens;
        }
    }
    if (options.trace)
        score_searched(session, prompts, result, options);
    // The text of every token, in order (beam search decodes none while it searches).
    if (options.decode)
        for (DecodedSequence& d : result)
            for (std::size_t t = 0; t < d.tokens.size(); ++t) {
                std::string text = options.decode(d.tokens[t]);
                d.text += text;
                if (options.trace)
                    d.trace[t].text = std::move(text);
            }
    return result;
}

// Items [first, last) of any decoder in one session: sequences of the chain, prompts of the
// searches. Does not call on_token for the searches (the callers do, in order).
std::vector<DecodedSequence> decode_range(InferenceSession& session, const Decoder& decoder,
                                          const std::vector<std::vector<std::int32_t>>& prompts,
                                          const DecodeOptions& options, std::int64_t first,
                                          std::int64_t last) {
    switch (decoder.kind) {
    case Decoder::Kind::chain:
        return decode_chain(session, decoder, prompts, options, first, last);
    case Decoder::Kind::beam:
        return decode_beam(session, decoder, prompts, options, first, last);
    case Decoder::Kind::contrastive:
        return decode_contrastive(session, decoder, prompts, options, first, last);
    }
    return {};
}

// The items decode() runs: sequences for the chain, prompts for the searches.
std::int64_t decode_items(const Decoder& decoder, const DecodeOptions& options,
                          std::int64_t prompts) {
    if (decoder.kind != Decoder::Kind::chain)
        return prompts;
    return prompts * (decoder.samples() ? options.samples_per_prompt : 1);
}

// decode(model, ...) with more than one thread: the items in groups (sequence_jobs.hpp), each
// group decoded by one thread in a session of its own, the results gathered in the order of one
// batch. The callbacks are serialised: `decode` under a lock, on_token in order as groups finish.
std::vector<DecodedSequence> decode_parallel(const nn::GPT<float>& model, const Decoder& decoder,
                                             const std::vector<std::vector<std::int32_t>>& prompts,
                                             const DecodeOptions& options, int threads) {
    const bool chain = decoder.kind == Decoder::Kind::chain;
    const std::int64_t items = decode_items(decoder, options, std::int64_t(prompts.size()));
    // The searches decode prompt after prompt whatever the groups, so each prompt is a group of
    // its own (a thread's session serves all its groups); the chain's batch is cut only as far as
    // the threads need.
    const std::vector<std::int64_t> bounds = detail::group_bounds(
        items, chain ? detail::group_count(items, detail::cut_threads(threads), items, 4) : items);
    const std::int64_t jobs = std::int64_t(bounds.size()) - 1;
    std::int64_t largest = 0;
    for (std::int64_t j = 0; j < jobs; ++j)
        largest = std::max(largest, bounds[std::size_t(j) + 1] - bounds[std::size_t(j)]);
    SessionOptions so =
        session_options(model.config, options.context, chain ? largest : decoder.slots(1, 1));
    so.half_weights = options.half_weights;
    std::vector<std::optional<InferenceSession>> sessions(
        static_cast<std::size_t>(detail::thread_slots(threads)));
    sessions[0].emplace(model, so); // its errors, and the options', come before any work
    check_options(*sessions[0], decoder, prompts, options);

    std::mutex text_mutex, emit_mutex;
    DecodeOptions shared = options;
    if (options.decode)
        shared.decode = [&](std::int32_t token) {
            const std::lock_guard lock(text_mutex);
            return options.decode(token);
        };
    shared.on_token = nullptr;
    std::vector<std::vector<DecodedSequence>> results(static_cast<std::size_t>(jobs));
    // The records the chain's on_token would have seen, held until their turn.
    std::vector<std::vector<TraceRecord>> streamed(static_cast<std::size_t>(jobs));
    std::vector<char> done(static_cast<std::size_t>(jobs), 0);
    std::int64_t next = 0, sequence = 0;
    detail::run_jobs(jobs, threads, [&](std::int64_t j, int t) {
        std::optional<InferenceSession>& session = sessions[std::size_t(t)];
        if (!session) // reading the first session's half weights, if any
            session.emplace(model, so, *sessions[0]);
        DecodeOptions o = shared;
        if (chain && options.on_token)
            o.on_token = [&streamed, j](const TraceRecord& r) {
                streamed[std::size_t(j)].push_back(r);
            };
        results[std::size_t(j)] = decode_range(*session, decoder, prompts, o,
                                               bounds[std::size_t(j)], bounds[std::size_t(j) + 1]);
        // Every finished group whose predecessors are done: numbered, then streamed.
        const std::lock_guard lock(emit_mutex);
        done[std::size_t(j)] = 1;
        for (; next < jobs && done[std::size_t(next)]; ++next) {
            for (DecodedSequence& d : results[std::size_t(next)]) {
                for (TraceRecord& r : d.trace)
                    r.sequence = sequence;
                ++sequence;
            }
            if (!options.on_token)
                continue;
            if (chain)
                for (const TraceRecord& r : streamed[std::size_t(next)])
                    options.on_token(r);
            else
                for (const DecodedSequence& d : results[std::size_t(next)])
                    for (const TraceRecord& r : d.trace)
                        options.on_token(r);
            streamed[std::size_t(next)] = {};
        }
    });
    std::vector<DecodedSequence> out;
    out.reserve(std::size_t(sequence));
    for (std::vector<DecodedSequence>& r : results)
        for (DecodedSequence& d : r)
            out.push_back(std::move(d));
    return out;
}

} // namespace

Decoder Decoder::chain(std::string name, SamplerSettings settings, std::string order) {
    Decoder d;
    d.name = std::move(name);
    d.kind = Kind::chain;
    d.settings = std::move(settings);
    d.order = std::move(order);
    return d;
}

Decoder Decoder::beam(std::string name, std::int64_t beams, double length_penalty) {
    Decoder d;
    d.name = std::move(name);
    d.kind = Kind::beam;
    d.beams = beams;
    d.length_penalty = length_penalty;
    return d;
}

Decoder Decoder::contrastive(std::string name, std::int64_t top_k, double alpha) {
    Decoder d;
    d.name = std::move(name);
    d.kind = Kind::contrastive;
    d.top_k = top_k;
    d.alpha = alpha;
    return d;
}

bool Decoder::samples() const {
    return kind == Kind::chain && !is_greedy(settings);
}

std::int64_t Decoder::slots(std::int64_t prompts, std::int64_t samples_per_prompt) const {
    switch (kind) {
    case Kind::chain:
        return prompts * (samples() ? samples_per_prompt : 1);
    case Kind::beam:
        return beams;
    case Kind::contrastive:
        return top_k;
    }
    return 1;
}

InferenceSession decode_session(const nn::GPT<float>& model, const Decoder& decoder,
                                const DecodeOptions& options, std::int64_t prompts) {
    SessionOptions s = session_options(model.config, options.context,
                                       decoder.slots(prompts, options.samples_per_prompt));
    s.half_weights = options.half_weights;
    return InferenceSession(model, s);
}

std::vector<DecodedSequence> decode(InferenceSession& session, const Decoder& decoder,
                                    const std::vector<std::vector<std::int32_t>>& prompts,
                                    const DecodeOptions& options) {
    check_options(session, decoder, prompts, options);
    const std::int64_t items = decode_items(decoder, options, std::int64_t(prompts.size()));
    std::vector<DecodedSequence> out = decode_range(session, decoder, prompts, options, 0, items);
    if (decoder.kind == Decoder::Kind::chain)
        return out; // generate() called on_token as it went
    if (options.on_token)
        for (const DecodedSequence& d : out)
            for (const TraceRecord& r : d.trace)
                options.on_token(r);
    return out;
}

std::vector<DecodedSequence> decode(const nn::GPT<float>& model, const Decoder& decoder,
                                    const std::vector<std::vector<std::int32_t>>& prompts,
                                    const DecodeOptions& options) {
    if (prompts.empty())
        throw ConfigError("decode: no prompts");
    if (options.samples_per_prompt < 1)
        throw ConfigError("decode: samples_per_prompt must be at least 1, got " +
                          str(options.samples_per_prompt));
    const int threads =
        detail::job_threads(decode_items(decoder, options, std::int64_t(prompts.size())));
    if (threads > 1)
        return decode_parallel(model, decoder, prompts, options, threads);
    InferenceSession session =
        decode_session(model, decoder, options, std::int64_t(prompts.size()));
    return decode(session, decoder, prompts, options);
}

} // namespace ouro::gen
