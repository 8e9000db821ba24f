#include "gen/gen_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/gen/sampler.hpp>
#include <ouro/gen/truncation.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::gen;
using namespace ouro::testing;

TEST_SUITE("gen") {
    TEST_CASE("mirostat v2") {
        // p = (0.5, 0.25, 0.125, 0.125): surprises s = -log2 p = (1, 2, 3, 3) bits.
        // tau = 1.25, eta = 1: mu starts at 2.5, which keeps tokens 0 and 1 (p renormalised to
        // 2/3, 1/3).
        const std::vector<float> z = logits_of({0.5, 0.25, 0.125, 0.125});
        SUBCASE("one step worked by hand, for both updates") {
            // llama.cpp's update takes the renormalised surprise: token 0 gives
            // mu = 2.5 - (-log2(2/3) - 1.25) = 3.165, token 1 mu = 2.5 - (-log2(1/3) - 1.25)
            // = 2.165. The paper's takes the raw one: token 0 gives 2.5 - (1 - 1.25) = 2.75,
            // token 1 gives 2.5 - (2 - 1.25) = 1.75.
            for (const MirostatSurprise kind : {MirostatSurprise::truncated, MirostatSurprise::raw})
                for (const std::uint64_t seed : {1, 2, 3, 4, 5, 6}) {
                    const std::string name = to_string(kind);
                    CAPTURE(name);
                    Rng rng(seed), copy(seed);
                    const bool first = copy.uniform() < 2.0 / 3.0; // u against (2/3, 1/3)
                    MirostatV2 m(1.25, 1.0, kind);
                    CHECK(m.mu() == 2.5);
                    CandidateSet c = candidates(z);
                    const std::int64_t pos = m.select(c, rng);
                    CHECK(c.size() == 2);
                    CHECK(c.ids()[std::size_t(pos)] == (first ? 0 : 1));
                    const double s = kind == MirostatSurprise::raw
                                         ? (first ? 1.0 : 2.0)
                                         : -std::log2(first ? 2.0 / 3.0 : 1.0 / 3.0);
                    CHECK(m.mu() == doctest::Approx(2.5 - (s - 1.25)).epsilon(1e-6));
                }
            CHECK(MirostatV2(1.0, 1.0).surprise() == MirostatSurprise::truncated);
        }
        SUBCASE("50 steps, each worked from mu") {
            // tau = 1.2345, so that mu never lands on a surprise, where float rounding would
            // decide.
            const double tau = 1.2345;
            const double surprise[] = {1.0, 2.0, 3.0, 3.0};
            for (const MirostatSurprise kind :
                 {MirostatSurprise::truncated, MirostatSurprise::raw}) {
                const std::string name = to_string(kind);
                CAPTURE(name);
                MirostatV2 m(tau, 1.0, kind);
                Rng rng(5);
                double mu = 2.0 * tau;
                for (int step = 0; step < 50; ++step) {
                    // The kept set is {s <= mu} (at least token 0), then u against the
                    // renormalised cumulative probabilities.
                    double kept_mass = 0.0;
                    for (int i = 0; i < 4; ++i)
                        if (surprise[i] <= mu || i == 0)
                            kept_mass += std::exp2(-surprise[i]);
                    Rng copy = rng;
                    const double u = copy.uniform() * kept_mass;
                    int expected = 0;
                    for (double cum = 0.0; expected < 4; ++expected) {
                        cum += std::exp2(-surprise[expected]);
                        if (cum > u)
                            break;
                    }
                    CandidateSet c = candidates(z);
                    const std::int64_t pos = m.select(c, rng);
                    CHECK(c.ids()[std::size_t(pos)] == expected);
                    // -log2(p / kept) = s + log2(kept) for the renormalised surprise.
                    const double s = surprise[expected] +
                                     (kind == MirostatSurprise::raw ? 0.0 : std::log2(kept_mass));
                    mu -= 1.0 * (s - tau);
                    CHECK(m.mu() == doctest::Approx(mu).epsilon(1e-6));
                }
                m.reset();
                CHECK(m.mu() == 2.0 * tau);
            }
        }
        SUBCASE("on a wide distribution llama.cpp's update holds mu, the paper's collapses it") {
            // 4096 logits from N(0, 1): even the best token has a surprise of about 7.7 bits,
            // above tau = 5, so under the raw update mu only falls and decoding turns greedy;
            // the renormalised update settles where about 2^5 tokens are kept.
            const std::vector<float> z4096 = random_logits(4096, 1.0, 11);
            for (const MirostatSurprise kind :
                 {MirostatSurprise::truncated, MirostatSurprise::raw}) {
                const std::string name = to_string(kind);
                CAPTURE(name);
                MirostatV2 m(5.0, 0.1, kind);
                Rng rng(3);
                std::int64_t kept_sum = 0, kept_last = 0;
                for (int step = 0; step < 100; ++step) {
                    CandidateSet c = candidates(z4096);
                    m.select(c, rng);
                    if (step >= 50)
                        kept_sum += c.size();
                    kept_last = c.size();
                }
                const double kept = double(kept_sum) / 50.0;
                MESSAGE(name << ": mu " << m.mu() << " after 100 steps, " << kept
                             << " tokens kept on average over the last 50");
                if (kind == MirostatSurprise::truncated) {
                    CHECK(m.mu() > 8.5);
                    CHECK(m.mu() < 10.5);
                    CHECK(kept > 10.0);
                    CHECK(kept < 100.0);
                } else {
                    CHECK(m.mu() < -10.0);
                    CHECK(kept_last == 1);
                }
            }
        }
        SUBCASE("settings, names and the chain's description") {
            CHECK_THROWS_WITH_AS(MirostatV2(0.0, 0.1), "sampler: mirostat_tau must be > 0, got 0",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(MirostatV2(5.0, -1.0), "sampler: mirostat_eta must be > 0, got -1",
                                 ConfigError);
            CHECK(parse_mirostat_surprise("raw") == MirostatSurprise::raw);
            CHECK(parse_mirostat_surprise("truncated") == MirostatSurprise::truncated);
            CHECK(std::string(to_string(MirostatSurprise::raw)) == "raw");
            CHECK_THROWS_WITH_AS(parse_mirostat_surprise("paper"),
                                 "sampler: unknown mirostat surprise 'paper' (expected truncated "
                                 "or raw)",
                                 ConfigError);
            SamplerSettings s;
            s.mirostat = true;
            CHECK(SamplerChain::from_settings(s).describe() == "mirostat_v2(tau 5, eta 0.1)");
            s.mirostat_surprise = MirostatSurprise::raw;
            CHECK(SamplerChain::from_settings(s).describe() ==
                  "mirostat_v2(tau 5, eta 0.1, raw surprise)");
        }
    }
}
