// Repeated n-grams inside generated text: rep-n and diversity (Su et al. 2022, "A Contrastive
// Framework for Neural Text Generation", SimCTG), seq-rep-n (Welleck et al. 2020, "Neural Text
// Generation with Unlikelihood Training"), and the per-token flag "this token completes an n-gram
// that already occurred", which the per-token trace shows.
//
// Everything here works on token ids, where the papers' scripts split text on whitespace; an
// n-gram is n consecutive tokens of one sequence (never across two samples), and a sequence of L
// tokens has max(0, L - n + 1) of them. A ratio over zero n-grams (a sequence shorter than n) is
// 0: nothing is repeated. Bad arguments throw ConfigError with messages such as
//   rep_n: n must be at least 1, got 0
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

namespace ouro::lab {

/// The n-grams of one sequence: total = max(0, L - n + 1), unique = how many of them differ.
struct NgramCounts {
    std::int64_t unique = 0;
    std::int64_t total = 0;
    bool operator==(const NgramCounts&) const = default;
};

/// Counts the n-grams of `tokens` (hashed as packed integers). Throws ConfigError when n < 1.
NgramCounts count_ngrams(std::span<const std::int32_t> tokens, int n);

/// rep-n of one sequence, in percent: 100 * (1 - unique n-grams / total n-grams); 0 when the
/// sequence has no n-gram. Su et al. 2022, SimCTG, as computed by measure_repetition_and_diversity
/// in their simctg/evaluation.py, with one difference: their loop `while end_idx < len(tokens)`
/// leaves out each sample's last n-gram; here every n-gram counts, as in the paper's formula (at
/// most one n-gram per sample apart). Throws ConfigError when n < 1.
double rep_n(std::span<const std::int32_t> tokens, int n);

/// rep-n of a set of samples, pooled as SimCTG's script pools them: 100 * (1 - sum over samples
/// of unique n-grams / sum of total n-grams), unique n-grams counted within each sample (an
/// n-gram in two samples counts once in each). 0 when there is no n-gram at all.
double rep_n(std::span<const std::vector<std::int32_t>> samples, int n);

/// Diversity of one sequence (Su et al. 2022): the product over n = 2, 3, 4 of (1 - rep-n / 100).
/// 1 for a sequence with no repeated bigram. SimCTG's script rounds each rep-n to two decimals
/// before the product; this does not round.
double diversity(std::span<const std::int32_t> tokens);

/// Diversity of a set of samples from the pooled rep-n above, as SimCTG's script computes it.
double diversity(std::span<const std::vector<std::int32_t>> samples);

/// "All the tokens": the default `last` of seq_rep_n.
inline constexpr std::int64_t all_tokens = std::numeric_limits<std::int64_t>::max();

/// seq-rep-n of one continuation (Welleck et al. 2020): 1 - unique n-grams / n-grams, a fraction
/// in [0, 1], over the last `last` tokens (all of them when the continuation is shorter; seq-rep-4
/// of the last 200 tokens is seq_rep_n(tokens, 4, 200)). As ngram_metrics in their
/// custom/metrics.py, which counts nltk.ngrams of the continuation (the prompt excluded). 0 when
/// there is no n-gram (their script would divide by zero). Throws ConfigError when n < 1 or
/// last < 1: "seq_rep_n: last must be at least 1, got 0".
double seq_rep_n(std::span<const std::int32_t> tokens, int n, std::int64_t last = all_tokens);

/// The mean of seq_rep_n over a set of continuations, as their Metrics.report averages it.
/// Throws ConfigError when n < 1, last < 1 or the set is empty: "mean_seq_rep_n: no samples".
double mean_seq_rep_n(std::span<const std::vector<std::int32_t>> samples, int n,
                      std::int64_t last = all_tokens);

/// For each token t, bit n - 1 (n = 1..max_n) is set when the n-gram ending at t, tokens
/// [t - n + 1, t], already ended at an earlier position of the sequence (occurrences may overlap:
/// in "a a a" the bigram ending at the third token was seen ending at the second). Bit 0 means the
/// token occurred before. The first n - 1 tokens never have bit n - 1. Throws ConfigError when
/// max_n is outside [1, 8]: "seen_ngram_flags: max_n must be in [1, 8], got 9".
std::vector<std::uint8_t> seen_ngram_flags(std::span<const std::int32_t> tokens, int max_n = 4);

/// The same flags one token at a time, for a trace written while generating: push(token) returns
/// the flags of the token just appended. push over a whole sequence gives seen_ngram_flags.
class SeenNgramTracker {
public:
    /// Throws ConfigError when max_n is outside [1, 8].
    explicit SeenNgramTracker(int max_n = 4);
    ~SeenNgramTracker();
    SeenNgramTracker(SeenNgramTracker&&) noexcept;
    SeenNgramTracker& operator=(SeenNgramTracker&&) noexcept;

    /// Appends a token; bit n - 1 of the result is set when the n-gram it completes was seen.
    std::uint8_t push(std::int32_t token);
    /// Tokens pushed so far.
    std::int64_t size() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace ouro::lab
