#include "lab/lab_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/lab/diversity.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <set>

using namespace ouro;
using namespace ouro::lab;
using namespace ouro::testing;

namespace {

double naive_distinct(const Samples& samples, int n) {
    std::set<Tokens> distinct;
    std::size_t total = 0;
    for (const auto& t : samples)
        for (std::size_t i = 0; i + std::size_t(n) <= t.size(); ++i, ++total)
            distinct.insert(
                Tokens(t.begin() + std::ptrdiff_t(i), t.begin() + std::ptrdiff_t(i) + n));
    return total == 0 ? 0.0 : double(distinct.size()) / double(total);
}

// degen's distinct_n.py, written out: n-grams seen exactly once / all n-grams.
double naive_degen(const Samples& samples, int n) {
    std::map<Tokens, int> count;
    std::size_t total = 0;
    for (const auto& t : samples)
        for (std::size_t i = 0; i + std::size_t(n) <= t.size(); ++i, ++total)
            ++count[Tokens(t.begin() + std::ptrdiff_t(i), t.begin() + std::ptrdiff_t(i) + n)];
    std::size_t once = 0;
    for (const auto& [gram, c] : count)
        once += c == 1;
    return total == 0 ? 0.0 : double(once) / double(total);
}

// Tokens with the given counts: token i appears counts[i] times, spread over two samples.
Samples with_counts(const std::vector<int>& counts) {
    Samples s(2);
    for (std::size_t i = 0; i < counts.size(); ++i)
        for (int k = 0; k < counts[i]; ++k)
            s[std::size_t(k % 2)].push_back(std::int32_t(i));
    return s;
}

} // namespace

TEST_SUITE("lab") {
    TEST_CASE("distinct-n") {
        SUBCASE("worked example") {
            // A = 1 2 1 2, B = 1 2 3
            // bigrams: A 12 21 12, B 12 23: total 5, distinct {12, 21, 23} = 3: 3/5
            // unigrams: total 7, distinct {1, 2, 3} = 3: 3/7
            // A alone: bigrams 12 21 12: 2/3
            const Samples s = {{1, 2, 1, 2}, {1, 2, 3}};
            CHECK(distinct_n(s, 2) == doctest::Approx(0.6).epsilon(1e-15));
            CHECK(distinct_n(s, 1) == doctest::Approx(3.0 / 7.0).epsilon(1e-15));
            CHECK(distinct_n(Tokens{1, 2, 1, 2}, 2) == doctest::Approx(2.0 / 3.0).epsilon(1e-15));
            // No bigram crosses from A into B: 2 1 (A's end, B's start) is not counted.
            CHECK(distinct_n(Samples{{1, 2}, {1, 2}}, 2) == 0.5);
        }
        SUBCASE("edge cases") {
            CHECK(distinct_n(Samples{}, 2) == 0.0);
            CHECK(distinct_n(Samples{{1}, {2}}, 2) == 0.0);
            CHECK(distinct_n(Tokens{}, 1) == 0.0);
            CHECK(distinct_n(Tokens(5, 4), 1) == 0.2);
        }
        SUBCASE("matches a naive count, whatever the token ids") {
            Rng rng(31);
            for (int trial = 0; trial < 10; ++trial) {
                Samples s;
                for (std::size_t i = 0, S = rng.below(6); i < S; ++i)
                    s.push_back(random_tokens(rng, rng.below(100), 4));
                for (int n = 1; n <= 6; ++n) {
                    const double expected = naive_distinct(s, n);
                    CHECK(distinct_n(s, n) == expected);
                    CHECK(distinct_n(relabel(s, false), n) == expected);
                }
            }
        }
        SUBCASE("degen's variant counts the n-grams seen exactly once") {
            // Bigrams 12 21 12 12 23: seen once {21, 23}: 2/5 (distinct_n counts 12 too: 3/5).
            const Samples s = {{1, 2, 1, 2}, {1, 2, 3}};
            CHECK(distinct_n_degen(s, 2) == doctest::Approx(0.4).epsilon(1e-15));
            // Unigrams 1 2 1 2 1 2 3: only 3 is seen once: 1/7.
            CHECK(distinct_n_degen(s, 1) == doctest::Approx(1.0 / 7.0).epsilon(1e-15));
            // An n-gram seen three times leaves the count as it left it at two.
            CHECK(distinct_n_degen(Tokens{5, 5, 5, 6}, 1) == 0.25);
            CHECK(distinct_n_degen(Tokens{7, 8, 9}, 1) == 1.0);
            CHECK(distinct_n_degen(Samples{}, 2) == 0.0);
            CHECK(distinct_n_degen(Tokens{1}, 2) == 0.0);
            Rng rng(37);
            for (int trial = 0; trial < 10; ++trial) {
                Samples r;
                for (std::size_t i = 0, S = rng.below(6); i < S; ++i)
                    r.push_back(random_tokens(rng, rng.below(100), 4));
                for (int n = 1; n <= 4; ++n) {
                    CHECK(distinct_n_degen(r, n) == naive_degen(r, n));
                    CHECK(distinct_n_degen(relabel(r, false), n) == naive_degen(r, n));
                    CHECK(distinct_n_degen(r, n) <= distinct_n(r, n));
                }
            }
            CHECK_THROWS_WITH_AS(distinct_n_degen(Tokens{1}, 0),
                                 "distinct_n: n must be at least 1, got 0", ConfigError);
        }
        SUBCASE("rejects bad arguments") {
            CHECK_THROWS_WITH_AS(distinct_n(Samples{{1}}, 0),
                                 "distinct_n: n must be at least 1, got 0", ConfigError);
            CHECK_THROWS_WITH_AS(distinct_n(Tokens{1}, -1),
                                 "distinct_n: n must be at least 1, got -1", ConfigError);
        }
    }

    TEST_CASE("Zipf coefficient") {
        SUBCASE("exact Zipf counts give 1") {
            // counts 12, 6, 4, 3 = 12 / rank: log count = log 12 - log rank, slope -1, r = -1.
            const ZipfFit fit = zipf_coefficient(with_counts({3, 12, 4, 6}));
            CHECK(fit.types == 4);
            CHECK(fit.coefficient == doctest::Approx(1.0).epsilon(1e-14));
            CHECK(fit.r == doctest::Approx(-1.0).epsilon(1e-14));
        }
        SUBCASE("worked example of the least squares") {
            // counts 4, 2, 2; with a = ln 2, b = ln 3: x = ln rank = (0, a, b), y = ln count =
            // (2a, a, a). Means x = (a + b)/3, y = 4a/3.
            // dx = (-(a + b), 2a - b, 2b - a) / 3, dy = (2a, -a, -a) / 3
            // Sxy = (-2a(a + b) - a(2a - b) - a(2b - a)) / 9 = -a(a + b) / 3
            // Sxx = ((a + b)^2 + (2a - b)^2 + (2b - a)^2) / 9 = 2 (a^2 - ab + b^2) / 3
            // coefficient = -Sxy / Sxx = a (a + b) / (2 (a^2 - ab + b^2)) = 0.6707...
            // Syy = (4a^2 + a^2 + a^2) / 9 = 2a^2 / 3; r = Sxy / sqrt(Sxx Syy)
            const double a = std::log(2.0), b = std::log(3.0);
            const double sxy = -a * (a + b) / 3, sxx = 2 * (a * a - a * b + b * b) / 3;
            const double syy = 2 * a * a / 3;
            const ZipfFit fit = zipf_coefficient(with_counts({2, 4, 2}));
            CHECK(fit.coefficient == doctest::Approx(-sxy / sxx).epsilon(1e-14));
            CHECK(fit.r == doctest::Approx(sxy / std::sqrt(sxx * syy)).epsilon(1e-14));
        }
        SUBCASE("only the top types are fitted") {
            // A fifth type with count 1 bends the line; top_types = 4 leaves it out.
            const Samples s = with_counts({12, 6, 4, 3, 1});
            CHECK(zipf_coefficient(s, 4).coefficient == doctest::Approx(1.0).epsilon(1e-14));
            CHECK(zipf_coefficient(s, 4).types == 4);
            CHECK(zipf_coefficient(s).types == 5);
            CHECK(zipf_coefficient(s).coefficient > 1.0);
        }
        SUBCASE("edge cases") {
            // One type (one token repeated) or none: no slope.
            CHECK(std::isnan(zipf_coefficient(Samples{Tokens(10, 7)}).coefficient));
            CHECK(zipf_coefficient(Samples{Tokens(10, 7)}).types == 1);
            CHECK(std::isnan(zipf_coefficient(Samples{}).r));
            // Equal counts: slope 0, and r = 0 as scipy's linregress.
            const ZipfFit flat = zipf_coefficient(Samples{{1, 2, 3}});
            CHECK(flat.coefficient == 0.0);
            CHECK(flat.r == 0.0);
        }
        SUBCASE("rejects bad arguments") {
            CHECK_THROWS_WITH_AS(zipf_coefficient(Samples{{1}}, 0),
                                 "zipf_coefficient: top_types must be at least 1, got 0",
                                 ConfigError);
        }
    }
}
