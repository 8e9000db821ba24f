// Diversity of a set of samples: distinct-n (Li et al. 2016, "A Diversity-Promoting Objective
// Function for Neural Conversation Models") in two forms, and the Zipf coefficient of the token
// frequencies as Holtzman et al. (2020, "The Curious Case of Neural Text Degeneration") compute it
// in metrics/zipf.py of ari-holtzman/degen. Su et al.'s diversity (the product of 1 - rep-n) is in
// repetition.hpp, self-BLEU in bleu.hpp.
//
// Two distinct-n's. The usual one (distinct_n; Li et al., and most papers and libraries that
// report "distinct-n") counts the different n-grams: unique / all. The degen script
// (metrics/distinct_n.py, whose numbers Holtzman et al. report as distinct-n) counts the n-grams
// that occur exactly once: an n-gram seen twice counts in neither its numerator nor as distinct.
// distinct_n_degen computes that one, for comparisons with its numbers. Worked example, bigrams
// of A = 1 2 1 2 and B = 1 2 3: 12 21 12 12 23 (5); unique {12, 21, 23}: distinct_n = 3/5; seen
// once {21, 23}: distinct_n_degen = 2/5.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace ouro::lab {

/// distinct-n of a set of samples: the number of different n-grams over all samples / total
/// n-grams, in [0, 1]; an n-gram in two samples counts once in the numerator and twice in the
/// denominator; n-grams never cross from one sample into the next. (Li et al.'s paper divides by
/// the number of generated tokens instead; for n = 1 the two agree.) 0 when there is no n-gram.
/// Throws ConfigError when n < 1: "distinct_n: n must be at least 1, got 0".
double distinct_n(std::span<const std::vector<std::int32_t>> samples, int n);

/// distinct-n of one sequence.
double distinct_n(std::span<const std::int32_t> tokens, int n);

/// What Holtzman et al.'s metrics/distinct_n.py computes: the number of n-grams that occur
/// exactly once over all samples / total n-grams, in [0, 1] (<= distinct_n). Same n-grams, same
/// 0 when there is none, same ConfigError for n < 1 as distinct_n ("distinct_n: ...").
double distinct_n_degen(std::span<const std::vector<std::int32_t>> samples, int n);

/// distinct_n_degen of one sequence.
double distinct_n_degen(std::span<const std::int32_t> tokens, int n);

/// A least-squares line through (log rank, log frequency).
struct ZipfFit {
    double coefficient = 0.0; ///< minus the slope: about 1 for natural text, larger = more peaked
    double r = 0.0;           ///< Pearson correlation of the fit (negative for Zipf-like counts)
    std::int64_t types = 0;   ///< points fitted: min(distinct tokens, top_types)
};

/// The Zipf coefficient of the tokens of all samples together, as Holtzman et al.'s zipf.py: count
/// every token, sort the counts in decreasing order, keep the first top_types (5000 in their
/// script), and fit log(count) = a + b log(rank) (rank 1, 2, ...) by least squares, as
/// scipy.stats.linregress; coefficient = -b. r is 0 when all kept counts are equal (as
/// linregress). With fewer than two types there is no slope: coefficient and r are NaN. Throws
/// ConfigError when top_types < 1: "zipf_coefficient: top_types must be at least 1, got 0".
ZipfFit zipf_coefficient(std::span<const std::vector<std::int32_t>> samples,
                         std::int64_t top_types = 5000);

} // namespace ouro::lab
