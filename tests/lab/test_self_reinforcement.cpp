#include <ouro/core/error.hpp>
#include <ouro/lab/self_reinforcement.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::lab;
using Tokens = std::vector<std::int32_t>;
using Flags = std::vector<std::uint8_t>;

TEST_SUITE("lab") {
    TEST_CASE("repeated-sentence context") {
        SUBCASE("layout") {
            // prefix 0, sentence 7 8 9, 3 copies:
            // position 0 1 2 3 4 5 6 7 8 9
            // token    0 7 8 9 7 8 9 7 8 9
            // copy     0 1 1 1 2 2 2 3 3 3
            const RepeatedSentence r = repeat_sentence(Tokens{7, 8, 9}, 3, Tokens{0});
            CHECK(r.tokens == Tokens{0, 7, 8, 9, 7, 8, 9, 7, 8, 9});
            CHECK(r.prefix_length == 1);
            CHECK(r.sentence_length == 3);
            CHECK(r.copies == 3);
            CHECK(r.position(1, 0) == 1);
            CHECK(r.position(2, 0) == 4);
            CHECK(r.position(3, 2) == 9);
            CHECK(r.copy_of(0) == 0);
            CHECK(r.copy_of(1) == 1);
            CHECK(r.copy_of(3) == 1);
            CHECK(r.copy_of(4) == 2);
            CHECK(r.copy_of(9) == 3);
            const std::vector<double> by_position = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
            const auto copies = r.copies_of(std::span<const double>(by_position));
            CHECK(std::vector<double>(copies.begin(), copies.end()) ==
                  std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9});
            // Without a prefix copy 1 starts at position 0.
            const RepeatedSentence bare = repeat_sentence(Tokens{1, 2}, 2);
            CHECK(bare.tokens == Tokens{1, 2, 1, 2});
            CHECK(bare.copy_of(0) == 1);
        }
        SUBCASE("rejects bad arguments") {
            const RepeatedSentence r = repeat_sentence(Tokens{7, 8, 9}, 3, Tokens{0});
            CHECK_THROWS_WITH_AS(r.position(4, 0),
                                 "RepeatedSentence::position: copy 4 out of range [1, 3]",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(r.position(1, 3),
                                 "RepeatedSentence::position: index 3 out of range [0, 3)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(r.copy_of(10),
                                 "RepeatedSentence::copy_of: position 10 out of range [0, 10)",
                                 ConfigError);
            const std::vector<double> short_values(8);
            CHECK_THROWS_WITH_AS(r.copies_of(std::span<const double>(short_values)),
                                 "RepeatedSentence::copies_of: 8 values for a context of 10 tokens",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(repeat_sentence(Tokens{}, 3),
                                 "repeat_sentence: the sentence is empty", ConfigError);
            CHECK_THROWS_WITH_AS(repeat_sentence(Tokens{1}, 0),
                                 "repeat_sentence: copies must be at least 1, got 0", ConfigError);
        }
    }

    TEST_CASE("self-reinforcement (Xu et al. 2022)") {
        // A 3-token sentence, 3 copies:
        //          probabilities      argmax
        // copy 1   0.2  0.5  0.9      0 1 1
        // copy 2   0.4  0.5  0.95     0 1 1
        // copy 3   0.1  0.8  0.99     0 0 1
        const std::vector<double> probs = {0.2, 0.5, 0.9, 0.4, 0.5, 0.95, 0.1, 0.8, 0.99};
        const Flags argmax = {0, 1, 1, 0, 1, 1, 0, 0, 1};
        SUBCASE("worked example") {
            // copy 1: TP = 1.6 / 3; IP = WR = 0 (nothing rises above itself); argmax 2/3
            // copy 2: TP = 1.85 / 3; rose: 0.4 > 0.2, 0.5 > 0.5 no (strict), 0.95 > 0.9 -> IP 2/3
            //         winners (rose and argmax): only token 2 -> WR 1/3; argmax 2/3 (token 1
            //         is the argmax without rising: DITTO's script counts it, WR does not)
            // copy 3: TP = 1.89 / 3; rose: 0.1 no, 0.8 > 0.5, 0.99 > 0.9 -> IP 2/3
            //         winners: token 1 rose but is not the argmax, token 2 -> WR 1/3; argmax 1/3
            const std::vector<CopyStats> c = self_reinforcement(probs, argmax, 3);
            REQUIRE(c.size() == 3);
            CHECK(c[0].copy == 1);
            CHECK(c[0].tp() == doctest::Approx(1.6 / 3).epsilon(1e-15));
            CHECK(c[0].ip() == 0.0);
            CHECK(c[0].wr() == 0.0);
            CHECK(c[0].argmax_rate() == doctest::Approx(2.0 / 3).epsilon(1e-15));
            CHECK(c[1].copy == 2);
            CHECK(c[1].tp() == doctest::Approx(1.85 / 3).epsilon(1e-15));
            CHECK(c[1].ip() == doctest::Approx(2.0 / 3).epsilon(1e-15));
            CHECK(c[1].wr() == doctest::Approx(1.0 / 3).epsilon(1e-15));
            CHECK(c[1].argmax_rate() == doctest::Approx(2.0 / 3).epsilon(1e-15));
            CHECK(c[2].tp() == doctest::Approx(1.89 / 3).epsilon(1e-15));
            CHECK(c[2].ip() == doctest::Approx(2.0 / 3).epsilon(1e-15));
            CHECK(c[2].wr() == doctest::Approx(1.0 / 3).epsilon(1e-15));
            CHECK(c[2].argmax_rate() == doctest::Approx(1.0 / 3).epsilon(1e-15));
        }
        SUBCASE("pooling weights by tokens") {
            // A second sentence of 1 token: copy 1 0.5; copy 2 0.7 (rose, argmax); copy 3 0.6
            // (rose, not argmax). Pooled copy 2: tokens 3 + 1 = 4, TP = (1.85 + 0.7) / 4 =
            // 0.6375 (the mean of the two TPs would be (0.6167 + 0.7) / 2 = 0.658),
            // IP = (2 + 1) / 4, WR = (1 + 1) / 4, argmax = (2 + 1) / 4.
            const std::vector<double> probs_b = {0.5, 0.7, 0.6};
            const Flags argmax_b = {1, 1, 0};
            const std::vector<std::vector<CopyStats>> curves = {
                self_reinforcement(probs, argmax, 3), self_reinforcement(probs_b, argmax_b, 1)};
            const std::vector<CopyStats> pooled = pool_self_reinforcement(curves);
            REQUIRE(pooled.size() == 3);
            CHECK(pooled[1].copy == 2);
            CHECK(pooled[1].tokens == 4);
            CHECK(pooled[1].tp() == doctest::Approx(2.55 / 4).epsilon(1e-15));
            CHECK(pooled[1].ip() == 0.75);
            CHECK(pooled[1].wr() == 0.5);
            CHECK(pooled[1].argmax_rate() == 0.75);
            // Copy 3: increased 2 + 1, winners 1 + 0.
            CHECK(pooled[2].ip() == 0.75);
            CHECK(pooled[2].wr() == 0.25);
        }
        SUBCASE("with a context built by repeat_sentence") {
            // A fake model: the probability at position i is i / 100; argmax at even positions.
            const RepeatedSentence r = repeat_sentence(Tokens{5, 6}, 4, Tokens{1, 2, 3});
            std::vector<double> p(r.tokens.size());
            Flags a(r.tokens.size());
            for (std::size_t i = 0; i < p.size(); ++i) {
                p[i] = double(i) / 100;
                a[i] = i % 2 == 0;
            }
            const auto c = self_reinforcement(r.copies_of(std::span<const double>(p)),
                                              r.copies_of(std::span<const std::uint8_t>(a)), 2);
            REQUIRE(c.size() == 4);
            // Copy k holds positions 3 + 2(k - 1) and 4 + 2(k - 1): TP(k) = (7 + 4(k - 1)) / 200.
            for (std::int64_t k = 1; k <= 4; ++k)
                CHECK(c[std::size_t(k - 1)].tp() ==
                      doctest::Approx(double(7 + 4 * (k - 1)) / 200).epsilon(1e-15));
            // Every later token rose; the even positions (second token of each copy) are argmax.
            CHECK(c[3].ip() == 1.0);
            CHECK(c[3].wr() == 0.5);
        }
        SUBCASE("edge cases: one copy, a one-token sentence") {
            const auto one = self_reinforcement(std::vector<double>{0.3, 0.6}, Flags{1, 0}, 2);
            REQUIRE(one.size() == 1);
            CHECK(one[0].tp() == doctest::Approx(0.45).epsilon(1e-15));
            CHECK(one[0].ip() == 0.0);
            const auto single =
                self_reinforcement(std::vector<double>{0.3, 0.3, 0.4}, Flags{1, 1, 1}, 1);
            CHECK(single[1].ip() == 0.0); // equal is not higher
            CHECK(single[2].wr() == 1.0);
        }
        SUBCASE("rejects bad arguments") {
            CHECK_THROWS_WITH_AS(self_reinforcement(probs, argmax, 0),
                                 "self_reinforcement: sentence_length must be at least 1, got 0",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(
                self_reinforcement(std::vector<double>(12), Flags(11), 4),
                "self_reinforcement: probs and is_argmax differ in length: 12 and 11", ShapeError);
            CHECK_THROWS_WITH_AS(self_reinforcement(std::vector<double>(10), Flags(10), 4),
                                 "self_reinforcement: 10 values do not make one or more whole "
                                 "copies of a 4-token sentence",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(self_reinforcement(std::vector<double>{}, Flags{}, 4),
                                 "self_reinforcement: 0 values do not make one or more whole "
                                 "copies of a 4-token sentence",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(pool_self_reinforcement(std::vector<std::vector<CopyStats>>{}),
                                 "pool_self_reinforcement: no curves", ConfigError);
            const std::vector<std::vector<CopyStats>> mismatched = {std::vector<CopyStats>(10),
                                                                    std::vector<CopyStats>(8)};
            CHECK_THROWS_WITH_AS(pool_self_reinforcement(mismatched),
                                 "pool_self_reinforcement: curve 1 has 8 copies, curve 0 has 10",
                                 ShapeError);
        }
    }
}
