#include "gen/session_test_util.hpp"

#include <ouro/core/parallel.hpp>
#include <ouro/gen/sampler.hpp>
#include <ouro/gen/search.hpp>
#include <ouro/lab/teacher_forcing.hpp>

#include "test_util.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace ouro;
using namespace ouro::lab;
using ouro::gen::testing::make_model;
using ouro::gen::testing::small_config;
using ouro::testing::check_throws_message;

TEST_SUITE("lab") {
    TEST_CASE("score_token") {
        SUBCASE("hand-worked distribution") {
            // logits (ln 1, ln 2, ln 1) -> p = (1/4, 1/2, 1/4);
            // H = -(2 * 1/4 ln 1/4 + 1/2 ln 1/2) = 1.5 ln 2 = 1.0397...
            const std::vector<float> logits{0.0f, float(std::log(2.0)), 0.0f};
            TokenScore s;
            score_token(logits, 2, 1, s);
            CHECK(s.prob == doctest::Approx(0.25).epsilon(1e-6));
            CHECK(s.nll == doctest::Approx(std::log(4.0)).epsilon(1e-6));
            CHECK(s.entropy == doctest::Approx(1.5 * std::log(2.0)).epsilon(1e-6));
            CHECK(s.argmax == 1);
            CHECK(s.p_max == doctest::Approx(0.5).epsilon(1e-6));
            CHECK(s.p_end == doctest::Approx(0.5).epsilon(1e-6));
            score_token(logits, 0, -1, s);
            CHECK(std::isnan(s.p_end));
        }
        SUBCASE("the same numbers as the sampler's and the searches' decisions, bit for bit") {
            std::vector<float> logits(3001);
            for (std::size_t v = 0; v < logits.size(); ++v)
                logits[v] = float(std::sin(0.9 * double(v)) * 5.0);
            gen::SamplerSettings settings;
            settings.top_k = 40;
            gen::SamplerChain chain = gen::SamplerChain::from_settings(settings);
            Rng rng(5);
            gen::TokenDecision sampled;
            const std::int32_t token = chain.sample(logits, {}, rng, &sampled);
            gen::TokenDecision searched;
            gen::fill_raw_decision(logits, token, searched);
            TokenScore s;
            score_token(logits, token, 7, s);
            CHECK(s.prob == sampled.prob_raw);
            CHECK(s.prob == searched.prob_raw);
            CHECK(s.entropy == sampled.entropy_raw);
            CHECK(s.entropy == searched.entropy_raw);
            CHECK(s.p_max == sampled.p_max_raw);
            CHECK(s.argmax == sampled.top_raw[0].first);
            CHECK(sampled.top_raw == searched.top_raw);
            CHECK(sampled.rank_raw == searched.rank_raw);
            CHECK(s.nll == doctest::Approx(-std::log(s.prob)).epsilon(1e-7));
            TokenScore end_only;
            score_token(logits, 7, 7, end_only);
            CHECK(s.p_end == end_only.prob);
        }
        SUBCASE("rejects a token outside the vocabulary") {
            TokenScore s;
            check_throws_message<ConfigError>(
                [&] {
                    score_token(std::vector<float>{0.f, 1.f}, 2, -1, s);
                },
                "score_token: token 2 is outside the vocabulary [0, 2)");
        }
    }

    TEST_CASE("teacher_force") {
        const auto model = make_model(small_config(nn::PositionEncoding::learned, 32), 71);
        const std::vector<std::vector<std::int32_t>> texts{
            {1, 5, 9, 2, 7, 7, 7, 3, 11, 4}, {6, 2}, {3, 3, 3, 3, 3, 8, 1}};
        SUBCASE("matches full forward passes, in batches smaller than the text count") {
            gen::InferenceSession session(*model, {.batch_size = 2});
            const auto scores = teacher_force(session, texts, {}, 3);
            REQUIRE(scores.size() == 3);
            for (std::size_t i = 0; i < texts.size(); ++i) {
                REQUIRE(scores[i].size() == texts[i].size() - 1);
                for (std::size_t t = 0; t + 1 < texts[i].size(); ++t) {
                    const std::vector<float> logits =
                        gen::testing::full_logits(*model, std::span(texts[i]).first(t + 1));
                    TokenScore ref;
                    score_token(logits, texts[i][t + 1], 3, ref);
                    CHECK(scores[i][t].prob == doctest::Approx(ref.prob).epsilon(1e-4));
                    CHECK(scores[i][t].entropy == doctest::Approx(ref.entropy).epsilon(1e-4));
                    CHECK(scores[i][t].argmax == ref.argmax);
                }
            }
            const auto nll = field_of(scores, &TokenScore::nll);
            REQUIRE(nll.size() == 3);
            CHECK(nll[2].size() == 6);
            CHECK(nll[2][0] == doctest::Approx(scores[2][0].nll));
        }
        SUBCASE("the model overload gives the session overload's scores with any thread count") {
            gen::InferenceSession session(*model, {.batch_size = 3});
            const auto want = teacher_force(session, texts, {}, 3);
            for (const int threads : {1, 2, 3}) {
                CAPTURE(threads);
                const ThreadCountGuard guard(threads);
                const auto got = teacher_force(*model, texts, {}, 3, 2);
                REQUIRE(got.size() == want.size());
                for (std::size_t i = 0; i < want.size(); ++i) {
                    REQUIRE(got[i].size() == want[i].size());
                    for (std::size_t t = 0; t < want[i].size(); ++t) {
                        CHECK(got[i][t].prob == want[i][t].prob);
                        CHECK(got[i][t].entropy == want[i][t].entropy);
                        CHECK(got[i][t].p_end == want[i][t].p_end);
                        CHECK(got[i][t].argmax == want[i][t].argmax);
                    }
                }
            }
        }
        SUBCASE("stops scoring when the stop policy's context is full") {
            gen::InferenceSession session(*model, {.batch_size = 1, .context = 4});
            const auto scores = teacher_force(session, std::span(texts).first(1),
                                              {.policy = gen::ContextPolicy::stop, .context = 4});
            // Tokens 1..4 are predicted from contexts of 1..4 tokens; the fifth would need 5.
            CHECK(scores[0].size() == 4);
        }
        SUBCASE("rejects a text of one token") {
            gen::InferenceSession session(*model, {.batch_size = 1});
            const std::vector<std::vector<std::int32_t>> bad{{1, 2}, {4}};
            check_throws_message<ConfigError>([&] { teacher_force(session, bad, {}); },
                                              "teacher_force: text 1 has 1 token; need at least 2");
        }
    }
}
