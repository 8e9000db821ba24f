#include "gen/gen_test_util.hpp"

#include "alloc_counter.hpp"

#include <ouro/core/error.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/gen/sampler.hpp>

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <new>
#include <numbers>
#include <set>
#include <string>
#include <vector>

using ouro::testing::allocations_in;

using namespace ouro;
using namespace ouro::gen;
using namespace ouro::testing;

namespace {

// A bigram "model": the logits of the next token are row `last token` of a fixed random table.
struct Bigram {
    std::int64_t V;
    std::vector<float> table;
    explicit Bigram(std::int64_t vocab, double sigma = 2.5)
        : V(vocab), table(random_logits(vocab * vocab, sigma, 77)) {}
    std::span<const float> logits(std::int32_t last) const {
        return {table.data() + std::size_t(last) * std::size_t(V), std::size_t(V)};
    }
};

// Generates `steps` tokens after `prompt` with the chain, filling a decision record for each
// when `trace` is set.
Tokens generate(SamplerChain& chain, const Bigram& model, Tokens history, int steps,
                std::uint64_t seed, bool trace = false) {
    Rng rng(seed);
    TokenDecision d;
    for (int i = 0; i < steps; ++i)
        history.push_back(
            chain.sample(model.logits(history.back()), history, rng, trace ? &d : nullptr));
    return history;
}

// Every stage on, in the default order.
SamplerSettings everything() {
    SamplerSettings s;
    s.logit_bias = {{3, -1.0f}, {5, 0.5f}};
    s.repetition_penalty = 1.2;
    s.frequency_penalty = 0.1;
    s.presence_penalty = 0.2;
    s.penalty_window = 64;
    s.dry_multiplier = 0.8;
    s.no_repeat_ngram = 4;
    s.top_n_sigma = 3.0;
    s.top_k = 40;
    s.typical = 0.98;
    s.top_p = 0.95;
    s.min_p = 0.02;
    s.epsilon = 3e-4;
    s.eta = 3e-4;
    s.xtc_probability = 0.3;
    s.temperature = 0.8;
    return s;
}

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("SamplerChain: settings and order") {
        SUBCASE("describe") {
            CHECK(SamplerChain::from_settings({}).describe() == "sample");
            SamplerSettings s;
            s.repetition_penalty = 1.3;
            s.top_p = 0.95;
            CHECK(SamplerChain::from_settings(s, "penalties,top_p").describe() ==
                  "repetition_penalty(1.3) -> top_p(0.95) -> sample");
            s.penalty_window = 64;
            s.temperature = 0.7;
            CHECK(SamplerChain::from_settings(s, " temperature , top_p,penalties").describe() ==
                  "temperature(0.7) -> top_p(0.95) -> repetition_penalty(1.3, last 64) -> sample");
            CHECK(SamplerChain::from_settings(everything()).describe() ==
                  "logit_bias(2 tokens) -> repetition_penalty(1.2, last 64) -> "
                  "frequency_penalty(0.1, last 64) -> presence_penalty(0.2, last 64) -> "
                  "dry(multiplier 0.8, base 1.75, allowed_length 2, last 64) -> "
                  "no_repeat_ngram(4) -> top_n_sigma(3) -> top_k(40) -> typical(0.98) -> "
                  "top_p(0.95) -> min_p(0.02) -> epsilon(0.0003) -> eta(0.0003) -> "
                  "xtc(probability 0.3, threshold 0.1) -> temperature(0.8) -> sample");
            SamplerSettings g;
            g.greedy = true;
            CHECK(SamplerChain::from_settings(g).describe() == "greedy");
            g = {};
            g.temperature = 0.0;
            CHECK(SamplerChain::from_settings(g, "top_k").describe() == "greedy");
            SamplerSettings m;
            m.mirostat = true;
            CHECK(SamplerChain::from_settings(m).describe() == "mirostat_v2(tau 5, eta 0.1)");
            // Individual names work, in any order; stages that are off are left out.
            SamplerSettings k;
            k.top_k = 40;
            k.min_p = 0.05;
            CHECK(SamplerChain::from_settings(k, "min_p,top_k,top_p").describe() ==
                  "min_p(0.05) -> top_k(40) -> sample");
        }

        SUBCASE("rejects bad settings") {
            using Edit = std::function<void(SamplerSettings&)>;
            const std::pair<Edit, const char*> cases[] = {
                {[](SamplerSettings& s) { s.top_p = 1.5; },
                 "sampler: top_p must be in (0, 1], got 1.5"},
                {[](SamplerSettings& s) { s.top_p = 0.0; },
                 "sampler: top_p must be in (0, 1], got 0"},
                {[](SamplerSettings& s) { s.temperature = -0.5; },
                 "sampler: temperature must be >= 0, got -0.5"},
                {[](SamplerSettings& s) { s.temperature = NAN; },
                 "sampler: temperature must be >= 0, got nan"},
                {[](SamplerSettings& s) { s.top_k = -1; }, "sampler: top_k must be >= 0, got -1"},
                {[](SamplerSettings& s) { s.min_p = 2.0; },
                 "sampler: min_p must be in [0, 1], got 2"},
                {[](SamplerSettings& s) { s.typical = 0.0; },
                 "sampler: typical must be in (0, 1], got 0"},
                {[](SamplerSettings& s) { s.epsilon = 1.0; },
                 "sampler: epsilon must be in [0, 1), got 1"},
                {[](SamplerSettings& s) { s.eta = -0.1; },
                 "sampler: eta must be in [0, 1), got -0.1"},
                {[](SamplerSettings& s) { s.top_n_sigma = -2.0; },
                 "sampler: top_n_sigma must be >= 0, got -2"},
                {[](SamplerSettings& s) { s.mirostat_tau = 0.0; },
                 "sampler: mirostat_tau must be > 0, got 0"},
                {[](SamplerSettings& s) { s.mirostat_eta = -0.1; },
                 "sampler: mirostat_eta must be > 0, got -0.1"},
                {[](SamplerSettings& s) { s.repetition_penalty = 0.0; },
                 "sampler: repetition_penalty must be > 0, got 0"},
                {[](SamplerSettings& s) { s.repetition_penalty = -1.3; },
                 "sampler: repetition_penalty must be > 0, got -1.3"},
                {[](SamplerSettings& s) { s.penalty_window = -3; },
                 "sampler: penalty_window must be >= 0, got -3"},
                {[](SamplerSettings& s) { s.frequency_penalty = INFINITY; },
                 "sampler: frequency_penalty must be finite, got inf"},
                {[](SamplerSettings& s) { s.presence_penalty = NAN; },
                 "sampler: presence_penalty must be finite, got nan"},
                {[](SamplerSettings& s) { s.no_repeat_ngram = -2; },
                 "sampler: no_repeat_ngram must be >= 0, got -2"},
                {[](SamplerSettings& s) { s.dry_multiplier = -0.8; },
                 "sampler: dry_multiplier must be >= 0, got -0.8"},
                {[](SamplerSettings& s) { s.dry_base = 0.9; },
                 "sampler: dry_base must be >= 1, got 0.9"},
                {[](SamplerSettings& s) { s.dry_allowed_length = 0; },
                 "sampler: dry_allowed_length must be >= 1, got 0"},
                {[](SamplerSettings& s) { s.xtc_probability = 1.5; },
                 "sampler: xtc_probability must be in [0, 1], got 1.5"},
                {[](SamplerSettings& s) { s.xtc_threshold = 0.0; },
                 "sampler: xtc_threshold must be in (0, 1], got 0"},
                {[](SamplerSettings& s) {
                     s.logit_bias = {{-1, 1.0f}};
                 },
                 "sampler: logit_bias token -1 is negative"},
                {[](SamplerSettings& s) {
                     s.logit_bias = {{3, NAN}};
                 },
                 "sampler: logit_bias for token 3 must be finite or -inf, got nan"},
                {[](SamplerSettings& s) {
                     s.mirostat = true;
                     s.greedy = true;
                 },
                 "sampler: mirostat cannot be combined with greedy decoding (greedy or "
                 "temperature 0)"},
                {[](SamplerSettings& s) {
                     s.mirostat = true;
                     s.temperature = 0.0;
                 },
                 "sampler: mirostat cannot be combined with greedy decoding (greedy or "
                 "temperature 0)"},
            };
            for (const auto& [edit, message] : cases) {
                SamplerSettings s;
                edit(s);
                CHECK_THROWS_WITH_AS(SamplerChain::from_settings(s), message, ConfigError);
            }
        }

        SUBCASE("rejects bad orders") {
            SamplerSettings s;
            CHECK_THROWS_WITH_AS(
                SamplerChain::from_settings(s, "penalties,top_q"),
                "sampler: unknown stage 'top_q' (known: penalties, logit_bias, repetition_penalty, "
                "frequency_penalty, presence_penalty, dry, no_repeat_ngram, top_n_sigma, top_k, "
                "typical, top_p, min_p, epsilon, eta, xtc, temperature)",
                ConfigError);
            CHECK_THROWS_WITH_AS(SamplerChain::from_settings(s, "top_k,top_p,top_k"),
                                 "sampler: stage 'top_k' appears twice in the order "
                                 "'top_k,top_p,top_k'",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(SamplerChain::from_settings(s, "penalties,repetition_penalty"),
                                 "sampler: stage 'repetition_penalty' appears twice in the order "
                                 "'penalties,repetition_penalty'",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(SamplerChain::from_settings(s, "top_k,,top_p"),
                                 "sampler: empty stage name in the order 'top_k,,top_p'",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(SamplerChain::from_settings(s, "top_k,greedy"),
                                 "sampler: 'greedy' is not a stage: the final step (sample, "
                                 "greedy or mirostat_v2) follows from the settings greedy, "
                                 "temperature and mirostat",
                                 ConfigError);
            s.top_p = 0.9;
            CHECK_THROWS_WITH_AS(SamplerChain::from_settings(s, "top_k,temperature"),
                                 "sampler: top_p is 0.9 but the order 'top_k,temperature' has no "
                                 "'top_p' stage",
                                 ConfigError);
            s.temperature = 0.7;
            CHECK_THROWS_WITH_AS(SamplerChain::from_settings(s, "top_p"),
                                 "sampler: temperature is 0.7 but the order 'top_p' has no "
                                 "'temperature' stage",
                                 ConfigError);
            SamplerSettings d;
            d.dry_multiplier = 0.8;
            CHECK_THROWS_WITH_AS(SamplerChain::from_settings(d, "top_k"),
                                 "sampler: dry_multiplier is 0.8 but the order 'top_k' has no "
                                 "'dry' stage",
                                 ConfigError);
            // Temperature 0 is greedy, a selection: no stage needed.
            SamplerSettings g;
            g.temperature = 0.0;
            CHECK_NOTHROW(SamplerChain::from_settings(g, "top_k"));
        }
    }

    TEST_CASE("SamplerChain: choosing tokens") {
        SUBCASE("greedy and temperature 0 take the argmax, lowest id among ties") {
            const std::vector<float> z = {0.5f, 2.0f, 2.0f, -1.0f};
            Rng rng(1);
            SamplerSettings g;
            g.greedy = true;
            SamplerChain a = SamplerChain::from_settings(g);
            CHECK(a.sample(z, {}, rng) == 1);
            g = {};
            g.temperature = 0.0;
            SamplerChain b = SamplerChain::from_settings(g);
            const std::uint64_t before = rng.state();
            CHECK(b.sample(z, {}, rng) == 1);
            CHECK(rng.state() == before); // greedy draws nothing
        }

        SUBCASE("the order matters") {
            // p = (0.5, 0.3, 0.2), top_p 0.75, temperature 2.
            // top_p then temperature: cumulative 0.5, 0.8 >= 0.75 keeps tokens 0, 1.
            // temperature then top_p: p ~ sqrt(p) = (0.70711, 0.54772, 0.44721) / 1.70204
            // = (0.41545, 0.32180, 0.26275); cumulative 0.41545, 0.73725 < 0.75, so token 2
            // crosses and is kept: tokens 0, 1, 2.
            const std::vector<float> z = logits_of({0.5, 0.3, 0.2});
            SamplerSettings s;
            s.top_p = 0.75;
            s.temperature = 2.0;
            SamplerChain llama = SamplerChain::from_settings(s, "top_p,temperature");
            SamplerChain hf = SamplerChain::from_settings(s, "temperature,top_p");
            std::set<std::int32_t> seen_llama, seen_hf;
            Rng r1(3), r2(3);
            for (int i = 0; i < 300; ++i) {
                seen_llama.insert(llama.sample(z, {}, r1));
                seen_hf.insert(hf.sample(z, {}, r2));
            }
            CHECK(seen_llama == std::set<std::int32_t>{0, 1});
            CHECK(seen_hf == std::set<std::int32_t>{0, 1, 2});
            // The final distributions, from the decision record.
            TokenDecision d;
            Rng r3(4);
            llama.sample(z, {}, r3, &d);
            // (0.5, 0.3) renormalised at T = 2: sqrt -> (0.70711, 0.54772) / 1.25483.
            const double p0 = std::sqrt(0.5) / (std::sqrt(0.5) + std::sqrt(0.3));
            CHECK(d.prob_final == doctest::Approx(d.token == 0 ? p0 : 1.0 - p0).epsilon(1e-5));
        }

        SUBCASE("sampled frequencies match the final distribution") {
            // z = (1, 0.5, 0.2, 0, -1, -1, -2, -3), top_k 3 then temperature 0.5: the final
            // distribution is exp(2 z) over tokens 0, 1, 2 = (e^2, e^1, e^0.4) / sum.
            // 100,000 draws; chi-square with 2 degrees of freedom exceeds 13.8 w.p. 0.001.
            const std::vector<float> z = {1.0f, 0.5f, 0.2f, 0.0f, -1.0f, -1.0f, -2.0f, -3.0f};
            SamplerSettings s;
            s.top_k = 3;
            s.temperature = 0.5;
            SamplerChain chain = SamplerChain::from_settings(s);
            const double w[3] = {std::exp(2.0), std::exp(1.0), std::exp(0.4)};
            const double total = w[0] + w[1] + w[2];
            std::array<int, 8> seen{};
            Rng rng(2027);
            const int N = 100000;
            for (int i = 0; i < N; ++i)
                ++seen[std::size_t(chain.sample(z, {}, rng))];
            double chi2 = 0.0;
            for (int i = 0; i < 3; ++i) {
                const double e = N * w[i] / total;
                chi2 += (seen[std::size_t(i)] - e) * (seen[std::size_t(i)] - e) / e;
            }
            CAPTURE(chi2);
            CHECK(chi2 < 13.8);
            CHECK(seen[3] + seen[4] + seen[5] + seen[6] + seen[7] == 0);
        }

        SUBCASE("same seed, same tokens, whatever the thread count") {
            const Bigram model(64);
            SamplerSettings s = everything();
            s.logit_bias = {{3, -1.0f}};
            Tokens a, b, c;
            {
                ThreadCountGuard one(1);
                SamplerChain chain = SamplerChain::from_settings(s);
                a = generate(chain, model, {1, 2, 3}, 300, 42);
            }
            {
                ThreadCountGuard two(2);
                SamplerChain chain = SamplerChain::from_settings(s);
                b = generate(chain, model, {1, 2, 3}, 300, 42);
                c = generate(chain, model, {1, 2, 3}, 300, 43);
            }
            CHECK(a == b);
            CHECK(a != c);
            // Asking for the decision record changes nothing.
            SamplerChain traced = SamplerChain::from_settings(s);
            CHECK(generate(traced, model, {1, 2, 3}, 300, 42, true) == a);
            // no_repeat_ngram(4) holds along the whole sample.
            std::set<std::vector<std::int32_t>> grams;
            for (std::size_t i = 0; i + 4 <= a.size(); ++i)
                CHECK(grams.insert({a.begin() + long(i), a.begin() + long(i) + 4}).second);
        }

        SUBCASE("mirostat through the chain, and reset") {
            const Bigram model(64, 1.0);
            SamplerSettings s;
            s.mirostat = true;
            s.mirostat_tau = 3.0;
            SamplerChain chain = SamplerChain::from_settings(s);
            const Tokens first = generate(chain, model, {0}, 100, 9);
            const Tokens again = generate(chain, model, {0}, 100, 9); // mu carried over
            chain.reset();
            const Tokens reset = generate(chain, model, {0}, 100, 9);
            CHECK(first == reset);
            CHECK(first != again);
        }

        SUBCASE("bad inputs") {
            SamplerChain chain = SamplerChain::from_settings({});
            Rng rng(1);
            const std::vector<float> z = {0.0f, 1.0f, 2.0f, 3.0f};
            CHECK_THROWS_WITH_AS(chain.sample(z, Tokens{1, 9}, rng),
                                 "sampler: history token 9 at position 1 is outside the "
                                 "vocabulary (V = 4)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(chain.sample(std::vector<float>{}, {}, rng),
                                 "sampler: logits are empty", ShapeError);
            CHECK_THROWS_WITH_AS(chain.sample(std::vector<float>{0.0f, NAN}, {}, rng),
                                 "sampler: logit 1 is nan", ConfigError);
            SamplerSettings s;
            s.logit_bias = {{7, 1.0f}};
            SamplerChain biased = SamplerChain::from_settings(s);
            CHECK_THROWS_WITH_AS(biased.sample(z, {}, rng),
                                 "sampler: logit_bias token 7 is outside the vocabulary (V = 4)",
                                 ConfigError);
            s.logit_bias = {{0, -inf}, {1, -inf}, {2, -inf}, {3, -inf}};
            SamplerChain banned = SamplerChain::from_settings(s);
            CHECK_THROWS_WITH_AS(banned.sample(z, {}, rng),
                                 "sampler: no token left to choose: every logit is -inf",
                                 ConfigError);
        }
    }

    TEST_CASE("SamplerChain: TokenDecision") {
        SUBCASE("fields worked by hand") {
            // p = (0.5, 0.25, 0.125, 0.125), top_k 2 keeps (0.5, 0.25) -> (2/3, 1/3).
            // Raw: H = 1.75 ln 2, p_max 0.5, top five (0, 0.5) (1, 0.25) (2, 0.125) (3, 0.125).
            // Final: H = -(2/3 ln 2/3 + 1/3 ln 1/3) = 0.636514.
            const std::vector<float> z = logits_of({0.5, 0.25, 0.125, 0.125});
            SamplerSettings s;
            s.top_k = 2;
            SamplerChain chain = SamplerChain::from_settings(s);
            for (const std::uint64_t seed : {1, 2, 3, 4, 5, 6, 7, 8}) {
                Rng rng(seed), copy(seed);
                const std::int32_t expected = copy.uniform() < 2.0 / 3.0 ? 0 : 1;
                TokenDecision d;
                CHECK(chain.sample(z, {}, rng, &d) == expected);
                CHECK(d.token == expected);
                CHECK(d.prob_raw == doctest::Approx(expected == 0 ? 0.5 : 0.25).epsilon(1e-6));
                CHECK(d.prob_final ==
                      doctest::Approx(expected == 0 ? 2.0 / 3.0 : 1.0 / 3.0).epsilon(1e-6));
                CHECK(d.rank_raw == expected);
                CHECK(d.entropy_raw == doctest::Approx(1.75 * std::numbers::ln2).epsilon(1e-6));
                CHECK(d.entropy_final == doctest::Approx(0.636514).epsilon(1e-5));
                CHECK(d.p_max_raw == doctest::Approx(0.5).epsilon(1e-6));
                REQUIRE(d.top_raw.size() == 4);
                CHECK(d.top_raw[0].first == 0);
                CHECK(d.top_raw[1].first == 1);
                CHECK(d.top_raw[2].first == 2);
                CHECK(d.top_raw[3].first == 3);
                CHECK(d.top_raw[3].second == doctest::Approx(0.125).epsilon(1e-6));
                CHECK(d.changed_by == (expected == 0 ? "" : "sample"));
            }
            // rank among ties counts the lower ids: z = (1, 2, 2, 2), token 3 has rank 2.
            SamplerSettings g;
            g.logit_bias = {{1, -inf}, {2, -inf}};
            g.greedy = true;
            SamplerChain pick = SamplerChain::from_settings(g);
            TokenDecision d;
            Rng rng(1);
            CHECK(pick.sample(std::vector<float>{1.0f, 2.0f, 2.0f, 2.0f}, {}, rng, &d) == 3);
            CHECK(d.rank_raw == 2);
            CHECK(d.changed_by == "logit_bias");
            CHECK(d.top_raw.size() == 4);
            CHECK(d.top_raw[0].first == 1);
            CHECK(d.top_raw[3].first == 0);
        }

        SUBCASE("changed_by names the stage that demoted the raw argmax") {
            // z = (2, 1.5, 0.1), history (0), greedy. Raw argmax: token 0.
            const std::vector<float> z = {2.0f, 1.5f, 0.1f};
            const Tokens history = {0};
            Rng rng(1);
            TokenDecision d;
            // repetition_penalty 2: z0 = 2 / 2 = 1 < 1.5, token 1 wins.
            SamplerSettings s;
            s.greedy = true;
            s.repetition_penalty = 2.0;
            SamplerChain a = SamplerChain::from_settings(s);
            CHECK(a.sample(z, history, rng, &d) == 1);
            CHECK(d.changed_by == "repetition_penalty");
            // repetition_penalty 1.2: z0 = 1.667, still first; frequency 0.5 makes it 1.167.
            s.repetition_penalty = 1.2;
            s.frequency_penalty = 0.5;
            SamplerChain b = SamplerChain::from_settings(s);
            CHECK(b.sample(z, history, rng, &d) == 1);
            CHECK(d.changed_by == "frequency_penalty");
            // No history: nothing moves, the raw argmax is chosen.
            CHECK(b.sample(z, {}, rng, &d) == 0);
            CHECK(d.changed_by == "");
            // XTC (probability 1, threshold 0.25) on p = (0.5, 0.3, 0.2): tokens 0 and 1 are
            // top choices, 0 goes, the argmax is now 1.
            SamplerSettings x;
            x.greedy = true;
            x.xtc_probability = 1.0;
            x.xtc_threshold = 0.25;
            SamplerChain c = SamplerChain::from_settings(x);
            CHECK(c.sample(logits_of({0.5, 0.3, 0.2}), {}, rng, &d) == 1);
            CHECK(d.changed_by == "xtc");
            // Demoted by the penalty, restored by a bias: the draw decides. repetition_penalty
            // 2 -> z0 = 1 < 1.5; bias +0.6 -> z0 = 1.6 > 1.5, the argmax again, with
            // p = (0.47, 0.43, 0.10). Another token is then the draw's doing.
            SamplerSettings r;
            r.repetition_penalty = 2.0;
            r.logit_bias = {{0, 0.6f}};
            SamplerChain e = SamplerChain::from_settings(r, "repetition_penalty,logit_bias");
            int drawn_other = 0;
            for (std::uint64_t seed = 1; seed < 40; ++seed) {
                Rng g(seed);
                const std::int32_t t = e.sample(z, history, g, &d);
                CHECK(d.changed_by == (t == 0 ? "" : "sample"));
                drawn_other += t != 0;
            }
            CHECK(drawn_other > 0);
        }
    }

    TEST_CASE("SamplerChain: no allocation per token") {
        const Bigram model(512);
        SamplerChain chain = SamplerChain::from_settings(everything());
        Tokens history = generate(chain, model, {1}, 1100, 5);
        const std::span<const std::int32_t> all(history);
        Rng rng(8);
        // 1000 calls on histories of one length (a sliding window over a long sample): after
        // the first call, nothing is allocated, with or without a decision record, whatever
        // the selection.
        SamplerSettings miro;
        miro.mirostat = true;
        miro.top_k = 100;
        SamplerSettings greedy = everything();
        greedy.greedy = true;
        for (const SamplerSettings& s : {everything(), miro, greedy}) {
            SamplerChain c = SamplerChain::from_settings(s);
            CAPTURE(c.describe());
            TokenDecision d;
            d.top_raw.reserve(5);
            d.changed_by.reserve(32);
            c.sample(model.logits(1), all.first(100), rng, &d);
            const std::int64_t n = allocations_in([&] {
                for (std::size_t i = 0; i < 1000; ++i) {
                    const auto h = all.subspan(i, 100);
                    c.sample(model.logits(h.back()), h, rng, i % 2 ? &d : nullptr);
                }
            });
            CHECK(n == 0);
        }
        // A growing history with DRY over all of it: only DRY's buffer grows, by doubling
        // (100 -> 1100 tokens: 200, 402, 806, 1614 entries, three allocations).
        SamplerSettings whole = everything();
        whole.penalty_window = 0;
        SamplerChain fresh = SamplerChain::from_settings(whole);
        fresh.sample(model.logits(1), all.first(100), rng);
        const std::int64_t grown = allocations_in([&] {
            for (std::size_t len = 101; len <= 1100; ++len)
                fresh.sample(model.logits(all[len - 1]), all.first(len), rng);
        });
        CHECK(grown >= 1);
        CHECK(grown <= 4);
    }
}
