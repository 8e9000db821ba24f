#include "lab/lab_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/lab/next_token_repetition.hpp>

#include <doctest/doctest.h>

#include <set>

using namespace ouro;
using namespace ouro::lab;
using namespace ouro::testing;

namespace {

// Naive reference: scan the previous l targets at every position.
NextTokenRepetition naive(const Tokens& pred, const Tokens& target, std::int64_t l) {
    NextTokenRepetition r;
    std::set<std::int32_t> distinct;
    const auto T = std::int64_t(target.size());
    for (std::int64_t t = 0; t < T; ++t) {
        bool pred_seen = false, target_seen = false;
        for (std::int64_t j = std::max<std::int64_t>(0, t - l); j < t; ++j) {
            pred_seen = pred_seen || target[std::size_t(j)] == pred[std::size_t(t)];
            target_seen = target_seen || target[std::size_t(j)] == target[std::size_t(t)];
        }
        r.repeats += pred_seen;
        r.wrong_repeats += pred_seen && pred[std::size_t(t)] != target[std::size_t(t)];
        r.human_repeats += target_seen;
        distinct.insert(pred[std::size_t(t)]);
    }
    r.predictions = T;
    r.uniq = std::int64_t(distinct.size());
    return r;
}

void check_equal(const NextTokenRepetition& a, const NextTokenRepetition& b) {
    CHECK(a.predictions == b.predictions);
    CHECK(a.repeats == b.repeats);
    CHECK(a.wrong_repeats == b.wrong_repeats);
    CHECK(a.human_repeats == b.human_repeats);
    CHECK(a.uniq == b.uniq);
}

} // namespace

TEST_SUITE("lab") {
    TEST_CASE("rep/l, wrep/l and uniq (Welleck et al. 2020)") {
        // position     0 1 2 3 4 5
        // targets      1 2 3 1 4 2
        // predictions  1 1 3 2 2 2
        const Tokens targets = {1, 2, 3, 1, 4, 2};
        const Tokens preds = {1, 1, 3, 2, 2, 2};
        SUBCASE("worked example, l = 128 (everything before)") {
            // t  previous targets   prediction        target
            // 0  {}                 1: no             1: no
            // 1  {1}                1: repeat, wrong  2: no
            // 2  {1 2}              3: no (the target at t itself is not in the window)
            // 3  {1 2 3}            2: repeat, wrong  1: human repeat
            // 4  {1 2 3 1}          2: repeat, wrong  4: no
            // 5  {1 2 3 1 4}        2: repeat, right  2: human repeat
            // rep = 4/6, wrep = 3/6 (over all predictions; 3 of the 3 wrong ones repeat, so a
            // rate over wrong predictions would be 1), human = 2/6, uniq = |{1, 2, 3}| = 3
            const NextTokenRepetition r = next_token_repetition(preds, targets);
            CHECK(r.predictions == 6);
            CHECK(r.repeats == 4);
            CHECK(r.wrong_repeats == 3);
            CHECK(r.human_repeats == 2);
            CHECK(r.uniq == 3);
            CHECK(r.rep() == doctest::Approx(4.0 / 6.0).epsilon(1e-15));
            CHECK(r.wrep() == 0.5);
            CHECK(r.human_rep() == doctest::Approx(2.0 / 6.0).epsilon(1e-15));
        }
        SUBCASE("worked example, l = 2: the window slides") {
            // t  targets[t-2 .. t-1]  prediction        target
            // 1  {1}                  1: repeat, wrong  2: no
            // 3  {2 3}                2: repeat, wrong  1: no (1 has left the window)
            // 4  {3 1}                2: no             4: no
            // 5  {1 4}                2: no             2: no
            // rep = 2/6, wrep = 2/6, human = 0
            const NextTokenRepetition r = next_token_repetition(preds, targets, 2);
            CHECK(r.repeats == 2);
            CHECK(r.wrong_repeats == 2);
            CHECK(r.human_repeats == 0);
            CHECK(r.uniq == 3);
        }
        SUBCASE("a set: the window does not cross sequences, uniq is over all of them") {
            // A: targets 1 2, predictions 1 1: t1 sees {1}: repeat, wrong.
            // B: targets 5 1, predictions 1 1: t0 sees {} (not A's tokens), t1 sees {5}: none.
            // predictions 4, repeats 1, wrong 1, human 0, uniq |{1}| = 1 (not 1 + 1)
            const NextTokenRepetition r =
                next_token_repetition(Samples{{1, 1}, {1, 1}}, Samples{{1, 2}, {5, 1}});
            CHECK(r.predictions == 4);
            CHECK(r.repeats == 1);
            CHECK(r.wrong_repeats == 1);
            CHECK(r.human_repeats == 0);
            CHECK(r.uniq == 1);
        }
        SUBCASE("edge cases") {
            const NextTokenRepetition empty = next_token_repetition(Tokens{}, Tokens{});
            CHECK(empty.predictions == 0);
            CHECK(empty.rep() == 0.0);
            CHECK(empty.uniq == 0);
            // One token repeated and always predicted: positions 1..3 repeat, none is wrong.
            const NextTokenRepetition same = next_token_repetition(Tokens(4, 7), Tokens(4, 7));
            CHECK(same.rep() == 0.75);
            CHECK(same.wrep() == 0.0);
            CHECK(same.human_rep() == 0.75);
            CHECK(same.uniq == 1);
            // l = 1: only the previous target counts.
            CHECK(next_token_repetition(Tokens{3, 3, 3}, Tokens{3, 4, 5}, 1).repeats == 1);
        }
        SUBCASE("matches a naive scan") {
            Rng rng(3);
            for (int trial = 0; trial < 20; ++trial) {
                const std::size_t T = rng.below(300);
                const Tokens p = random_tokens(rng, T, 20), y = random_tokens(rng, T, 20);
                for (const std::int64_t l : {1, 2, 16, 128, 1000})
                    check_equal(next_token_repetition(p, y, l), naive(p, y, l));
            }
        }
        SUBCASE("rejects bad arguments") {
            CHECK_THROWS_WITH_AS(
                next_token_repetition(Tokens{1, 2, 3, 4, 5}, Tokens{1, 2, 3, 4}),
                "next_token_repetition: predictions and targets differ in length: 5 and 4",
                ShapeError);
            CHECK_THROWS_WITH_AS(next_token_repetition(preds, targets, 0),
                                 "next_token_repetition: context must be at least 1, got 0",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(
                next_token_repetition(Samples{{1}, {2}, {3}}, Samples{{1}, {2}}),
                "next_token_repetition: 3 prediction sequences but 2 target sequences", ShapeError);
            CHECK_THROWS_WITH_AS(
                next_token_repetition(Samples{{1}, {1, 2, 3, 4, 5}}, Samples{{1}, {1, 2, 3, 4}}),
                "next_token_repetition: sequence 1: predictions and targets "
                "differ in length: 5 and 4",
                ShapeError);
            CHECK_THROWS_WITH_AS(next_token_repetition(Samples{{1}}, Samples{{1}}, -3),
                                 "next_token_repetition: context must be at least 1, got -3",
                                 ConfigError);
        }
    }
}
