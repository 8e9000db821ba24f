// Loops at the end of a sample: Holtzman et al.'s repetition test (2020, "The Curious Case of
// Neural Text Degeneration", as metrics/repetition.py in ari-holtzman/degen computes it), and the
// onset and period of the loop that runs to the end.
//
// Both read the sequence backwards through one Z-array of the reversed tokens (z[p] = the length
// of the longest common prefix of the reversed sequence and its suffix from p), so they take
// O(L) time: the last p tokens are repeated back to back c times exactly when z[p] >= (c - 1) p,
// and the suffix of length p + z[p] is the longest that has period p.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace ouro::lab {

/// Holtzman et al.'s verdict on one sample.
struct HoltzmanRepetition {
    bool repeating = false;         ///< the sample ends in a loop by their rule
    std::int64_t phrase_length = 0; ///< the n with the most copies (the smallest such n)
    std::int64_t copies = 0;        ///< back-to-back copies of its last n tokens at the end (>= 1)
    bool operator==(const HoltzmanRepetition&) const = default;
};

/// Holtzman et al.'s repetition test. For each n = 1..max_n, copies(n) = how many times the last
/// n tokens occur back to back at the end of the sample (1 when they do not repeat, and for n
/// longer than the sample; only whole copies count). Their script then takes the n with the most
/// copies (the smallest n on ties, as Python's max) and calls the sample repeating when
/// copies(n) > 1 and (n >= 3 or copies(n) > 50). The rule looks at that one n only: 40 copies of
/// a single token are not a loop (n = 1 has the most copies, 40 <= 50), although the same tokens
/// hold 13 copies of a trigram. Their script first drops one trailing end-of-text token; drop it
/// before calling. An empty sample is not repeating, with phrase_length and copies 0. Throws
/// ConfigError when max_n < 1: "holtzman_repetition: max_n must be at least 1, got 0".
HoltzmanRepetition holtzman_repetition(std::span<const std::int32_t> tokens,
                                       std::int64_t max_n = 90);

/// The percentage (0..100) of samples that holtzman_repetition calls repeating. Throws
/// ConfigError when max_n < 1 or there are no samples: "holtzman_repetition_percent: no
/// samples".
double holtzman_repetition_percent(std::span<const std::vector<std::int32_t>> samples,
                                   std::int64_t max_n = 90);

/// A loop that runs to the end of a sequence: tokens [onset, L) have period `period`.
struct Loop {
    std::int64_t onset = 0;  ///< first position of the loop
    std::int64_t period = 0; ///< length of the repeated unit
    std::int64_t length = 0; ///< L - onset: tokens in the loop, >= min_copies * period
    bool operator==(const Loop&) const = default;
};

/// The first loop that persists to the end of `tokens`, or nothing.
///
/// A loop (s, p) is a suffix tokens[s, L) that is p-periodic (tokens[i] == tokens[i + p] for
/// s <= i < L - p) and holds at least min_copies full periods (L - s >= min_copies * p). The loop
/// returned has the earliest onset s of all loops, and the smallest period among the loops with
/// that onset. The onset is a position, not a phrase boundary: in "x c a b c a b c a b" the loop
/// starts at the first c (onset 1, period 3, unit "c a b"), since that c already repeats three
/// tokens later; a loop may also end part-way through its unit ("a b c a b c a b" is a loop of
/// period 3 from 0). The earliest onset wins over the shortest period: in "a a b a a b a a b a a"
/// the trigram loop from 0 is returned, not the "a a" at the end. With min_copies = 2 any token
/// repeated at the very end ("... very very") is a loop of period 1; ask for more copies to
/// ignore such short ones. Throws ConfigError when min_copies < 2: "find_loop: min_copies must be
/// at least 2, got 1".
std::optional<Loop> find_loop(std::span<const std::int32_t> tokens, std::int64_t min_copies = 2);

} // namespace ouro::lab
