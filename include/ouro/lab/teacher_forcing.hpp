// Teacher forcing on the inference session: how probable each token of a given text is under
// the model, given the tokens before it (COLLAPSE.md: NLL and entropy by position, rep/l, the
// self-reinforcement curves). The texts are human stories, the model's own samples, or a
// sentence repeated n times; each is fed token by token through a gen::ContextFeeder, so the same
// context policies as in generation (stop, crop, slide, sinks) decide what the model sees past its
// context.
//
// For a text x_0 .. x_{n-1}, score t (t = 0 .. n-2) is about token x_{t+1} given x_0 .. x_t:
//   prob     p(x_{t+1})                      nll = -ln prob
//   entropy  H = -sum_v p(v) ln p(v)         of the whole next-token distribution (nats)
//   argmax   the most probable token (lowest id on ties), p_max its probability
//   p_end    the probability of the end-of-text token (NaN without one)
// computed from the raw logits (no sampler) exactly as every decoder's trace reports them: the
// library's float exp, sums in double in a fixed order (gen::fill_raw_decision); the feeding is
// gen::teacher_force (decode.hpp), which decode() uses to score the search decoders' tokens.
#pragma once

#include "ouro/gen/generate.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace ouro::lab {

/// What the model thought of one token of a text, given the tokens before it.
struct TokenScore {
    double prob = 0.0;
    double nll = 0.0;
    double entropy = 0.0;
    std::int32_t argmax = -1;
    double p_max = 0.0;
    double p_end = 0.0;
};

/// Scores of the tokens x_1 .. x_{n-1} of one distribution of logits (see the file comment):
/// fills `score` for `token` from `logits` (V floats). Throws ConfigError for a token outside
/// [0, V).
void score_token(std::span<const float> logits, std::int32_t token, std::int32_t end_token,
                 TokenScore& score);

/// Teacher-forces every text through `session` (its slots are reused; texts are fed
/// batch_size() at a time, one token per step for all of them) under `context`, and returns one
/// vector of scores per text: n - 1 scores for a text of n tokens, fewer when the stop policy's
/// context fills first (scoring ends there). `end_token` (-1 for none) only sets p_end. The
/// session must have been built with gen::session_options for the policy. Throws ConfigError for
/// a text shorter than 2 tokens ("teacher_force: text 3 has 1 token; need at least 2") or a token
/// outside the vocabulary.
std::vector<std::vector<TokenScore>> teacher_force(gen::InferenceSession& session,
                                                   std::span<const std::vector<std::int32_t>> texts,
                                                   const gen::ContextOptions& context,
                                                   std::int32_t end_token = -1);

/// The same spread over the threads (gen::teacher_force's model overload): the texts in groups of
/// at most `batch_size`, each group by one thread in a session of its own built with
/// gen::session_options for `context`. The same scores, bit for bit, as the session overload,
/// for any thread count. Throws what that overload throws, and ConfigError for batch_size < 1
/// ("teacher_force: batch_size must be at least 1, got 0").
std::vector<std::vector<TokenScore>> teacher_force(const nn::GPT<float>& model,
                                                   std::span<const std::vector<std::int32_t>> texts,
                                                   const gen::ContextOptions& context,
                                                   std::int32_t end_token = -1,
                                                   std::int64_t batch_size = 16);

/// One field of every score, text by text (for mean_by_position and mean_by_window), e.g.
/// field_of(scores, &TokenScore::entropy).
std::vector<std::vector<double>> field_of(const std::vector<std::vector<TokenScore>>& scores,
                                          double TokenScore::*field);

} // namespace ouro::lab
