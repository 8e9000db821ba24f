#include "gen/gen_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/gen/truncation.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <limits>
#include <vector>

using namespace ouro;
using namespace ouro::gen;
using namespace ouro::testing;

namespace {

// The ids a stage keeps of the distribution p.
template <typename Stage> Ids survivors(std::initializer_list<double> p, Stage stage) {
    CandidateSet c = candidates(logits_of(p));
    stage(c);
    return ids_of(c);
}

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("temperature") {
        // z / T with T a power of two is exact.
        CandidateSet c = candidates({2.0f, -1.0f, 0.5f});
        temperature(c, 0.5);
        CHECK(c.logits()[0] == 4.0f);
        CHECK(c.logits()[1] == -2.0f);
        CHECK(c.logits()[2] == 1.0f);
        temperature(c, 4.0);
        CHECK(c.logits()[0] == 1.0f);
        CHECK(c.logits()[1] == -0.5f);
        CHECK(c.logits()[2] == 0.25f);
        CHECK_THROWS_WITH_AS(temperature(c, 0.0), "sampler: temperature must be > 0, got 0",
                             ConfigError);
        CHECK_THROWS_WITH_AS(temperature(c, -1.5), "sampler: temperature must be > 0, got -1.5",
                             ConfigError);
    }

    TEST_CASE("top_k") {
        // p = (0.4, 0.3, 0.2, 0.1): k = 2 keeps the two largest.
        CHECK(survivors({0.4, 0.3, 0.2, 0.1}, [](CandidateSet& c) { top_k(c, 2); }) == Ids{0, 1});
        // Ties with the k-th: (0.4, 0.2, 0.2, 0.2), k = 2 keeps all three 0.2s.
        CHECK(survivors({0.4, 0.2, 0.2, 0.2}, [](CandidateSet& c) { top_k(c, 2); }) ==
              Ids{0, 1, 2, 3});
        CHECK(survivors({0.4, 0.3, 0.2, 0.1}, [](CandidateSet& c) { top_k(c, 0); }) ==
              Ids{0, 1, 2, 3});
        CandidateSet c = candidates({0.0f});
        CHECK_THROWS_WITH_AS(top_k(c, -1), "sampler: top_k must be >= 0, got -1", ConfigError);
    }

    TEST_CASE("top_p") {
        // p = (0.4, 0.3, 0.2, 0.1), cumulative 0.4, 0.7, 0.9, 1.0. The token that crosses p is
        // kept: p = 0.6 is crossed by token 1 (0.4 < 0.6 <= 0.7); p = 0.75 by token 2.
        const auto top_p_of = [](double p) { return [p](CandidateSet& c) { top_p(c, p); }; };
        CHECK(survivors({0.4, 0.3, 0.2, 0.1}, top_p_of(0.6)) == Ids{0, 1});
        CHECK(survivors({0.4, 0.3, 0.2, 0.1}, top_p_of(0.75)) == Ids{0, 1, 2});
        CHECK(survivors({0.4, 0.3, 0.2, 0.1}, top_p_of(0.35)) == Ids{0});
        CHECK(survivors({0.4, 0.3, 0.2, 0.1}, top_p_of(1.0)) == Ids{0, 1, 2, 3});
        // Ties at the crossing: p = (0.4, 0.2, 0.2, 0.1, 0.1). p = 0.5 is crossed by the first
        // 0.2 (0.4 < 0.5 <= 0.6); its twin is kept too. p = 0.85 is crossed by the first 0.1
        // (0.8 < 0.85 <= 0.9); its twin is kept, so everything stays.
        CHECK(survivors({0.4, 0.2, 0.2, 0.1, 0.1}, top_p_of(0.5)) == Ids{0, 1, 2});
        CHECK(survivors({0.4, 0.2, 0.2, 0.1, 0.1}, top_p_of(0.85)) == Ids{0, 1, 2, 3, 4});
        CandidateSet c = candidates({0.0f});
        CHECK_THROWS_WITH_AS(top_p(c, 0.0), "sampler: top_p must be in (0, 1], got 0", ConfigError);
        CHECK_THROWS_WITH_AS(top_p(c, 1.5), "sampler: top_p must be in (0, 1], got 1.5",
                             ConfigError);
    }

    TEST_CASE("min_p") {
        // p = (0.5, 0.3, 0.15, 0.05), p_max = 0.5. min_p 0.2: drop p < 0.1, keeps 0, 1, 2;
        // min_p 0.35: drop p < 0.175, keeps 0, 1; min_p 1 keeps the argmax only.
        const auto min_p_of = [](double m) { return [m](CandidateSet& c) { min_p(c, m); }; };
        CHECK(survivors({0.5, 0.3, 0.15, 0.05}, min_p_of(0.2)) == Ids{0, 1, 2});
        CHECK(survivors({0.5, 0.3, 0.15, 0.05}, min_p_of(0.35)) == Ids{0, 1});
        CHECK(survivors({0.5, 0.3, 0.15, 0.05}, min_p_of(1.0)) == Ids{0});
        CHECK(survivors({0.5, 0.3, 0.15, 0.05}, min_p_of(0.0)) == Ids{0, 1, 2, 3});
        CandidateSet c = candidates({0.0f});
        CHECK_THROWS_WITH_AS(min_p(c, 1.5), "sampler: min_p must be in [0, 1], got 1.5",
                             ConfigError);
        CHECK_THROWS_WITH_AS(min_p(c, -0.1), "sampler: min_p must be in [0, 1], got -0.1",
                             ConfigError);
    }

    TEST_CASE("typical") {
        // p = (0.5, 0.25, 0.125, 0.125), H = 1.75 ln 2. -log p = (1, 2, 3, 3) ln 2, so
        // |-log p - H| = (0.75, 0.25, 1.25, 1.25) ln 2: the order is token 1, token 0, then
        // tokens 2 and 3 tied. Masses along it: 0.25, 0.75, 0.875, 1.
        const auto typical_of = [](double t) { return [t](CandidateSet& c) { typical(c, t); }; };
        CHECK(survivors({0.5, 0.25, 0.125, 0.125}, typical_of(0.2)) == Ids{1}); // drops argmax
        CHECK(survivors({0.5, 0.25, 0.125, 0.125}, typical_of(0.5)) == Ids{0, 1});
        // 0.8 is crossed by token 2 (0.75 < 0.8 <= 0.875); token 3 ties with it.
        CHECK(survivors({0.5, 0.25, 0.125, 0.125}, typical_of(0.8)) == Ids{0, 1, 2, 3});
        CandidateSet c = candidates({0.0f});
        CHECK_THROWS_WITH_AS(typical(c, 0.0), "sampler: typical must be in (0, 1], got 0",
                             ConfigError);

        SUBCASE("matches the reference on long lists") {
            for (const std::int64_t V : {50257, 1000})
                for (const double sigma : {3.0, 0.5})
                    for (const double tau : {0.2, 0.9, 0.95}) {
                        CAPTURE(V);
                        CAPTURE(sigma);
                        CAPTURE(tau);
                        const std::vector<float> z = random_logits(V, sigma, 7);
                        CandidateSet d = candidates(z);
                        typical(d, tau);
                        CHECK(ids_of(d) == typical_reference(z, tau));
                        // After a top-k the list is short and sorted: the small-list path.
                        d = candidates(z);
                        top_k(d, 200);
                        typical(d, tau);
                        const std::vector<std::int32_t> kept = keep_top_reference(z, 200, 1.0);
                        std::vector<float> zk;
                        for (const std::int32_t id : kept)
                            zk.push_back(z[std::size_t(id)]);
                        std::vector<std::int32_t> expected;
                        for (const std::int32_t i : typical_reference(zk, tau))
                            expected.push_back(kept[std::size_t(i)]);
                        CHECK(ids_of(d) == expected);
                    }
        }
    }

    TEST_CASE("epsilon") {
        // p = (0.5, 0.3, 0.15, 0.05): eps 0.1 drops 0.05; eps 0.6 would drop everything, so the
        // most probable token stays.
        const auto eps_of = [](double e) { return [e](CandidateSet& c) { epsilon(c, e); }; };
        CHECK(survivors({0.5, 0.3, 0.15, 0.05}, eps_of(0.1)) == Ids{0, 1, 2});
        CHECK(survivors({0.5, 0.3, 0.15, 0.05}, eps_of(0.6)) == Ids{0});
        CandidateSet c = candidates({0.0f});
        CHECK_THROWS_WITH_AS(epsilon(c, 1.0), "sampler: epsilon must be in [0, 1), got 1",
                             ConfigError);
    }

    TEST_CASE("eta") {
        const auto eta_of = [](double e) { return [e](CandidateSet& c) { eta(c, e); }; };
        // p = (0.5, 0.25, 0.125, 0.125), H = 1.75 ln 2, exp(-H) = 2^-1.75 = 0.29730.
        // eta 0.2: min(0.2, sqrt(0.2) * 0.29730 = 0.13296) = 0.133 drops both 0.125s.
        // eta 0.1: min(0.1, 0.31623 * 0.29730 = 0.09402) = 0.094 drops nothing.
        CHECK(survivors({0.5, 0.25, 0.125, 0.125}, eta_of(0.2)) == Ids{0, 1});
        CHECK(survivors({0.5, 0.25, 0.125, 0.125}, eta_of(0.1)) == Ids{0, 1, 2, 3});
        // p = (0.9, 0.05, 0.03, 0.02): H = 0.9 * 0.10536 + 0.05 * 2.99573 + 0.03 * 3.50656
        // + 0.02 * 3.91202 = 0.42805, exp(-H) = 0.65178. eta 0.04: min(0.04, 0.2 * 0.65178)
        // = 0.04 (eta itself binds) drops 0.03 and 0.02.
        CHECK(survivors({0.9, 0.05, 0.03, 0.02}, eta_of(0.04)) == Ids{0, 1});
        CandidateSet c = candidates({0.0f});
        CHECK_THROWS_WITH_AS(eta(c, -0.5), "sampler: eta must be in [0, 1), got -0.5", ConfigError);
    }

    TEST_CASE("top_n_sigma") {
        // z = (4, 3, 1, 0): mean 2, variance (4 + 1 + 1 + 4) / 4 = 2.5, sigma = 1.58114.
        // n = 1: keep z >= 2.419 -> 0, 1; n = 2: z >= 0.838 -> 0, 1, 2; n = 3: z >= -0.743 -> all.
        const std::vector<float> z = {4.0f, 3.0f, 1.0f, 0.0f};
        for (const auto& [n, expected] : {std::pair{1.0, Ids{0, 1}}, std::pair{2.0, Ids{0, 1, 2}},
                                          std::pair{3.0, Ids{0, 1, 2, 3}}}) {
            CandidateSet c = candidates(z);
            top_n_sigma(c, n);
            CHECK(ids_of(c) == expected);
        }
        // A banned token is left out of the statistics: (4, 3, 1, 0, -inf) gives the same.
        CandidateSet c = candidates({4.0f, 3.0f, 1.0f, 0.0f, -inf});
        top_n_sigma(c, 1.0);
        CHECK(ids_of(c) == Ids{0, 1});
        CHECK_THROWS_WITH_AS(top_n_sigma(c, -1.0), "sampler: top_n_sigma must be >= 0, got -1",
                             ConfigError);
    }

    TEST_CASE("xtc") {
        const std::vector<float> z = logits_of({0.5, 0.3, 0.15, 0.05});
        Rng rng(1);
        // Probability 1: always. threshold 0.1: tokens 0, 1, 2 have p >= 0.1; all but the least
        // likely of them (2) go.
        CandidateSet c = candidates(z);
        CHECK(xtc(c, 1.0, 0.1, rng));
        CHECK(ids_of(c) == Ids{2, 3});
        // threshold 0.2: tokens 0 and 1 qualify; 1 stays.
        c = candidates(z);
        CHECK(xtc(c, 1.0, 0.2, rng));
        CHECK(ids_of(c) == Ids{1, 2, 3});
        // threshold 0.4: only token 0 qualifies, and one is not enough.
        c = candidates(z);
        CHECK_FALSE(xtc(c, 1.0, 0.4, rng));
        CHECK(c.size() == 4);
        // The least likely of the top choices keeps its ties: (0.4, 0.2, 0.2, 0.2), threshold
        // 0.15 drops token 0 only.
        c = candidates(logits_of({0.4, 0.2, 0.2, 0.2}));
        CHECK(xtc(c, 1.0, 0.15, rng));
        CHECK(ids_of(c) == Ids{1, 2, 3});

        SUBCASE("applies with the probability given, one uniform per call") {
            // With probability 0.5 the stage fires exactly when the Rng's next uniform is < 0.5.
            Rng r(2024);
            int fired = 0;
            for (int i = 0; i < 40; ++i) {
                Rng copy = r;
                const bool expected = copy.uniform() < 0.5;
                CandidateSet d = candidates(z);
                CHECK(xtc(d, 0.5, 0.1, r) == expected);
                CHECK(r.state() == copy.state()); // exactly one draw
                CHECK(d.size() == (expected ? 2 : 4));
                fired += expected;
            }
            CHECK(fired > 5);
            CHECK(fired < 35);
            // Probability 0 draws nothing.
            const std::uint64_t before = r.state();
            CandidateSet d = candidates(z);
            CHECK_FALSE(xtc(d, 0.0, 0.1, r));
            CHECK(r.state() == before);
        }
        CHECK_THROWS_WITH_AS(xtc(c, 1.5, 0.1, rng),
                             "sampler: xtc_probability must be in [0, 1], got 1.5", ConfigError);
        CHECK_THROWS_WITH_AS(xtc(c, 0.5, 0.0, rng),
                             "sampler: xtc_threshold must be in (0, 1], got 0", ConfigError);
    }

    TEST_CASE("greedy and multinomial selection") {
        CandidateSet c = candidates({1.0f, 3.0f, 3.0f, -inf});
        CHECK(select_greedy(c) == 1);

        SUBCASE("sampled frequencies match the distribution") {
            // p = (0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.05, 0.02); 200,000 draws. Pearson's
            // chi-square with 7 degrees of freedom exceeds 24.3 with probability 0.001.
            const std::array<double, 8> p = {0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.05, 0.02};
            CandidateSet d = candidates(logits_of({0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.05, 0.02}));
            Rng rng(99);
            std::array<int, 8> seen{};
            const int N = 200000;
            for (int i = 0; i < N; ++i)
                ++seen[std::size_t(select_sample(d, rng))];
            double chi2 = 0.0;
            for (std::size_t i = 0; i < p.size(); ++i)
                chi2 += (seen[i] - N * p[i]) * (seen[i] - N * p[i]) / (N * p[i]);
            CAPTURE(chi2);
            CHECK(chi2 < 24.3);
        }
    }
}
