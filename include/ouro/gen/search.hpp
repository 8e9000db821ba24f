// Search decoders on the inference session: beam search and contrastive search (COLLAPSE.md).
//
// Beam search keeps the b partial continuations with the highest total log-probability
// (natural log, from the raw logits: log p = (z - z_max) - log sum e^(z - z_max) in double, the
// sum over the library's float exps, as every trace and teacher forcing compute it). Each step
// looks at the 2b best (beam, token) extensions over all beams, best first, ties to the lower
// beam and then the lower token. An extension by the end token becomes a finished hypothesis when
// it is among the first b of them (the others are dropped, as Hugging Face does); the others become
// the next beams, until there are b. Hypotheses are ranked by
//   score = log_prob / n^length_penalty,   n = generated tokens, the end token included,
// length_penalty = 1 by default (the mean log-probability per token; 0 ranks by total
// log-probability, which favours short hypotheses). The search stops after max_new_tokens, when
// no beam is left, when the context is full under the stop policy, or once b hypotheses have
// finished and no running beam scores above the worst of them (Hugging Face's default, "early
// stopping" off: a running beam could still gain, but rarely does). Running beams are then
// hypotheses too (finished = false). The b best hypotheses are returned, best first.
//
// Contrastive search (Su et al. 2022, "A contrastive framework for neural text generation")
// takes, among the top_k most probable next tokens v, the one that maximises
//   (1 - alpha) p(v) - alpha max_j cos(h_v, h_j),
// where h_v is the last hidden state (after ln_f) of the sequence extended by v and h_j runs over
// the hidden states of every earlier token, prompt included; ties go to the more probable
// candidate. alpha = 0 is greedy decoding. The session runs top_k slots in lockstep, one per
// candidate: each step feeds the k candidates in one batched pass (which also gives the logits of
// the next step), then the chosen candidate's newest cache entry is copied into the other slots
// (InferenceSession::copy_slot with last = 1), so every slot holds the chosen sequence again.
// Scoring needs the candidates fed, so under the stop policy the search ends when the context is
// full (FinishReason::context_full); the end token ends it (FinishReason::end_of_text), and so
// does a stop string, as in generate() (FinishReason::stop_string; see generate.hpp).
#pragma once

#include "ouro/gen/generate.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace ouro::gen {

struct BeamSearchOptions {
    std::int64_t beams = 4;
    std::int64_t max_new_tokens = 64;
    double length_penalty = 1.0; ///< exponent of the length in the score (see above)
    std::int32_t end_token = -1; ///< -1 for none
    ContextOptions context{};
};

struct BeamHypothesis {
    std::vector<std::int32_t> tokens; ///< generated tokens (ending with the end token if finished)
    double log_prob = 0.0;            ///< sum of the tokens' log-probabilities
    double score = 0.0;               ///< log_prob / tokens.size()^length_penalty
    bool finished = false;            ///< ended with the end token
};

/// Beam search from `prompt` in a session of at least options.beams slots, built for
/// options.context (session_options). Throws ConfigError for beams < 1, max_new_tokens < 1, an
/// end token outside the vocabulary, an empty prompt or one too long for the stop policy.
std::vector<BeamHypothesis> beam_search(InferenceSession& session,
                                        std::span<const std::int32_t> prompt,
                                        const BeamSearchOptions& options);
/// The same in a session built for the options.
std::vector<BeamHypothesis> beam_search(const nn::GPT<float>& model,
                                        std::span<const std::int32_t> prompt,
                                        const BeamSearchOptions& options);

struct ContrastiveOptions {
    std::int64_t top_k = 4;
    double alpha = 0.6;
    std::int64_t max_new_tokens = 64;
    std::int32_t end_token = -1; ///< -1 for none
    ContextOptions context{};
    /// Text of a token for the trace, GeneratedSequence::text and the stop strings (optional);
    /// called once per generated token, in order.
    std::function<std::string(std::int32_t)> decode{};
    /// As GenerateOptions::stop_strings: none empty, and they need `decode`.
    std::vector<std::string> stop_strings{};
};

/// Contrastive search from `prompt` in a session of at least options.top_k slots built for
/// options.context. The trace's decisions are filled from the raw logits (prob_final and
/// entropy_final equal the raw ones; changed_by is "contrastive" when the token is not the
/// argmax). Throws ConfigError for top_k < 1, alpha outside [0, 1], max_new_tokens < 0, an end
/// token outside the vocabulary, an empty prompt or one too long for the stop policy, an empty
/// stop string or stop strings without a decode function.
GeneratedSequence contrastive_search(InferenceSession& session,
                                     std::span<const std::int32_t> prompt,
                                     const ContrastiveOptions& options);
/// The same in a session built for the options.
GeneratedSequence contrastive_search(const nn::GPT<float>& model,
                                     std::span<const std::int32_t> prompt,
                                     const ContrastiveOptions& options);

/// The raw-logit fields of a TokenDecision for `token`: prob_raw, entropy_raw, rank_raw,
/// p_max_raw, top_raw (the top_n most probable tokens); prob_final and entropy_final are set equal
/// to them. The same numbers for every decoder and for teacher forcing (the library's float exp,
/// sums in double in a fixed order). Throws ConfigError for top_n < 0
/// ("fill_raw_decision: top_n must be at least 0, got -1").
void fill_raw_decision(std::span<const float> logits, std::int32_t token, TokenDecision& decision,
                       std::int64_t top_n = 5);

} // namespace ouro::gen
