// The self-reinforcement effect (Xu et al. 2022, "Learning to Break the Loop: Analyzing and
// Mitigating Repetitions for Neural Text Generation", section 2.2): feed the model a sentence
// repeated n times and watch the probability of the sentence's tokens grow with each copy.
//
// With a sentence of L tokens and p_{k,l} the model's probability of token l of copy k given
// everything before it (teacher-forced), and a_{k,l} whether that token is the argmax:
//   TP(k) = (1/L) sum_l p_{k,l}                          mean token probability of copy k
//   IP(k) = (1/L) sum_l [p_{k,l} > p_{1,l}]              fraction more probable than in copy 1
//   WR(k) = (1/L) sum_l [p_{k,l} > p_{1,l} and a_{k,l}]  fraction that rose and are the argmax
// (IP(1) = WR(1) = 0.) This is the paper's definition. Their analysis script
// (fairseq/custom/repetition_para_parse.py in Jxu-Thu/DITTO) differs in two ways, both kept out
// of TP/IP/WR here: its "win rate" counts argmax tokens whether or not they rose (reported here
// as argmax_rate), and its windows are shifted by one token (target_probs[i] is the probability
// of token i + 1, sliced from the copy's first position), so its "repetition r" holds tokens 2..L
// of copy r + 1 and token 1 of copy r + 2. Over several sentences it pools tokens (sums over
// sentences / total length), as pool_self_reinforcement does.
#pragma once

#include "ouro/core/error.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ouro::lab {

/// A context made of a prefix followed by `copies` copies of a sentence, and where each copy is.
struct RepeatedSentence {
    std::vector<std::int32_t> tokens; ///< prefix, then the sentence `copies` times
    std::int64_t prefix_length = 0;
    std::int64_t sentence_length = 0;
    std::int64_t copies = 0;

    /// Position in `tokens` of token `index` (0-based) of copy `copy` (1-based). Throws
    /// ConfigError when either is out of range: "RepeatedSentence::position: copy 4 out of range
    /// [1, 3]", "... index 5 out of range [0, 4)".
    std::int64_t position(std::int64_t copy, std::int64_t index) const;

    /// The copy (1-based) that holds `position`, or 0 for a position in the prefix. Throws
    /// ConfigError when position is outside [0, tokens.size()).
    std::int64_t copy_of(std::int64_t position) const;

    /// The copies' part of a per-position array (one value per token of `tokens`, e.g. the
    /// probability of each token given the ones before it): copies * sentence_length values,
    /// copy by copy, ready for self_reinforcement. Throws ShapeError when by_position has the
    /// wrong length: "RepeatedSentence::copies_of: 10 values for a context of 12 tokens".
    template <typename T> std::span<const T> copies_of(std::span<const T> by_position) const {
        if (by_position.size() != tokens.size())
            throw ShapeError("RepeatedSentence::copies_of: " + std::to_string(by_position.size()) +
                             " values for a context of " + std::to_string(tokens.size()) +
                             " tokens");
        return by_position.subspan(std::size_t(prefix_length),
                                   std::size_t(copies * sentence_length));
    }
};

/// Builds prefix + sentence * copies. The model has no probability for the very first token of
/// a context, so give a prefix of at least one token (e.g. the end-of-text token, as in training)
/// when copy 1's first token must be scored; Xu et al. put an unrelated sentence first. Throws
/// ConfigError when the sentence is empty ("repeat_sentence: the sentence is empty") or copies < 1
/// ("repeat_sentence: copies must be at least 1, got 0").
RepeatedSentence repeat_sentence(std::span<const std::int32_t> sentence, std::int64_t copies,
                                 std::span<const std::int32_t> prefix = {});

/// Sums over the tokens of one copy (of one sentence, or pooled over several).
struct CopyStats {
    std::int64_t copy = 0;      ///< 1-based
    std::int64_t tokens = 0;    ///< tokens summed over
    double prob_sum = 0.0;      ///< sum of their probabilities
    std::int64_t increased = 0; ///< tokens more probable than in copy 1 (strictly)
    std::int64_t winners = 0;   ///< increased and the argmax
    std::int64_t argmax = 0;    ///< the argmax, risen or not (the DITTO script's "win rate")

    double tp() const { return prob_sum / double(tokens); }
    double ip() const { return double(increased) / double(tokens); }
    double wr() const { return double(winners) / double(tokens); }
    double argmax_rate() const { return double(argmax) / double(tokens); }
};

/// TP, IP and WR of each copy of one sentence of `sentence_length` tokens. probs[(k - 1) * L + l]
/// is p_{k,l} and is_argmax[(k - 1) * L + l] is nonzero when that token was the argmax (copy by
/// copy, as RepeatedSentence::copies_of gives them). Returns one CopyStats per copy, copy 1 first.
/// Throws ConfigError when sentence_length < 1 ("self_reinforcement: sentence_length must be at
/// least 1, got 0"), and ShapeError when the arrays differ in length ("self_reinforcement: probs
/// and is_argmax differ in length: 12 and 11") or do not hold one or more whole copies
/// ("self_reinforcement: 10 values do not make one or more whole copies of a 4-token sentence").
std::vector<CopyStats> self_reinforcement(std::span<const double> probs,
                                          std::span<const std::uint8_t> is_argmax,
                                          std::int64_t sentence_length);

/// Pools the curves of several sentences copy by copy (sums of tokens, probabilities and counts),
/// so TP, IP and WR become token-weighted means over the sentences, as the DITTO script's
/// AvgMetric. Throws ConfigError when there is no curve, and ShapeError when the curves have
/// different numbers of copies ("pool_self_reinforcement: curve 1 has 8 copies, curve 0 has 10").
std::vector<CopyStats> pool_self_reinforcement(std::span<const std::vector<CopyStats>> curves);

} // namespace ouro::lab
