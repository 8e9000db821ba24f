// lib/numerics/logit_stats.hpp: the raw-logit statistics that the sampler, the searches, the
// trace and teacher forcing report.
#include "numerics/logit_stats.hpp"

#include "numerics/exp.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

using namespace ouro::numerics;

namespace {

constexpr float inf = std::numeric_limits<float>::infinity();

// softmax in long double with libm, for comparison.
std::vector<double> exact_softmax(const std::vector<float>& z) {
    long double m = -INFINITY, s = 0;
    for (float v : z)
        m = std::max(m, (long double)v);
    for (float v : z)
        s += std::exp((long double)v - m);
    std::vector<double> p;
    for (float v : z)
        p.push_back(double(std::exp((long double)v - m) / s));
    return p;
}

} // namespace

TEST_SUITE("numerics") {
    TEST_CASE("logit_stats") {
        SUBCASE("hand-worked distribution") {
            // logits (ln 1, ln 2, ln 1) -> p = (1/4, 1/2, 1/4), H = 1.5 ln 2.
            const std::vector<float> z{0.0f, float(std::log(2.0)), 0.0f};
            const LogitStats s = logit_stats(z, 2, 1);
            CHECK(s.prob == doctest::Approx(0.25).epsilon(1e-7));
            CHECK(s.log_prob == doctest::Approx(std::log(0.25)).epsilon(1e-7));
            CHECK(s.entropy == doctest::Approx(1.5 * std::log(2.0)).epsilon(1e-7));
            CHECK(s.p_max == doctest::Approx(0.5).epsilon(1e-7));
            CHECK(s.p_end == doctest::Approx(0.5).epsilon(1e-7));
            CHECK(s.rank == 2); // behind token 1, and behind token 0 (equal logit, lower id)
            REQUIRE(s.top.size() == 3);
            CHECK(s.top[0].first == 1);
            CHECK(s.top[1].first == 0);
            CHECK(s.top[2].first == 2);
            CHECK(s.top[1].second == s.prob);
            CHECK(std::isnan(logit_stats(z, 2, -1).p_end));
            CHECK(std::isnan(logit_stats(z, 2, 3).p_end));
        }
        SUBCASE("matches an exact softmax over a large vocabulary") {
            std::vector<float> z(5003);
            for (std::size_t i = 0; i < z.size(); ++i)
                z[i] = float(std::sin(0.7 * double(i)) * 4.0 + std::cos(0.013 * double(i)));
            z[17] = -inf; // a banned token: probability 0, never in the top five
            const std::vector<double> p = exact_softmax(z);
            const std::int32_t token = 4000, end = 5002;
            const LogitStats s = logit_stats(z, token, end);
            double h = 0.0, pmax = 0.0;
            std::int64_t rank = 0;
            for (std::size_t i = 0; i < z.size(); ++i) {
                if (p[i] > 0)
                    h -= p[i] * std::log(p[i]);
                pmax = std::max(pmax, p[i]);
                rank += z[i] > z[token] || (z[i] == z[token] && std::int32_t(i) < token);
            }
            CHECK(s.prob == doctest::Approx(p[token]).epsilon(1e-6));
            CHECK(s.log_prob == doctest::Approx(std::log(p[token])).epsilon(1e-7));
            CHECK(s.entropy == doctest::Approx(h).epsilon(1e-6));
            CHECK(s.p_max == doctest::Approx(pmax).epsilon(1e-6));
            CHECK(s.p_end == doctest::Approx(p[end]).epsilon(1e-6));
            CHECK(s.rank == rank);
            REQUIRE(s.top.size() == 5);
            for (int k = 0; k < 5; ++k) {
                const std::int32_t id = s.top[std::size_t(k)].first;
                CHECK(s.top[std::size_t(k)].second == doctest::Approx(p[id]).epsilon(1e-6));
                if (k > 0)
                    CHECK(z[id] <= z[s.top[std::size_t(k - 1)].first]);
            }
            CHECK(s.top[0].second == s.p_max);
        }
        SUBCASE("ties keep the lower id first; -inf logits never enter the top") {
            const std::vector<float> z{1.0f, 2.0f, 2.0f, -inf, 2.0f, 0.5f, -inf};
            const LogitStats s = logit_stats(z, 4, -1);
            CHECK(s.rank == 2);
            REQUIRE(s.top.size() == 5);
            const std::int32_t expected[5] = {1, 2, 4, 0, 5};
            for (int k = 0; k < 5; ++k)
                CHECK(s.top[std::size_t(k)].first == expected[k]);
            const LogitStats few = logit_stats(std::vector<float>{0.0f, -inf, 1.0f}, 0, -1);
            CHECK(few.top.size() == 2);
        }
        SUBCASE("top_n chooses how many alternatives: the first k of a longer list") {
            std::vector<float> z(1000);
            for (std::size_t i = 0; i < z.size(); ++i)
                z[i] = float(std::sin(0.37 * double(i)) * 6.0 + 0.001 * double(i % 7));
            z[20] = z[21] = 9.0f; // a tie at the top: the lower id first
            const LogitStats all = logit_stats(z, 3, -1, 40);
            REQUIRE(all.top.size() == 40);
            CHECK(all.top[0].first == 20);
            CHECK(all.top[1].first == 21);
            for (std::size_t k = 1; k < all.top.size(); ++k)
                CHECK(z[std::size_t(all.top[k].first)] <= z[std::size_t(all.top[k - 1].first)]);
            for (const std::int64_t n : {0, 1, 5, 17}) {
                const LogitStats s = logit_stats(z, 3, -1, n);
                REQUIRE(s.top.size() == std::size_t(n));
                for (std::size_t k = 0; k < s.top.size(); ++k)
                    CHECK(s.top[k] == all.top[k]);
                // The other statistics do not depend on top_n.
                CHECK(s.prob == all.prob);
                CHECK(s.entropy == all.entropy);
                CHECK(s.rank == all.rank);
            }
            // More than V: every finite logit, best first.
            const std::vector<float> small{0.5f, -inf, 2.0f};
            const LogitStats s = logit_stats(small, 0, -1, 10);
            REQUIRE(s.top.size() == 2);
            CHECK(s.top[0].first == 2);
            CHECK(s.top[1].first == 0);
        }
        SUBCASE("token_probability is logit_stats' prob, bit for bit") {
            std::vector<float> z(777);
            for (std::size_t i = 0; i < z.size(); ++i)
                z[i] = float(std::sin(1.3 * double(i)) * 9.0);
            for (std::int32_t t : {0, 5, 256, 776})
                CHECK(token_probability(z, t) == logit_stats(z, t, -1).prob);
            CHECK(token_probability(z, 9) == logit_stats(z, 3, 9).p_end);
        }
        SUBCASE("log_probabilities are logit_stats' log_prob, bit for bit") {
            std::vector<float> z(300);
            for (std::size_t i = 0; i < z.size(); ++i)
                z[i] = float(std::cos(2.1 * double(i)) * 7.0);
            z[4] = -inf;
            std::vector<double> lp{1.0, 2.0}; // resized
            log_probabilities(z, lp);
            REQUIRE(lp.size() == z.size());
            for (std::int32_t t : {0, 4, 99, 299})
                CHECK(lp[std::size_t(t)] == logit_stats(z, t, -1).log_prob);
            CHECK(lp[4] == -inf);
            double total = 0.0;
            for (double v : lp)
                total += std::exp(v);
            CHECK(total == doctest::Approx(1.0).epsilon(1e-6));
        }
    }
}
