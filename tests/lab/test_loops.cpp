#include "lab/lab_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/lab/loops.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::lab;
using namespace ouro::testing;

namespace {

// Naive reference: Holtzman et al.'s loop over n, comparing slices of the reversed sample.
HoltzmanRepetition naive_holtzman(const Tokens& gen, std::int64_t max_n) {
    if (gen.empty())
        return {};
    const Tokens rev(gen.rbegin(), gen.rend());
    const auto L = std::int64_t(rev.size());
    auto slice_equals_head = [&](std::int64_t from, std::int64_t n) {
        if (from + n > L)
            return false; // a partial copy does not count
        for (std::int64_t i = 0; i < n; ++i)
            if (rev[std::size_t(from + i)] != rev[std::size_t(i)])
                return false;
        return true;
    };
    HoltzmanRepetition best{false, 0, 0};
    for (std::int64_t n = 1; n <= max_n; ++n) {
        std::int64_t copies = 1;
        while (slice_equals_head(n * copies, n))
            ++copies;
        if (copies > best.copies) {
            best.copies = copies;
            best.phrase_length = n;
        }
    }
    best.repeating = best.copies > 1 && (best.phrase_length >= 3 || best.copies > 50);
    return best;
}

// Naive reference: try onsets from the left and periods from the shortest.
std::optional<Loop> naive_loop(const Tokens& t, std::int64_t min_copies) {
    const auto L = std::int64_t(t.size());
    for (std::int64_t s = 0; s < L; ++s)
        for (std::int64_t p = 1; min_copies * p <= L - s; ++p) {
            bool periodic = true;
            for (std::int64_t i = s; i + p < L && periodic; ++i)
                periodic = t[std::size_t(i)] == t[std::size_t(i + p)];
            if (periodic)
                return Loop{s, p, L - s};
        }
    return std::nullopt;
}

Tokens repeat(const Tokens& unit, int times) {
    Tokens out;
    for (int k = 0; k < times; ++k)
        out.insert(out.end(), unit.begin(), unit.end());
    return out;
}

// A random story of fewer than `story` tokens below `vocab`, then a random unit of 1 to `unit`
// tokens below 3 repeated fewer than `repeats` times: every branch of the loop rules occurs.
Tokens story_then_loop(Rng& rng, std::uint64_t story, std::int32_t vocab, std::uint64_t unit,
                       std::uint64_t repeats) {
    Tokens t = random_tokens(rng, rng.below(story), vocab);
    const Tokens u = random_tokens(rng, 1 + rng.below(unit), 3);
    const Tokens tail = repeat(u, int(rng.below(repeats)));
    t.insert(t.end(), tail.begin(), tail.end());
    return t;
}

} // namespace

TEST_SUITE("lab") {
    TEST_CASE("Holtzman et al. repetition") {
        SUBCASE("worked example") {
            // 1 2 3 1 2 3 1 2 3: copies of the last n tokens, read from the end:
            //   n = 1: "3", before it "2"            -> 1
            //   n = 2: "2 3", before it "3 1"        -> 1
            //   n = 3: "1 2 3" three times           -> 3
            //   n = 4..8: no second whole copy       -> 1; n >= 9: the whole sample, 1
            // most copies at n = 3: 3 > 1 and n >= 3 -> repeating
            CHECK(holtzman_repetition(Tokens{1, 2, 3, 1, 2, 3, 1, 2, 3}) ==
                  HoltzmanRepetition{true, 3, 3});
        }
        SUBCASE("more than once: two copies repeat, one does not") {
            CHECK(holtzman_repetition(Tokens{1, 2, 3, 1, 2, 3}) == HoltzmanRepetition{true, 3, 2});
            // No n has a second copy: n = 1 wins the tie at 1 copy.
            CHECK(holtzman_repetition(Tokens{9, 8, 1, 2, 3}) == HoltzmanRepetition{false, 1, 1});
            // Only whole copies count: "3 1 2" twice at the end, the 2 before them is partial.
            CHECK(holtzman_repetition(Tokens{2, 3, 1, 2, 3, 1, 2}) ==
                  HoltzmanRepetition{true, 3, 2});
        }
        SUBCASE("short phrases need more than 50 copies") {
            // One token 40 times: copies(1) = 40, copies(2) = 20, copies(3) = 13. The rule
            // looks at n = 1 only (most copies): 40 <= 50, so not repeating, although 13 copies
            // of a trigram would pass on their own.
            CHECK(holtzman_repetition(Tokens(40, 5)) == HoltzmanRepetition{false, 1, 40});
            CHECK(holtzman_repetition(Tokens(50, 5)) == HoltzmanRepetition{false, 1, 50});
            CHECK(holtzman_repetition(Tokens(51, 5)) == HoltzmanRepetition{true, 1, 51});
            // "1 2" 26 times: copies(2) = 26 <= 50; 51 times: 51 > 50.
            CHECK(holtzman_repetition(repeat({1, 2}, 26)) == HoltzmanRepetition{false, 2, 26});
            CHECK(holtzman_repetition(repeat({1, 2}, 51)) == HoltzmanRepetition{true, 2, 51});
        }
        SUBCASE("ties go to the smallest n") {
            // 9 1 1 9 1 1: copies(1) = 2 (1 1, then 9), copies(2) = 1 ("1 1" vs "1 9"),
            // copies(3) = 2 ("9 1 1" twice). n = 1 and n = 3 tie at 2; Python's max keeps n = 1,
            // whose 2 copies are not enough: not repeating.
            CHECK(holtzman_repetition(Tokens{9, 1, 1, 9, 1, 1}) == HoltzmanRepetition{false, 1, 2});
        }
        SUBCASE("max_n bounds the phrase length") {
            CHECK(holtzman_repetition(Tokens{1, 2, 3, 1, 2, 3}, 2) ==
                  HoltzmanRepetition{false, 1, 1});
        }
        SUBCASE("edge cases") {
            CHECK(holtzman_repetition(Tokens{}) == HoltzmanRepetition{false, 0, 0});
            CHECK(holtzman_repetition(Tokens{4}) == HoltzmanRepetition{false, 1, 1});
        }
        SUBCASE("percentage over samples") {
            // repeating, not (40 <= 50), not, repeating (60 > 50): 2 of 4 = 50%
            const Samples s = {{1, 2, 3, 1, 2, 3}, Tokens(40, 5), {1, 2, 3, 4}, Tokens(60, 5)};
            CHECK(holtzman_repetition_percent(s) == 50.0);
            CHECK(holtzman_repetition_percent(Samples{{}}) == 0.0);
        }
        SUBCASE("matches their loop over n") {
            Rng rng(17);
            for (int trial = 0; trial < 200; ++trial) {
                const Tokens t = story_then_loop(rng, 20, 5, 4, 70);
                for (const std::int64_t max_n : {1, 3, 90})
                    CHECK(holtzman_repetition(t, max_n) == naive_holtzman(t, max_n));
            }
        }
        SUBCASE("rejects bad arguments") {
            CHECK_THROWS_WITH_AS(holtzman_repetition(Tokens{1}, 0),
                                 "holtzman_repetition: max_n must be at least 1, got 0",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(holtzman_repetition_percent(Samples{}),
                                 "holtzman_repetition_percent: no samples", ConfigError);
            CHECK_THROWS_WITH_AS(holtzman_repetition_percent(Samples{{1}}, -1),
                                 "holtzman_repetition_percent: max_n must be at least 1, got -1",
                                 ConfigError);
        }
    }

    TEST_CASE("loop onset and period") {
        SUBCASE("worked example: the onset falls mid-unit") {
            // position  0 1 2 3 4 5 6 7
            // token     9 3 1 2 3 1 2 3
            // Period 3: tokens 1..4 equal the tokens three later (3=3, 1=1, 2=2, 3=3); token 0
            // (9) differs from token 3 (2). The 3-periodic suffix is positions 1..7: 7 tokens,
            // at least 2 periods. Periods 1, 2 and 4 give no loop: token 7 (3) differs from
            // token 6 (2), token 5 (1) and token 3 (2), so their periodic suffixes hold 1, 2 and
            // 4 tokens, less than 2 periods. So the loop starts at position 1 with unit "3 1 2",
            // although a reader might see "1 2 3" as the phrase.
            CHECK(find_loop(Tokens{9, 3, 1, 2, 3, 1, 2, 3}) == Loop{1, 3, 7});
        }
        SUBCASE("a story that falls into a loop") {
            // 10 .. 15, then "20 21" four times: token 5 (15) differs from token 7 (21).
            CHECK(find_loop(Tokens{10, 11, 12, 13, 14, 15, 20, 21, 20, 21, 20, 21, 20, 21}) ==
                  Loop{6, 2, 8});
        }
        SUBCASE("the earliest onset wins over the shortest period") {
            // "a a b" repeated from 0 (and ending in "a a"); "a a" alone at the end is a loop of
            // period 1 from position 9, but the period-3 loop starts earlier.
            CHECK(find_loop(Tokens{1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1}) == Loop{0, 3, 11});
            // The same rule on Holtzman's tie example.
            CHECK(find_loop(Tokens{9, 1, 1, 9, 1, 1}) == Loop{0, 3, 6});
            // A loop may end part-way through its unit.
            CHECK(find_loop(Tokens{1, 2, 3, 1, 2, 3, 1, 2}) == Loop{0, 3, 8});
        }
        SUBCASE("min_copies") {
            // "2 2" at the end is two copies of a period-1 unit; three are asked for next.
            CHECK(find_loop(Tokens{1, 2, 3, 4, 2, 2}) == Loop{4, 1, 2});
            CHECK_FALSE(find_loop(Tokens{1, 2, 3, 4, 2, 2}, 3).has_value());
            // With 3 copies required the period-3 loop needs 9 tokens: 8 is one short.
            CHECK_FALSE(find_loop(Tokens{1, 2, 3, 1, 2, 3, 1, 2}, 3).has_value());
            CHECK(find_loop(Tokens{1, 2, 3, 1, 2, 3, 1, 2, 3}, 3) == Loop{0, 3, 9});
        }
        SUBCASE("edge cases: no loop, one token repeated") {
            CHECK_FALSE(find_loop(Tokens{}).has_value());
            CHECK_FALSE(find_loop(Tokens{1}).has_value());
            CHECK_FALSE(find_loop(Tokens{1, 2, 3, 4, 5}).has_value());
            CHECK_FALSE(find_loop(Tokens{1, 2, 1}).has_value());
            CHECK(find_loop(Tokens(4, 7)) == Loop{0, 1, 4});
        }
        SUBCASE("matches a search over onsets and periods") {
            Rng rng(23);
            for (int trial = 0; trial < 300; ++trial) {
                Tokens t = story_then_loop(rng, 12, 4, 5, 5);
                t.resize(t.size() - std::min<std::size_t>(t.size(), rng.below(3)));
                for (const std::int64_t c : {2, 3, 4})
                    CHECK(find_loop(t, c) == naive_loop(t, c));
            }
        }
        SUBCASE("rejects bad arguments") {
            CHECK_THROWS_WITH_AS(find_loop(Tokens{1, 1}, 1),
                                 "find_loop: min_copies must be at least 2, got 1", ConfigError);
        }
    }
}
