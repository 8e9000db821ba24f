// One entry point for decoding: a decoder is a value (a sampler chain with its settings and
// order, beam search, or contrastive search), and decode() runs it over prompts and returns, for
// every decoder alike, the generated tokens with one TraceRecord of statistics per token.
//
//     Decoder nucleus = Decoder::chain("top-p 0.95", {.top_p = 0.95});
//     DecodeOptions opt;
//     opt.max_new_tokens = 200;
//     opt.context.policy = ContextPolicy::crop;   // the context policy, given once
//     opt.end_token = tokenizer.story_separator();
//     opt.seed = 1234;
//     std::vector<DecodedSequence> out = decode(model, nucleus, prompts, opt);
//     out[0].trace[5].decision.prob_raw;          // p of token 5 under the raw logits
//
// The session comes from the options' context policy (decode_session; session_options for the
// slots the decoder needs), so a caller states the policy once; the overload that takes a session
// lets a caller reuse one for many calls (it must have been built by decode_session or
// session_options for the same policy).
//
// Sequences. A sampling decoder (Decoder::samples(): a chain that is not greedy) draws
// samples_per_prompt sequences per prompt, every other decoder one: sequence i = c * P + p is copy
// c of prompt p (P prompts), and draws from Rng(Rng::stream_value(seed, i)) (generate()'s rule),
// so a sequence does not depend on the others or on the thread count. The chain runs all
// sequences in one batch; the searches run prompt after prompt. Beam search returns its best
// `hypotheses` hypotheses per prompt, best first (sequence i = p * hypotheses + h).
//
// Threads. The overload that takes a model decodes sequences in parallel when it has more than
// one thread (num_threads(); not inside another parallel region): the chain's sequences, or the
// searches' prompts, in consecutive groups (one or two per thread: two when the chain's groups
// still hold 4 sequences, since fewer rows per pass cost more per token), each group decoded by
// one thread in a session of its own whose passes run on that thread, the groups dynamically
// scheduled so that a thread the system deschedules holds up little. A slot's results do not
// depend on the other slots (session.hpp), so the results are the same, bit for bit, as in one
// batch. The callbacks are then serialised: `decode` is called under a lock from the decoding
// threads (in order within a sequence), and on_token sees a group's records once it and every
// group before it are done (within a group as described below), one call at a time. The overload
// that takes a session decodes in that session, its passes on the team or one thread as its
// ThreadChooser finds faster (session.hpp).
// Inside a piece of run_concurrently (concurrent.hpp) the groups are tasks of that team, cut for
// half of it (other pieces fill the rest), and the sessions of one call share one half-precision
// copy of the weights (half_weights).
//
// Statistics (DecodedSequence::trace, one TraceRecord per generated token): the token's raw
// probability, the entropy of the raw distribution, its rank, p_max, p_end (with an end token),
// the `alternatives` most probable tokens with their probabilities, the n-gram repeat flags and
// the text (with a decode function). For the chain they are the generation trace (generate.hpp;
// under EndOfText::ignore, prob_raw and its kin are those of the logits the chooser saw, with the
// end token at -infinity). The search decoders' tokens are scored by teacher forcing (prompt +
// sample, fed token by token under the same context policy), so that the numbers mean the same
// for beam and contrastive search as for a sampled text scored afterwards; their prob_final and
// entropy_final equal the raw ones, and contrastive search's changed_by ("contrastive" when the
// token was not the argmax) is kept.
//
// End of text (EndOfText) and stop strings are those of generate(); the searches stop at the end
// token under EndOfText::stop and run on through it under ignore (they may still choose it);
// new_story and stop strings with beam search are errors.
#pragma once

#include "ouro/gen/generate.hpp"
#include "ouro/gen/sampler.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace ouro::gen {

/// A decoding strategy: a sampler chain, beam search or contrastive search, with its settings.
struct Decoder {
    enum class Kind { chain, beam, contrastive };
    std::string name; ///< a label for tables and logs, e.g. "top-p 0.95" (decode() ignores it)
    Kind kind = Kind::chain;
    SamplerSettings settings{};  ///< chain: every knob (sampler.hpp)
    std::string order{};         ///< chain: the stage order; "" = default_sampler_order
    std::int64_t beams = 4;      ///< beam: beams kept
    double length_penalty = 1.0; ///< beam: score = log p / length^length_penalty
    std::int64_t hypotheses = 1; ///< beam: the best n hypotheses returned per prompt (<= beams)
    std::int64_t top_k = 4;      ///< contrastive: candidates per step
    double alpha = 0.6;          ///< contrastive: degeneration penalty in [0, 1]

    /// A sampler chain (settings in SamplerChain's default order unless `order` is given).
    static Decoder chain(std::string name, SamplerSettings settings, std::string order = "");
    /// Beam search with `beams` beams.
    static Decoder beam(std::string name, std::int64_t beams, double length_penalty = 1.0);
    /// Contrastive search over the top_k candidates with penalty alpha.
    static Decoder contrastive(std::string name, std::int64_t top_k, double alpha);

    /// Whether it draws at random (a chain that is not greedy, is_greedy), so that several
    /// samples per prompt differ and the seed matters.
    bool samples() const;
    /// Session slots it needs to decode `prompts` prompts with samples_per_prompt copies each:
    /// the sequences for the chain, beams for beam search, top_k for contrastive search.
    std::int64_t slots(std::int64_t prompts, std::int64_t samples_per_prompt) const;
};

/// How decode() runs a decoder.
struct DecodeOptions {
    std::int64_t max_new_tokens = 256;
    ContextOptions context{};    ///< the context policy: decode_session builds the session from it
    bool half_weights = false;   ///< decode from half-precision weights (SessionOptions)
    std::int32_t end_token = -1; ///< the end-of-text id; -1 for none
    EndOfText end_of_text = EndOfText::stop;
    std::int64_t samples_per_prompt = 1; ///< for sampling decoders; the others decode one
    std::uint64_t seed = 0;              ///< sequence i draws from Rng(Rng::stream_value(seed, i))
    /// Most probable raw tokens each record lists (TokenDecision::top_raw); 0 for none.
    std::int64_t alternatives = 5;
    /// Keep a record per token (DecodedSequence::trace). Without it the search decoders skip
    /// the teacher forcing that scores their tokens, and on_token sees only the chain's tokens.
    bool trace = true;
    /// Text of a token (records' text, DecodedSequence::text, stop strings); called once per
    /// generated token, in order within a sequence, sequences one after another except for the
    /// chain's batch (generate.hpp: step by step, in sequence order within a step).
    std::function<std::string(std::int32_t)> decode{};
    /// As GenerateOptions::stop_strings (not with beam search).
    std::vector<std::string> stop_strings{};
    /// Called with each token's final record: as it is generated for the chain, after the
    /// search has scored it for beam and contrastive search.
    std::function<void(const TraceRecord&)> on_token{};
};

/// One decoded sequence.
struct DecodedSequence {
    std::int64_t prompt_index = 0;    ///< which prompt it continues
    std::vector<std::int32_t> tokens; ///< generated tokens (the prompt is not repeated)
    /// One record per generated token (see the file comment); record.sequence is the index of
    /// this sequence in decode()'s result.
    std::vector<TraceRecord> trace;
    FinishReason finish = FinishReason::max_tokens;
    std::string text;             ///< as GeneratedSequence::text
    std::int64_t stop_index = -1; ///< as GeneratedSequence::stop_index
    double log_prob = 0.0;        ///< beam search: the hypothesis's log-probability (else 0)
    double score = 0.0;           ///< beam search: its score (else 0)
};

/// The session decode() uses for `prompts` prompts: session_options(model.config,
/// options.context, decoder.slots(...)) with options.half_weights. Throws what session_options
/// and InferenceSession throw (e.g. the sliding rule, session.hpp).
InferenceSession decode_session(const nn::GPT<float>& model, const Decoder& decoder,
                                const DecodeOptions& options, std::int64_t prompts);

/// Runs `decoder` over `prompts` in `session` (built as decode_session does, with at least the
/// slots it needs) and returns the sequences in the order of the file comment. Throws
/// ConfigError before any work for no prompts ("decode: no prompts"), samples_per_prompt < 1
/// ("decode: samples_per_prompt must be at least 1, got 0"), alternatives < 0 ("decode:
/// alternatives must be at least 0, got -1"), hypotheses outside [1, beams] ("decode: hypotheses
/// must be in [1, 4] (the beams), got 5"), stop strings with beam search ("decode: stop strings
/// are not available with beam search (it ranks whole hypotheses)"), new_story with a search
/// ("decode: end of text 'new_story' is not available with beam search"), a prompt too long for
/// the stop policy (check_prompt_fits, "decode: prompt 1 has ..."), and whatever the decoder
/// itself refuses (SamplerChain::from_settings, generate, beam_search, contrastive_search).
std::vector<DecodedSequence> decode(InferenceSession& session, const Decoder& decoder,
                                    const std::vector<std::vector<std::int32_t>>& prompts,
                                    const DecodeOptions& options);
/// The same in decode_session(model, decoder, options, prompts.size()).
std::vector<DecodedSequence> decode(const nn::GPT<float>& model, const Decoder& decoder,
                                    const std::vector<std::vector<std::int32_t>>& prompts,
                                    const DecodeOptions& options);

/// Teacher forcing: feeds every text through `session` under `context` (texts batch_size() at a
/// time, one token per step for all of them; the slots are reset) and calls score(text, t, slot)
/// for t = 1 .. n-1 in order, when session.logits(slot) are the model's prediction of
/// texts[text][t] from the tokens before it (fewer calls when the stop policy's context fills
/// first). The session must fit the policy (session_options). Throws ConfigError for a text
/// shorter than 2 tokens ("teacher_force: text 3 has 1 token; need at least 2").
void teacher_force(
    InferenceSession& session, std::span<const std::vector<std::int32_t>> texts,
    const ContextOptions& context,
    const std::function<void(std::size_t text, std::size_t t, std::int64_t slot)>& score);

/// Teacher forcing spread over the threads: the texts in consecutive groups of at most
/// `batch_size` (with several threads, one or two groups per thread as decode() groups the
/// chain's sequences), each group fed as
/// the session overload feeds its texts, by one thread in a session of its own
/// (session_options(model.config, context, group size)), the groups in parallel and dynamically
/// scheduled. score(session, text, t, slot) is as above with the group's session: it is called
/// from several threads at once for different texts (the calls for one text come in order, from
/// one thread). A slot's logits do not depend on the other slots, so every text gets the same
/// logits, bit for bit, as through the session overload, for any thread count. Inside a piece of
/// run_concurrently the groups are tasks of its team (cut for half of it); inside another
/// parallel region it runs on the calling thread. Throws ConfigError for batch_size < 1
/// ("teacher_force: batch_size must be at least 1, got 0"), for a short text as above, and what
/// session_options and InferenceSession throw (e.g. a sliding policy with learned positions).
void teacher_force(const nn::GPT<float>& model, std::span<const std::vector<std::int32_t>> texts,
                   const ContextOptions& context, std::int64_t batch_size,
                   const std::function<void(const InferenceSession& session, std::size_t text,
                                            std::size_t t, std::int64_t slot)>& score);

} // namespace ouro::gen
