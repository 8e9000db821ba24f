#include "gen/gen_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/gen/penalties.hpp>
#include <ouro/gen/truncation.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <vector>

using namespace ouro;
using namespace ouro::gen;
using namespace ouro::testing;

namespace {

using Lengths = std::vector<std::pair<std::int32_t, std::int32_t>>;

std::vector<float> logits_after(const CandidateSet& c) {
    return {c.logits().begin(), c.logits().end()};
}

// DryRepeats::compute as (token, length) pairs in increasing token order.
Lengths dry_lengths(const Tokens& window, std::int64_t vocab) {
    DryRepeats d;
    const auto found = d.compute(window, vocab);
    Lengths out(found.begin(), found.end());
    std::sort(out.begin(), out.end());
    return out;
}

// The ids that no_repeat_ngram bans (logit -inf) among V tokens of logit 0.
Ids banned(const Tokens& history, std::int64_t n, std::int64_t V = 10) {
    CandidateSet c = candidates(std::vector<float>(std::size_t(V), 0.0f));
    no_repeat_ngram(c, history, n);
    Ids out;
    for (std::int64_t i = 0; i < V; ++i)
        if (c.logits()[std::size_t(i)] == -inf)
            out.push_back(std::int32_t(i));
    return out;
}

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("TokenCounts") {
        TokenCounts counts;
        counts.build(Tokens{3, 1, 3, 3, 0}, 5);
        CHECK(counts.count(3) == 3);
        CHECK(counts.count(1) == 1);
        CHECK(counts.count(0) == 1);
        CHECK(counts.count(2) == 0);
        CHECK(counts.count(7) == 0);
        CHECK(Ids(counts.distinct().begin(), counts.distinct().end()) == Ids{3, 1, 0});
        // A new window forgets the old counts.
        counts.build(Tokens{2}, 5);
        CHECK(counts.count(3) == 0);
        CHECK(counts.count(2) == 1);
        CHECK_THROWS_WITH_AS(counts.build(Tokens{1, 9}, 8),
                             "sampler: history token 9 is outside the vocabulary (V = 8)",
                             ConfigError);
    }

    TEST_CASE("repetition penalty") {
        // z = (2, -2, 1, 0.5), window (0, 1, 1). theta = 2: z0 = 2 / 2 = 1 (positive: divided),
        // z1 = -2 * 2 = -4 (negative: multiplied, so it still goes down); z2, z3 unchanged.
        const std::vector<float> z = {2.0f, -2.0f, 1.0f, 0.5f};
        TokenCounts counts;
        counts.build(Tokens{0, 1, 1}, 4);
        CandidateSet c = candidates(z);
        repetition_penalty(c, counts, 2.0);
        CHECK(logits_after(c) == std::vector<float>{1.0f, -4.0f, 1.0f, 0.5f});
        // theta = 0.5 < 1 rewards repeats: z0 = 4, z1 = -1.
        c = candidates(z);
        repetition_penalty(c, counts, 0.5);
        CHECK(logits_after(c) == std::vector<float>{4.0f, -1.0f, 1.0f, 0.5f});
        // A zero logit stays zero; a banned one stays banned.
        c = candidates({0.0f, -inf});
        counts.build(Tokens{0, 1}, 2);
        repetition_penalty(c, counts, 3.0);
        CHECK(c.logits()[0] == 0.0f);
        CHECK(c.logits()[1] == -inf);
        CHECK_THROWS_WITH_AS(repetition_penalty(c, counts, 0.0),
                             "sampler: repetition_penalty must be > 0, got 0", ConfigError);

        SUBCASE("only the window counts") {
            // History (0, 2, 3, 1) with a window of its last 2 tokens: only 3 and 1.
            const Tokens history = {0, 2, 3, 1};
            counts.build(std::span(history).last(2), 4);
            CandidateSet d = candidates({2.0f, 2.0f, 2.0f, 2.0f});
            repetition_penalty(d, counts, 2.0);
            CHECK(logits_after(d) == std::vector<float>{2.0f, 1.0f, 2.0f, 1.0f});
        }

        SUBCASE("after a truncation, by token id") {
            // top_k(2) keeps tokens 0 and 2 (sorted: 0 then 2); the penalty finds token 2 by id
            // and skips token 1, which is gone.
            CandidateSet d = candidates(z);
            top_k(d, 2);
            counts.build(Tokens{2, 1}, 4);
            repetition_penalty(d, counts, 4.0);
            CHECK(Ids(d.ids().begin(), d.ids().end()) == Ids{0, 2});
            CHECK(logits_after(d) == std::vector<float>{2.0f, 0.25f});
            CHECK_FALSE(d.sorted());
        }
    }

    TEST_CASE("frequency and presence penalties") {
        // Window (1, 1, 1, 2): counts 3 and 1. frequency 0.5: z1 -= 1.5, z2 -= 0.5.
        // presence 1: z1 -= 1, z2 -= 1.
        TokenCounts counts;
        counts.build(Tokens{1, 1, 1, 2}, 4);
        CandidateSet c = candidates({0.0f, 0.0f, 0.0f, 0.0f});
        frequency_penalty(c, counts, 0.5);
        CHECK(logits_after(c) == std::vector<float>{0.0f, -1.5f, -0.5f, 0.0f});
        presence_penalty(c, counts, 1.0);
        CHECK(logits_after(c) == std::vector<float>{0.0f, -2.5f, -1.5f, 0.0f});
        CHECK_THROWS_WITH_AS(frequency_penalty(c, counts, NAN),
                             "sampler: frequency_penalty must be finite, got nan", ConfigError);
        CHECK_THROWS_WITH_AS(presence_penalty(c, counts, INFINITY),
                             "sampler: presence_penalty must be finite, got inf", ConfigError);
    }

    TEST_CASE("logit bias") {
        CandidateSet c = candidates({0.0f, 1.0f, 2.0f});
        const std::vector<std::pair<std::int32_t, float>> bias = {{0, 2.5f}, {2, -inf}};
        logit_bias(c, bias);
        CHECK(logits_after(c) == std::vector<float>{2.5f, 1.0f, -inf});
        const std::vector<std::pair<std::int32_t, float>> outside = {{3, 1.0f}};
        CHECK_THROWS_WITH_AS(logit_bias(c, outside),
                             "sampler: logit_bias token 3 is outside the vocabulary (V = 3)",
                             ConfigError);
        const std::vector<std::pair<std::int32_t, float>> nan_bias = {{1, NAN}};
        CHECK_THROWS_WITH_AS(logit_bias(c, nan_bias),
                             "sampler: logit_bias for token 1 must be finite or -inf, got nan",
                             ConfigError);
    }

    TEST_CASE("no-repeat-ngram") {
        // (5, 6, 7, 5, 6): the last 2 tokens (5, 6) began the trigram (5, 6, 7), so n = 3 bans 7.
        CHECK(banned({5, 6, 7, 5, 6}, 3) == Ids{7});
        // n = 2: after 6 came 7.
        CHECK(banned({5, 6, 7, 5, 6}, 2) == Ids{7});
        // n = 1 bans every token seen.
        CHECK(banned({5, 6, 7, 5, 6}, 1) == Ids{5, 6, 7});
        // n = 4: (7, 5, 6) has not occurred before.
        CHECK(banned({5, 6, 7, 5, 6}, 4) == Ids{});
        // (1, 2, 3, 1, 2, 4, 1, 2): (1, 2) was followed by 3 and by 4.
        CHECK(banned({1, 2, 3, 1, 2, 4, 1, 2}, 3) == Ids{3, 4});
        // Shorter than n: nothing to ban. n = 0: off.
        CHECK(banned({1, 2}, 3) == Ids{});
        CHECK(banned({1, 1, 1}, 0) == Ids{});
        // A loop of one token: (9, 9, 9), n = 2 bans 9.
        CHECK(banned({9, 9, 9}, 2) == Ids{9});
        CandidateSet c = candidates({0.0f, 0.0f});
        CHECK_THROWS_WITH_AS(no_repeat_ngram(c, Tokens{0, 5}, 2),
                             "sampler: history token 5 is outside the vocabulary (V = 2)",
                             ConfigError);
        CHECK_THROWS_WITH_AS(no_repeat_ngram(c, Tokens{0}, -1),
                             "sampler: no_repeat_ngram must be >= 0, got -1", ConfigError);
    }

    TEST_CASE("DRY") {
        SUBCASE("repeat lengths on hand-made histories") {
            // (5, 3, 1, 2, 3, 1, 4, 5, 3, 1): the window ends with (5, 3, 1).
            //   j = 2 (h_2 = 1): h_2 = h_9, h_1 = h_8 = 3, h_0 = h_7 = 5, then the start: l = 3;
            //     the next token was h_3 = 2, so L_2 = 3.
            //   j = 5 (h_5 = 1): h_4 = 3 = h_8, h_3 = 2 != h_7 = 5: l = 2; next h_6 = 4, L_4 = 2.
            //   every other j has h_j != 1: l = 0.
            CHECK(dry_lengths({5, 3, 1, 2, 3, 1, 4, 5, 3, 1}, 6) == Lengths{{2, 3}, {4, 2}});
            // (0, 1, 2, 0, 1, 2, 0, 1): j = 4 matches back to the start (l = 5, next 2); j = 1
            // gives l = 2 (next 2 as well). L_2 = max(5, 2) = 5.
            CHECK(dry_lengths({0, 1, 2, 0, 1, 2, 0, 1}, 3) == Lengths{{2, 5}});
            // (7, 7, 7, 7): l(2) = 3 (the copies overlap), l(1) = 2, l(0) = 1, each followed
            // by 7: L_7 = 3.
            CHECK(dry_lengths({7, 7, 7, 7}, 8) == Lengths{{7, 3}});
            // No earlier occurrence of the last token: nothing.
            CHECK(dry_lengths({1, 2, 3}, 4) == Lengths{});
            CHECK(dry_lengths({1}, 4) == Lengths{});
        }

        SUBCASE("matches the walk-back reference") {
            Rng rng(11);
            DryRepeats d;
            for (int trial = 0; trial < 200; ++trial) {
                // Small alphabets make long repeats; sometimes a pasted loop.
                const std::int64_t V = 2 + std::int64_t(rng.below(4));
                Tokens h(1 + rng.below(120));
                for (auto& t : h)
                    t = std::int32_t(rng.below(std::uint64_t(V)));
                if (trial % 3 == 0 && h.size() >= 8)
                    for (std::size_t i = h.size() / 2; i < h.size(); ++i)
                        h[i] = h[i - h.size() / 4 - 1];
                const auto found = d.compute(h, V);
                Lengths got(found.begin(), found.end());
                std::sort(got.begin(), got.end());
                CHECK(got == dry_repeat_lengths_reference(h));
            }
        }

        SUBCASE("penalty") {
            // L_2 = 3, L_4 = 2 (the first history above); multiplier 1, base 2, allowed 2:
            // z_2 -= 2^(3-2) = 2, z_4 -= 2^0 = 1.
            const Lengths lengths = {{2, 3}, {4, 2}};
            CandidateSet c = candidates(std::vector<float>(6, 0.0f));
            dry(c, lengths, 1.0, 2.0, 2);
            CHECK(logits_after(c) == std::vector<float>{0.0f, 0.0f, -2.0f, 0.0f, -1.0f, 0.0f});
            // allowed 3: only token 2, by 2^0; COLLAPSE.md's defaults (0.8, 1.75, 2) on L = 5:
            // 0.8 * 1.75^3 = 4.2875.
            c = candidates(std::vector<float>(6, 0.0f));
            dry(c, lengths, 1.0, 2.0, 3);
            CHECK(logits_after(c) == std::vector<float>{0.0f, 0.0f, -1.0f, 0.0f, 0.0f, 0.0f});
            c = candidates(std::vector<float>(3, 0.0f));
            dry(c, Lengths{{2, 5}}, 0.8, 1.75, 2);
            CHECK(c.logits()[2] == doctest::Approx(-4.2875).epsilon(1e-6));
            CHECK_THROWS_WITH_AS(dry(c, lengths, -1.0, 1.75, 2),
                                 "sampler: dry_multiplier must be >= 0, got -1", ConfigError);
            CHECK_THROWS_WITH_AS(dry(c, lengths, 0.8, 0.5, 2),
                                 "sampler: dry_base must be >= 1, got 0.5", ConfigError);
            CHECK_THROWS_WITH_AS(dry(c, lengths, 0.8, 1.75, 0),
                                 "sampler: dry_allowed_length must be >= 1, got 0", ConfigError);
        }
    }
}
