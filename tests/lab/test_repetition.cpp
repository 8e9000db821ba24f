#include "lab/lab_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/lab/repetition.hpp>

#include <doctest/doctest.h>

#include <set>

using namespace ouro;
using namespace ouro::lab;
using namespace ouro::testing;

namespace {

// Naive reference: the n-grams as vectors in a std::set.
NgramCounts naive_counts(const Tokens& t, int n) {
    std::set<Tokens> distinct;
    std::int64_t total = 0;
    for (std::size_t i = 0; i + std::size_t(n) <= t.size(); ++i, ++total)
        distinct.insert(Tokens(t.begin() + std::ptrdiff_t(i), t.begin() + std::ptrdiff_t(i) + n));
    return {std::int64_t(distinct.size()), total};
}

// Naive reference for the seen flags: search every earlier end position.
std::vector<std::uint8_t> naive_flags(const Tokens& t, int max_n) {
    std::vector<std::uint8_t> flags(t.size(), 0);
    for (std::size_t end = 0; end < t.size(); ++end)
        for (int n = 1; n <= max_n && std::size_t(n) <= end + 1; ++n)
            for (std::size_t prev = std::size_t(n - 1); prev < end; ++prev) {
                bool same = true;
                for (int j = 0; j < n && same; ++j)
                    same = t[end - std::size_t(j)] == t[prev - std::size_t(j)];
                if (same) {
                    flags[end] = std::uint8_t(flags[end] | (1u << (n - 1)));
                    break;
                }
            }
    return flags;
}

} // namespace

TEST_SUITE("lab") {
    TEST_CASE("rep-n and diversity (Su et al. 2022)") {
        SUBCASE("worked example") {
            // tokens 1 2 3 1 2 3 1 2 (L = 8)
            // bigrams  12 23 31 12 23 31 12          total 7, unique {12, 23, 31} = 3
            //          rep-2 = 100 (1 - 3/7) = 400/7 = 57.142857...
            // trigrams 123 231 312 123 231 312       total 6, unique 3: rep-3 = 100 (1 - 3/6) = 50
            // 4-grams  1231 2312 3123 1231 2312      total 5, unique 3: rep-4 = 100 (1 - 3/5) = 40
            // diversity = (3/7) (1/2) (3/5) = 9/70
            const Tokens t = {1, 2, 3, 1, 2, 3, 1, 2};
            CHECK(count_ngrams(t, 2) == NgramCounts{3, 7});
            CHECK(rep_n(t, 2) == doctest::Approx(400.0 / 7.0).epsilon(1e-15));
            CHECK(rep_n(t, 3) == doctest::Approx(50.0).epsilon(1e-15));
            CHECK(rep_n(t, 4) == doctest::Approx(40.0).epsilon(1e-15));
            CHECK(diversity(t) == doctest::Approx(9.0 / 70.0).epsilon(1e-15));
            // n = 1: tokens 1 2 3 1 2 3 1 2: total 8, unique 3: 100 (1 - 3/8) = 62.5
            CHECK(rep_n(t, 1) == 62.5);
        }
        SUBCASE("a set is pooled as SimCTG's script pools it") {
            // A = 1 2 1 2: bigrams 12 21 12 -> unique 2 of 3; trigrams 121 212 -> 2 of 2;
            //                4-grams 1212 -> 1 of 1
            // B = 1 2 3:   bigrams 12 23 -> 2 of 2; trigrams 123 -> 1 of 1; no 4-gram
            // pooled rep-2 = 100 (1 - (2 + 2) / (3 + 2)) = 20 (12 is in both samples and counts
            //   once in each; the union would give 100 (1 - 3/5) = 40, the mean of the samples'
            //   rep-2 (33.3 + 0) / 2 = 16.7)
            // pooled rep-3 = 100 (1 - 3/3) = 0, rep-4 = 100 (1 - 1/1) = 0
            // diversity = (1 - 0.2) (1 - 0) (1 - 0) = 0.8
            const Samples s = {{1, 2, 1, 2}, {1, 2, 3}};
            CHECK(rep_n(s, 2) == doctest::Approx(20.0).epsilon(1e-15));
            CHECK(rep_n(s, 3) == 0.0);
            CHECK(rep_n(s, 4) == 0.0);
            CHECK(diversity(s) == doctest::Approx(0.8).epsilon(1e-15));
        }
        SUBCASE("edge cases") {
            // No n-gram: nothing is repeated, so rep-n = 0 and diversity = 1.
            CHECK(rep_n(Tokens{}, 2) == 0.0);
            CHECK(diversity(Tokens{}) == 1.0);
            CHECK(rep_n(Tokens{5, 6}, 3) == 0.0);
            CHECK(count_ngrams(Tokens{5, 6}, 3) == NgramCounts{0, 0});
            CHECK(rep_n(Samples{}, 2) == 0.0);
            CHECK(rep_n(Samples{{}, {4}}, 2) == 0.0);
            // One token ten times: bigrams 9 total, 1 unique -> 100 * 8/9; trigrams 8 -> 100 *
            // 7/8; 4-grams 7 -> 100 * 6/7; diversity = (1/9) (1/8) (1/7) = 1/504.
            const Tokens same(10, 7);
            CHECK(rep_n(same, 2) == doctest::Approx(800.0 / 9.0).epsilon(1e-15));
            CHECK(rep_n(same, 3) == 87.5);
            CHECK(rep_n(same, 4) == doctest::Approx(600.0 / 7.0).epsilon(1e-15));
            CHECK(diversity(same) == doctest::Approx(1.0 / 504.0).epsilon(1e-14));
        }
        SUBCASE("the all-ones key") {
            // 16-bit tokens pack a 4-gram into all 64 bits; 65535 x 4 is the key that marks
            // empty slots in the hash map, and still counts.
            // F = 65535; F F F F 0 F F F F: 4-grams FFFF FFF0 FF0F F0FF 0FFF FFFF: 5 of 6 unique
            const std::int32_t F = 65535;
            CHECK(count_ngrams(Tokens{F, F, F, F, 0, F, F, F, F}, 4) == NgramCounts{5, 6});
            CHECK(count_ngrams(Tokens(5, F), 4) == NgramCounts{1, 2});
        }
        SUBCASE("counts match a naive reference, whatever the token ids") {
            Rng rng(11);
            for (int trial = 0; trial < 20; ++trial) {
                const Tokens t = random_tokens(rng, rng.below(300), trial % 2 ? 3 : 40);
                for (int n = 1; n <= 9; ++n) {
                    const NgramCounts expected = naive_counts(t, n);
                    CHECK(count_ngrams(t, n) == expected);
                    CHECK(count_ngrams(relabel(t, true), n) == expected);
                    CHECK(count_ngrams(relabel(t, false), n) == expected);
                }
            }
        }
        SUBCASE("rejects bad arguments") {
            const Tokens t = {1, 2, 3};
            CHECK_THROWS_WITH_AS(rep_n(t, 0), "rep_n: n must be at least 1, got 0", ConfigError);
            CHECK_THROWS_WITH_AS(rep_n(Samples{t}, -1), "rep_n: n must be at least 1, got -1",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(count_ngrams(t, 0), "count_ngrams: n must be at least 1, got 0",
                                 ConfigError);
        }
    }

    TEST_CASE("seq-rep-n (Welleck et al. 2020)") {
        SUBCASE("worked example, whole and last tokens") {
            // tokens 1 1 1 1 2 3 4 5, n = 2
            // all:     11 11 11 12 23 34 45        total 7, unique 5: 1 - 5/7 = 2/7
            // last 7:  1 1 1 2 3 4 5 -> 11 11 12 23 34 45: total 6, unique 5: 1/6
            // last 6:  1 1 2 3 4 5 -> 11 12 23 34 45: no repeat: 0
            // last 100 (longer than the sequence): all of it, 2/7
            const Tokens t = {1, 1, 1, 1, 2, 3, 4, 5};
            CHECK(seq_rep_n(t, 2) == doctest::Approx(2.0 / 7.0).epsilon(1e-15));
            CHECK(seq_rep_n(t, 2, 7) == doctest::Approx(1.0 / 6.0).epsilon(1e-15));
            CHECK(seq_rep_n(t, 2, 6) == 0.0);
            CHECK(seq_rep_n(t, 2, 100) == seq_rep_n(t, 2));
            // Mean over a set: 9 9 9 has bigrams 99 99: 1 - 1/2 = 1/2;
            // mean = (2/7 + 1/2) / 2 = 11/28.
            CHECK(mean_seq_rep_n(Samples{t, {9, 9, 9}}, 2) ==
                  doctest::Approx(11.0 / 28.0).epsilon(1e-15));
        }
        SUBCASE("seq-rep-4 of the last 200 tokens of a story that ends in a loop") {
            // 100 distinct tokens, then the 5-token unit 100..104 forty times (200 tokens). The
            // last 200 tokens are the loop: 197 4-grams, 5 distinct: 1 - 5/197 = 192/197.
            Tokens t;
            for (int i = 0; i < 100; ++i)
                t.push_back(i);
            for (int k = 0; k < 40; ++k)
                for (int i = 100; i < 105; ++i)
                    t.push_back(i);
            CHECK(seq_rep_n(t, 4, 200) == doctest::Approx(192.0 / 197.0).epsilon(1e-15));
            // Over all 300 tokens: 297 4-grams; distinct: the 97 inside the story (starting at
            // 0..96), the 3 that cross into the loop, and the loop's 5: 105. 1 - 105/297.
            CHECK(seq_rep_n(t, 4) == doctest::Approx(192.0 / 297.0).epsilon(1e-15));
        }
        SUBCASE("edge cases") {
            CHECK(seq_rep_n(Tokens{}, 4) == 0.0);
            CHECK(seq_rep_n(Tokens{1, 2, 3}, 4) == 0.0);
            // One token repeated: n-grams L - n + 1, one distinct.
            CHECK(seq_rep_n(Tokens(9, 3), 4) == doctest::Approx(5.0 / 6.0).epsilon(1e-15));
            CHECK(mean_seq_rep_n(Samples{{}}, 1) == 0.0);
        }
        SUBCASE("rejects bad arguments") {
            const Tokens t = {1, 2, 3};
            CHECK_THROWS_WITH_AS(seq_rep_n(t, 0), "seq_rep_n: n must be at least 1, got 0",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(seq_rep_n(t, 2, 0), "seq_rep_n: last must be at least 1, got 0",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(mean_seq_rep_n(Samples{}, 2), "mean_seq_rep_n: no samples",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(mean_seq_rep_n(Samples{t}, 2, -5),
                                 "mean_seq_rep_n: last must be at least 1, got -5", ConfigError);
        }
    }

    TEST_CASE("seen n-gram flags") {
        SUBCASE("worked example") {
            // tokens   5 6 5 6 7 5 6 7
            // t0 5     new                                                   -> 0
            // t1 6     new; 56 new                                           -> 0
            // t2 5     seen at t0 (bit 0); 65 new; 565 new                   -> 1
            // t3 6     seen; 56 ended at t1 (bit 1); 656 new; 5656 new       -> 3
            // t4 7     new; 67 new; 567 new; 6567 new                        -> 0
            // t5 5     seen; 75 new; 675 new; 5675 new                       -> 1
            // t6 6     seen; 56 seen; 756 new; 6756 new                      -> 3
            // t7 7     seen; 67 ended at t4; 567 ended at t4 (bit 2); 7567 new -> 7
            const Tokens t = {5, 6, 5, 6, 7, 5, 6, 7};
            CHECK(seen_ngram_flags(t) == std::vector<std::uint8_t>{0, 0, 1, 3, 0, 1, 3, 7});
            // max_n = 2 keeps bits 0 and 1 only.
            CHECK(seen_ngram_flags(t, 2) == std::vector<std::uint8_t>{0, 0, 1, 3, 0, 1, 3, 3});
            // Overlapping occurrences count: in 3 3 3 the bigram 33 ending at t2 ended at t1.
            CHECK(seen_ngram_flags(Tokens{3, 3, 3}) == std::vector<std::uint8_t>{0, 1, 3});
            CHECK(seen_ngram_flags(Tokens{}).empty());
        }
        SUBCASE("the tracker gives the same flags one token at a time") {
            const Tokens t = {5, 6, 5, 6, 7, 5, 6, 7};
            SeenNgramTracker tracker;
            std::vector<std::uint8_t> flags;
            for (const std::int32_t x : t)
                flags.push_back(tracker.push(x));
            CHECK(flags == seen_ngram_flags(t));
            CHECK(tracker.size() == 8);
            SeenNgramTracker moved = std::move(tracker);
            // t8 = 5: 5 seen, 75 ended at t5, 675 ended at t5, 5675 is t2..t5: all four bits.
            CHECK(moved.push(5) == 15);
        }
        SUBCASE("matches a naive search, whatever the token ids") {
            Rng rng(5);
            for (int trial = 0; trial < 20; ++trial) {
                const Tokens t = random_tokens(rng, rng.below(200), trial % 2 ? 2 : 6);
                for (int max_n = 1; max_n <= 8; ++max_n) {
                    const auto expected = naive_flags(t, max_n);
                    CHECK(seen_ngram_flags(t, max_n) == expected);
                    CHECK(seen_ngram_flags(relabel(t, true), max_n) == expected);
                }
            }
        }
        SUBCASE("rejects bad arguments") {
            CHECK_THROWS_WITH_AS(seen_ngram_flags(Tokens{1}, 0),
                                 "seen_ngram_flags: max_n must be in [1, 8], got 0", ConfigError);
            CHECK_THROWS_WITH_AS(seen_ngram_flags(Tokens{1}, 9),
                                 "seen_ngram_flags: max_n must be in [1, 8], got 9", ConfigError);
            CHECK_THROWS_WITH_AS(SeenNgramTracker(9),
                                 "SeenNgramTracker: max_n must be in [1, 8], got 9", ConfigError);
        }
    }
}
