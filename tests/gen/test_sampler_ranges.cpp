// Samplers near the float range: stages that could turn a finite logit into +inf (a temperature
// below 1 on a logit near FLT_MAX, a repetition penalty below 1, negative frequency or presence
// penalties, a large logit bias) used to make the weights NaN, after which the draw returned -1
// and the chain read id_[-1]. Each now gives a valid token or a ConfigError naming the stage.
#include "gen/gen_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/gen/penalties.hpp>
#include <ouro/gen/sampler.hpp>
#include <ouro/gen/truncation.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace ouro;
using namespace ouro::gen;
using namespace ouro::testing;

namespace {

// The audit's reproducer.
const std::vector<float> huge = {3e38f, 1e38f, -2e38f, 0.0f, 1.0f};

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("samplers near the float range") {
        SUBCASE("temperature below 1 on logits near FLT_MAX keeps the distribution") {
            // z / 0.1 would be (inf, inf, -inf, 0, 10); shifted by the maximum first it is
            // (0, -inf, -inf, -inf, -inf): token 0 has all the mass, as it has in exact maths.
            CandidateSet c = candidates(huge);
            temperature(c, 0.1);
            CHECK(std::vector<float>(c.logits().begin(), c.logits().end()) ==
                  std::vector<float>{0.0f, -inf, -inf, -inf, -inf});
            CHECK(c.probability(0) == 1.0);
            for (const char* order : {"", "temperature,top_k,top_p", "top_p,temperature"}) {
                SamplerSettings s;
                s.temperature = 0.1;
                s.top_p = 0.9;
                SamplerChain chain = SamplerChain::from_settings(s, order);
                for (std::uint64_t seed = 1; seed <= 20; ++seed) {
                    Rng rng(seed);
                    TokenDecision d;
                    CHECK(chain.sample(huge, {}, rng, &d) == 0);
                    CHECK(d.prob_final == 1.0);
                }
            }
            // All hugely negative: the order between them survives the shift.
            CandidateSet neg = candidates({-3e38f, -2.9e38f, -inf});
            temperature(neg, 0.5);
            CHECK(neg.argmax() == 1);
            CHECK(neg.logits()[1] == 0.0f);
            CHECK(neg.logits()[2] == -inf);
            // Ordinary logits are divided as before, bit for bit.
            CandidateSet plain = candidates({1.0f, -2.5f, 0.3f});
            temperature(plain, 0.7);
            CHECK(plain.logits()[1] == float(-2.5 / 0.7));
        }
        SUBCASE("penalties and logit bias that overflow name their stage") {
            TokenCounts counts;
            counts.build(Tokens{0, 0}, 5);
            CandidateSet c = candidates(huge);
            CHECK_THROWS_WITH_AS(repetition_penalty(c, counts, 0.5),
                                 "sampler: repetition_penalty turned the logit 3e+38 of token 0 "
                                 "into inf (beyond the float range)",
                                 ConfigError);
            c = candidates(huge);
            CHECK_THROWS_WITH_AS(frequency_penalty(c, counts, -1e38),
                                 "sampler: frequency_penalty turned the logit 3e+38 of token 0 "
                                 "into inf (beyond the float range)",
                                 ConfigError);
            c = candidates(huge);
            CHECK_THROWS_WITH_AS(presence_penalty(c, counts, -1e38),
                                 "sampler: presence_penalty turned the logit 3e+38 of token 0 "
                                 "into inf (beyond the float range)",
                                 ConfigError);
            c = candidates(huge);
            const std::pair<std::int32_t, float> bias[] = {{1, 3e38f}};
            CHECK_THROWS_WITH_AS(logit_bias(c, bias),
                                 "sampler: logit_bias turned the logit 1e+38 of token 1 into inf "
                                 "(beyond the float range)",
                                 ConfigError);
            // Downwards, past -FLT_MAX, a penalty bans the token instead.
            c = candidates(huge);
            counts.build(Tokens{2}, 5);
            repetition_penalty(c, counts, 2.0);
            CHECK(c.logits()[2] == -inf);
            CHECK(select_greedy(c) == 0);
        }
        SUBCASE("through the chain: an error, never token -1") {
            SamplerSettings s;
            s.repetition_penalty = 0.5;
            SamplerChain chain = SamplerChain::from_settings(s);
            Rng rng(1);
            CHECK_THROWS_WITH_AS(chain.sample(huge, Tokens{0}, rng),
                                 "sampler: repetition_penalty turned the logit 3e+38 of token 0 "
                                 "into inf (beyond the float range)",
                                 ConfigError);
            s = {};
            s.logit_bias = {{0, 1e38f}};
            s.temperature = 0.5;
            chain = SamplerChain::from_settings(s);
            CHECK_THROWS_WITH_AS(chain.sample(huge, {}, rng),
                                 "sampler: logit_bias turned the logit 3e+38 of token 0 into inf "
                                 "(beyond the float range)",
                                 ConfigError);
        }
        SUBCASE("a logit written as inf or nan is refused by every selection") {
            for (const float bad : {inf, std::numeric_limits<float>::quiet_NaN()}) {
                CandidateSet c = candidates({1.0f, 2.0f, 3.0f});
                c.mutable_logits()[1] = bad;
                c.logits_changed();
                const char* message =
                    "sampler: a logit is inf or nan (logits must stay finite or -inf)";
                CHECK_THROWS_WITH_AS(c.ensure_weights(), message, ConfigError);
                CHECK_THROWS_WITH_AS(c.draw(0.5), message, ConfigError);
                Rng rng(1);
                CHECK_THROWS_WITH_AS(select_sample(c, rng), message, ConfigError);
                MirostatV2 m(5.0, 0.1);
                CHECK_THROWS_WITH_AS(m.select(c, rng), message, ConfigError);
            }
            CandidateSet c = candidates({1.0f, 2.0f, 3.0f});
            c.mutable_logits()[0] = inf;
            c.logits_changed();
            CHECK_THROWS_WITH_AS(select_greedy(c),
                                 "sampler: a logit is inf or nan (logits must stay finite or -inf)",
                                 ConfigError);
        }
    }
}
