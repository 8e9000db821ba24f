#include "lab/lab_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/lab/bleu.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <sstream>
#include <string>

using namespace ouro;
using namespace ouro::lab;
using namespace ouro::testing;

namespace {

// Words to ids, numbered in order of first appearance across calls.
struct Vocabulary {
    std::map<std::string, std::int32_t> ids;
    Tokens operator()(const std::string& sentence) {
        std::istringstream in(sentence);
        Tokens out;
        for (std::string w; in >> w;)
            out.push_back(ids.emplace(w, std::int32_t(ids.size())).first->second);
        return out;
    }
};

// Reference self-BLEU: sentence_bleu of each sample against a copy of all the others.
double naive_self_bleu(const Samples& s, int max_n) {
    double sum = 0.0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        Samples others;
        for (std::size_t j = 0; j < s.size(); ++j)
            if (j != i)
                others.push_back(s[j]);
        sum += sentence_bleu(others, s[i], max_n);
    }
    return sum / double(s.size());
}

} // namespace

TEST_SUITE("lab") {
    TEST_CASE("sentence BLEU") {
        SUBCASE("worked example") {
            // hypothesis 1 2 3 4 5 6; references R1 = 1 2 3 4 7 8, R2 = 9 2 3 4 5 10 11
            // 1-grams: 1 2 3 4 5 6 -> 1..4 in R1, 5 in R2, 6 nowhere: p1 = 5/6
            // 2-grams: 12 23 34 45 56; R1 has 12 23 34, R2 has 23 34 45: p2 = 4/5
            // 3-grams: 123 234 345 456; R1 has 123 234, R2 has 234 345: p3 = 3/4
            // 4-grams: 1234 2345 3456; R1 has 1234, R2 has 2345: p4 = 2/3
            // closest reference length to 6: 6 (R1); 6 > 6 is false: BP = exp(1 - 6/6) = 1
            // BLEU = (5/6 * 4/5 * 3/4 * 2/3)^(1/4) = (1/3)^(1/4)
            const Samples refs = {{1, 2, 3, 4, 7, 8}, {9, 2, 3, 4, 5, 10, 11}};
            CHECK(sentence_bleu(refs, Tokens{1, 2, 3, 4, 5, 6}) ==
                  doctest::Approx(std::pow(1.0 / 3.0, 0.25)).epsilon(1e-15));
        }
        SUBCASE("method1 smoothing and the brevity penalty") {
            // hypothesis 1 2 3 4, reference 1 2 5 3 4
            // p1 = 4/4; p2: 12 23 34 vs 12 25 53 34 -> 2/3
            // p3: 123 234 match nothing -> 0 + 0.1 over 2 trigrams = 0.05
            // p4: 1234 matches nothing -> 0.1 / 1 = 0.1
            // BP: 4 < 5 -> exp(1 - 5/4) = exp(-0.25)
            // BLEU = exp(-0.25) (1 * 2/3 * 0.05 * 0.1)^(1/4)
            CHECK(sentence_bleu(Samples{{1, 2, 5, 3, 4}}, Tokens{1, 2, 3, 4}) ==
                  doctest::Approx(std::exp(-0.25) * std::pow(2.0 / 3.0 * 0.05 * 0.1, 0.25))
                      .epsilon(1e-14));
            // A hypothesis shorter than n: nltk's denominator is max(1, 0) = 1, so p3 = p4 =
            // 0.1 / 1: BLEU of 1 2 against 1 2 = (1 * 1 * 0.1 * 0.1)^(1/4) = sqrt(0.1).
            CHECK(sentence_bleu(Samples{{1, 2}}, Tokens{1, 2}) ==
                  doctest::Approx(std::sqrt(0.1)).epsilon(1e-15));
            // No unigram matches: 0 before any smoothing; an empty hypothesis too.
            CHECK(sentence_bleu(Samples{{1, 2}}, Tokens{7, 8}) == 0.0);
            CHECK(sentence_bleu(Samples{{1, 2}}, Tokens{}) == 0.0);
        }
        SUBCASE("nltk's documented values") {
            // Modified precision clips counts: "the" x 7 against two references that hold "the"
            // at most twice: p1 = 2/7; closest length 7, BP = 1, so BLEU-1 = 2/7.
            Vocabulary v;
            const Samples the_refs = {v("the cat is on the mat"), v("there is a cat on the mat")};
            CHECK(sentence_bleu(the_refs, v("the the the the the the the"), 1) ==
                  doctest::Approx(2.0 / 7.0).epsilon(1e-15));
            // Brevity penalty: 12 tokens against two of 28: all precisions 1, BLEU = BP =
            // exp(1 - 28/12) = 0.2635971381157267 (nltk's brevity_penalty doctest).
            CHECK(sentence_bleu(Samples{Tokens(28, 1), Tokens(28, 1)}, Tokens(12, 1)) ==
                  doctest::Approx(0.2635971381157267).epsilon(1e-15));
            // Equally close references of 13 and 11 tokens: the shorter wins, 12 > 11, BP = 1
            // (the longer would give exp(1 - 13/12) = 0.92).
            CHECK(sentence_bleu(Samples{Tokens(13, 1), Tokens(11, 1)}, Tokens(12, 1)) == 1.0);
            // The Papineni et al. example in nltk's sentence_bleu docstring: 0.5045...; and the
            // first reference alone, in SmoothingFunction's docstring: 0.4118...
            const Tokens hyp = v("It is a guide to action which ensures that the military always "
                                 "obeys the commands of the party");
            const Samples refs = {
                v("It is a guide to action that ensures that the military will forever heed "
                  "Party commands"),
                v("It is the guiding principle which guarantees the military forces always being "
                  "under the command of the Party"),
                v("It is the practical guide for the army always to heed the directions of the "
                  "party")};
            const double three = sentence_bleu(refs, hyp);
            CHECK(three >= 0.5045);
            CHECK(three < 0.5046);
            const double one = sentence_bleu(Samples{refs[0]}, hyp);
            CHECK(one >= 0.4118);
            CHECK(one < 0.4119);
        }
        SUBCASE("rejects bad arguments") {
            CHECK_THROWS_WITH_AS(sentence_bleu(Samples{}, Tokens{1}),
                                 "sentence_bleu: no references", ConfigError);
            CHECK_THROWS_WITH_AS(sentence_bleu(Samples{{1}}, Tokens{1}, 0),
                                 "sentence_bleu: max_n must be at least 1, got 0", ConfigError);
        }
    }

    TEST_CASE("self-BLEU (Zhu et al. 2018, Texygen)") {
        SUBCASE("worked example") {
            // A = 1 2 3, B = 1 2 4, C = 5 6 7
            // A against {B, C}: p1 = 2/3 (1 and 2 are in B), p2 = 1/2 (12 is in B),
            //   p3 = 0.1 / 1 (123 is nowhere), p4 = 0.1 / max(1, 0) = 0.1; BP = 1 (length 3,
            //   closest 3). BLEU-2 = (2/3 * 1/2)^(1/2) = (1/3)^(1/2);
            //   BLEU-4 = (2/3 * 1/2 * 0.1 * 0.1)^(1/4) = (1/300)^(1/4)
            // B against {A, C}: the same by symmetry
            // C against {A, B}: no unigram matches: 0
            // self-BLEU-2 = 2/3 (1/3)^(1/2), self-BLEU-4 = 2/3 (1/300)^(1/4)
            const Samples s = {{1, 2, 3}, {1, 2, 4}, {5, 6, 7}};
            CHECK(self_bleu(s, 2) ==
                  doctest::Approx(2.0 / 3.0 * std::sqrt(1.0 / 3.0)).epsilon(1e-15));
            CHECK(self_bleu(s) ==
                  doctest::Approx(2.0 / 3.0 * std::pow(1.0 / 300.0, 0.25)).epsilon(1e-14));
        }
        SUBCASE("identical samples score 1, and a sample is never its own reference") {
            CHECK(self_bleu(Samples{{4, 5, 6, 7, 8}, {4, 5, 6, 7, 8}}) == 1.0);
            // Distinct samples: against themselves they would score 1; against each other 0.
            CHECK(self_bleu(Samples{{1, 2, 3, 4}, {5, 6, 7, 8}}) == 0.0);
        }
        SUBCASE("equals the mean of leave-one-out sentence BLEU, whatever the token ids") {
            Rng rng(29);
            for (int trial = 0; trial < 10; ++trial) {
                Samples s;
                const std::size_t S = 2 + rng.below(8);
                for (std::size_t i = 0; i < S; ++i)
                    s.push_back(random_tokens(rng, rng.below(4) == 0 ? 10 : rng.below(40), 6));
                for (const int max_n : {1, 4, 5}) {
                    const double expected = naive_self_bleu(s, max_n);
                    CHECK(self_bleu(s, max_n) == doctest::Approx(expected).epsilon(1e-14));
                    CHECK(self_bleu(relabel(s, true), max_n) ==
                          doctest::Approx(expected).epsilon(1e-14));
                }
            }
        }
        SUBCASE("rejects bad arguments") {
            CHECK_THROWS_WITH_AS(self_bleu(Samples{{1, 2}}),
                                 "self_bleu: needs at least 2 samples, got 1", ConfigError);
            CHECK_THROWS_WITH_AS(self_bleu(Samples{}), "self_bleu: needs at least 2 samples, got 0",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(self_bleu(Samples{{1}, {1}}, -2),
                                 "self_bleu: max_n must be at least 1, got -2", ConfigError);
        }
    }
}
