// decode(): every decoder through one entry point, and teacher forcing (see decode.hpp).
#include "ouro/gen/decode.hpp"

#include "ouro/core/error.hpp"
#include "ouro/gen/search.hpp"

#include <algorithm>
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

// Every sequence of the chain in one batch: copy c of prompt p is sequence c * P + p.
std::vector<DecodedSequence> decode_chain(InferenceSession& session, const Decoder& decoder,
                                          const std::vector<std::vector<std::int32_t>>& prompts,
                                          const DecodeOptions& options) {
    const std::int64_t copies = decoder.samples() ? options.samples_per_prompt : 1;
    std::vector<std::vector<std::int32_t>> batch;
    std::vector<std::int64_t> prompt_index;
    for (std::int64_t c = 0; c < copies; ++c)
        for (std::size_t p = 0; p < prompts.size(); ++p) {
            batch.push_back(prompts[p]);
            prompt_index.push_back(std::int64_t(p));
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

std::vector<DecodedSequence>
decode_contrastive(InferenceSession& session, const Decoder& decoder,
                   const std::vector<std::vector<std::int32_t>>& prompts,
                   const DecodeOptions& options) {
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
    for (std::size_t p = 0; p < prompts.size(); ++p) {
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

std::vector<DecodedSequence> decode_beam(InferenceSession& session, const Decoder& decoder,
                                         const std::vector<std::vector<std::int32_t>>& prompts,
                                         const DecodeOptions& options) {
    BeamSearchOptions b;
    b.beams = decoder.beams;
    b.length_penalty = decoder.length_penalty;
    b.max_new_tokens = options.max_new_tokens;
    b.context = options.context;
    b.end_token = options.end_of_text == EndOfText::stop ? options.end_token : -1;
    std::vector<DecodedSequence> result;
    for (std::size_t p = 0; p < prompts.size(); ++p) {
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
    std::vector<DecodedSequence> out;
    switch (decoder.kind) {
    case Decoder::Kind::chain:
        return decode_chain(session, decoder, prompts, options);
    case Decoder::Kind::beam:
        out = decode_beam(session, decoder, prompts, options);
        break;
    case Decoder::Kind::contrastive:
        out = decode_contrastive(session, decoder, prompts, options);
        break;
    }
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
    InferenceSession session =
        decode_session(model, decoder, options, std::int64_t(prompts.size()));
    return decode(session, decoder, prompts, options);
}

void teacher_force(
    InferenceSession& session, std::span<const std::vector<std::int32_t>> texts,
    const ContextOptions& context,
    const std::function<void(std::size_t text, std::size_t t, std::int64_t slot)>& score) {
    for (std::size_t i = 0; i < texts.size(); ++i)
        if (texts[i].size() < 2)
            throw ConfigError("teacher_force: text " + std::to_string(i) + " has " +
                              std::to_string(texts[i].size()) + " token" +
                              (texts[i].size() == 1 ? "" : "s") + "; need at least 2");
    ContextFeeder feeder(session, context);
    const std::size_t B = std::size_t(session.batch_size());
    for (std::size_t first = 0; first < texts.size(); first += B) {
        const std::size_t count = std::min(B, texts.size() - first);
        session.reset();
        std::vector<std::size_t> fed(count, 1); // tokens of text first + b fed so far
        for (std::size_t b = 0; b < count; ++b)
            feeder.start(std::int64_t(b), std::span(texts[first + b]).first(1),
                         std::int64_t(first + b));
        bool any = true;
        while (any) {
            any = false;
            for (std::size_t b = 0; b < count; ++b) {
                const std::vector<std::int32_t>& text = texts[first + b];
                if (fed[b] == 0 || fed[b] >= text.size())
                    continue;
                score(first + b, fed[b], std::int64_t(b));
                if (fed[b] + 1 < text.size() && feeder.can_feed(std::int64_t(b))) {
                    ++fed[b];
                    feeder.add(std::int64_t(b), std::span(text).first(fed[b]));
                    any = true;
                } else {
                    fed[b] = 0; // done: the text is scored, or the context is full under stop
                }
            }
            if (any)
                feeder.flush();
        }
    }
}

} // namespace ouro::gen
