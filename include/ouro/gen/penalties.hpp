// The sampler stages that read the history (prompt + tokens generated so far, oldest first):
// repetition, frequency and presence penalties, no-repeat-ngram, DRY, and the logit bias (which
// reads no history but edits logits by token id like the others). Each edits the logits of a
// CandidateSet in place, by token id; a token that is no longer a candidate is skipped. The
// window of the counting penalties and of DRY (all the history, or its last n tokens) is the
// caller's choice: they take the window, not the history.
//
// Range. A stage that would raise a finite logit past the float range (a logit near FLT_MAX with
// a repetition penalty below 1, a negative frequency or presence penalty, a huge logit bias)
// throws ConfigError naming the stage and the token: "sampler: repetition_penalty turned the logit
// 3e+38 of token 0 into inf (beyond the float range)"; +inf would make every probability NaN. One
// that would push a logit below -FLT_MAX bans the token (-inf), whose probability is 0 to float
// precision anyway. When a stage throws, the candidates before the bad one have been edited.
//
// Worked example, logits z = (2, -2, 1, 0.5), window (0, 1, 1):
//   repetition_penalty(2): z0 = 2 / 2 = 1, z1 = -2 * 2 = -4 (CTRL's rule: a negative logit is
//   multiplied, so the penalty always lowers it), z2 and z3 unchanged;
//   frequency_penalty(0.5): z0 -= 0.5, z1 -= 1;  presence_penalty(0.5): z0 -= 0.5, z1 -= 0.5.
#pragma once

#include "ouro/gen/candidates.hpp"

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace ouro::gen {

/// How often each token occurs in a window, with the buffers reused from call to call.
class TokenCounts {
public:
    /// Counts the tokens of `window`, forgetting the previous counts. Throws ConfigError for a
    /// token outside [0, vocab): "sampler: history token 9 is outside the vocabulary (V = 8)".
    void build(std::span<const std::int32_t> window, std::int64_t vocab);
    /// Occurrences of `token` (0 for a token outside the vocabulary).
    std::int32_t count(std::int32_t token) const {
        return token >= 0 && std::size_t(token) < count_.size() ? count_[std::size_t(token)] : 0;
    }
    /// The tokens with a count > 0, in order of first occurrence.
    std::span<const std::int32_t> distinct() const { return distinct_; }

private:
    std::vector<std::int32_t> count_, distinct_;
};

/// Repetition penalty theta > 0 (Keskar et al. 2019, CTRL): for each distinct token in the
/// window, z <- z / theta if z > 0 else z * theta. theta = 1 is off; theta > 1 penalises.
void repetition_penalty(CandidateSet& c, const TokenCounts& counts, double theta);

/// Frequency penalty (OpenAI's API): z <- z - count * a, count = occurrences in the window.
void frequency_penalty(CandidateSet& c, const TokenCounts& counts, double a);

/// Presence penalty (OpenAI's API): z <- z - a for every token that occurs in the window.
void presence_penalty(CandidateSet& c, const TokenCounts& counts, double a);

/// Logit bias: z_t <- z_t + b for each (t, b); b = -inf bans t. Throws ConfigError for a bias
/// that is NaN or +inf, or a token outside [0, V): "sampler: logit_bias token 9 is outside the
/// vocabulary (V = 8)".
void logit_bias(CandidateSet& c, std::span<const std::pair<std::int32_t, float>> bias);

/// No-repeat-ngram n >= 1 (Paulus et al. 2018; HuggingFace's no_repeat_ngram_size): bans
/// (z = -inf) every token t such that the n-gram made of the last n - 1 tokens of the history and
/// t already occurs in the history. n = 1 bans every token of the history; n = 0 is off. Tokens
/// outside [0, V) throw ConfigError as TokenCounts::build.
void no_repeat_ngram(CandidateSet& c, std::span<const std::int32_t> history, std::int64_t n);

/// DRY, "don't repeat yourself" (p-e-w, text-generation-webui 2024; in llama.cpp since 2024).
///
/// Repeat length. In a window h_0 .. h_{L-1}, for each earlier position j < L - 1 let l(j) be the
/// length of the longest common suffix of h_0..h_j and h_0..h_{L-1}: the tokens h_{j-l+1..j}
/// occur again, verbatim, at the end of the window (the two copies may overlap). If the next token
/// were h_{j+1}, the repeat would grow. So token t would extend a repeat of length
/// L_t = max l(j) over the j >= 0 with h_{j+1} = t and l(j) >= 1.
/// This is the definition of text-generation-webui (which walks back from each earlier
/// occurrence of the last token) and of llama.cpp (a Z-algorithm on the reversed window), without
/// their sequence breakers (tokens such as a newline that cut a repeat short), which need a
/// tokenizer and are not a setting here.
///
/// Example: in (3, 1, 2, 3, 1) the end (3, 1) also ends at j = 1, followed by 2: L_2 = 2. In
/// (7, 7, 7, 7), l(2) = 3 (the copies overlap), followed by 7: L_7 = 3.
class DryRepeats {
public:
    /// The pairs (t, L_t) for every token that would extend a repeat, in order of the nearest
    /// earlier occurrence; O(L) with a Z-algorithm. Throws ConfigError for a token outside
    /// [0, vocab). The buffers grow with the window by doubling, so a generation of T tokens
    /// allocates O(log T) times here, never once per token.
    std::span<const std::pair<std::int32_t, std::int32_t>>
    compute(std::span<const std::int32_t> window, std::int64_t vocab);

private:
    std::vector<std::int32_t> z_, longest_;
    std::vector<std::pair<std::int32_t, std::int32_t>> found_;
};

/// The DRY penalty: z_t <- z_t - multiplier * base^(L_t - allowed_length) for every (t, L_t) with
/// L_t >= allowed_length (a penalty beyond float range bans the token). multiplier = 0 is off;
/// throws ConfigError unless multiplier >= 0, base >= 1 and allowed_length >= 1.
void dry(CandidateSet& c, std::span<const std::pair<std::int32_t, std::int32_t>> lengths,
         double multiplier, double base, std::int64_t allowed_length);

/// Naive reference of DryRepeats::compute, kept for tests: for each j, walks back from h_j and
/// h_{L-1} while the tokens agree (O(L^2)). Pairs in increasing token order.
std::vector<std::pair<std::int32_t, std::int32_t>>
dry_repeat_lengths_reference(std::span<const std::int32_t> window);

} // namespace ouro::gen
