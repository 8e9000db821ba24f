#include "gen/gen_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/gen/candidates.hpp>
#include <ouro/gen/truncation.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

using namespace ouro;
using namespace ouro::gen;
using namespace ouro::testing;

TEST_SUITE("gen") {
    TEST_CASE("CandidateSet") {
        SUBCASE("probabilities and entropy") {
            // p = (0.5, 0.25, 0.125, 0.125): H = 0.5 ln 2 + 0.25 * 2 ln 2 + 2 * 0.125 * 3 ln 2
            // = 1.75 ln 2.
            CandidateSet c = candidates(logits_of({0.5, 0.25, 0.125, 0.125}));
            CHECK(c.size() == 4);
            CHECK(c.vocab_size() == 4);
            CHECK(c.dense());
            CHECK(c.probability(0) == doctest::Approx(0.5).epsilon(1e-6));
            CHECK(c.probability(1) == doctest::Approx(0.25).epsilon(1e-6));
            CHECK(c.probability(3) == doctest::Approx(0.125).epsilon(1e-6));
            CHECK(c.entropy() == doctest::Approx(1.75 * std::numbers::ln2).epsilon(1e-6));
            // A banned token has p = 0 and adds nothing to H.
            CandidateSet b = candidates({0.0f, -inf, 0.0f});
            CHECK(b.probability(1) == 0.0);
            CHECK(b.entropy() == doctest::Approx(std::numbers::ln2).epsilon(1e-7));
        }

        SUBCASE("rejects bad logits") {
            CandidateSet c;
            CHECK_THROWS_WITH_AS(c.assign(std::vector<float>{}), "sampler: logits are empty",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(c.assign(std::vector<float>{0.0f, 1.0f, NAN}),
                                 "sampler: logit 2 is nan", ConfigError);
            CHECK_THROWS_WITH_AS(c.assign(std::vector<float>{0.0f, inf}), "sampler: logit 1 is inf",
                                 ConfigError);
            CHECK_NOTHROW(c.assign(std::vector<float>{0.0f, -inf}));
            CandidateSet banned = candidates({-inf, -inf});
            CHECK_THROWS_WITH_AS(banned.ensure_weights(),
                                 "sampler: no token left to choose: every logit is -inf",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(banned.argmax(),
                                 "sampler: no token left to choose: every logit is -inf",
                                 ConfigError);
        }

        SUBCASE("argmax takes the lowest id among ties") {
            CandidateSet c = candidates({1.0f, 3.0f, 3.0f, 2.0f});
            CHECK(c.argmax() == 1);
            c.keep_top(2, 1.0); // sorted now: ids 1, 2
            CHECK(c.ids()[std::size_t(c.argmax())] == 1);
        }

        SUBCASE("keep_top keeps the ties of the last token it keeps") {
            // z = (3, 1, 2, 2, 0): the 2nd and 3rd largest tie at 2.
            const std::vector<float> z = {3.0f, 1.0f, 2.0f, 2.0f, 0.0f};
            CandidateSet c = candidates(z);
            c.keep_top(2, 1.0);
            CHECK(ids_of(c) == Ids{0, 2, 3});
            CHECK(c.sorted());
            CHECK_FALSE(c.dense());
            c = candidates(z);
            c.keep_top(1, 1.0);
            CHECK(ids_of(c) == Ids{0});
            c = candidates(z);
            c.keep_top(4, 1.0); // the 4th largest is 1: keep z >= 1
            CHECK(ids_of(c) == Ids{0, 1, 2, 3});
            c = candidates(z);
            c.keep_top(10, 1.0);
            CHECK(c.size() == 5);
            // Banned tokens are dropped even when the count would reach them.
            c = candidates({1.0f, -inf, 0.0f});
            c.keep_top(3, 1.0);
            CHECK(ids_of(c) == Ids{0, 2});
        }

        SUBCASE("find and positions after the list changes") {
            CandidateSet c = candidates({0.0f, 5.0f, 1.0f, 4.0f, 2.0f});
            CHECK(Ids(c.ids().begin(), c.ids().end()) == Ids{0, 1, 2, 3, 4});
            CHECK(c.id(3) == 3);
            CHECK(c.find(3) == 3);
            CHECK(c.find(5) == -1);
            CHECK(c.find(-1) == -1);
            c.keep_top(3, 1.0); // sorted: ids 1, 3, 4
            CHECK(c.find(1) == 0);
            CHECK(c.find(3) == 1);
            CHECK(c.find(4) == 2);
            CHECK(c.find(0) == -1);
            CHECK(c.find(2) == -1);
        }

        SUBCASE("draw walks the cumulative weights") {
            // p = (0.5, 0.25, 0.125, 0.125): cumulative 0.5, 0.75, 0.875, 1.
            CandidateSet c = candidates(logits_of({0.5, 0.25, 0.125, 0.125}));
            CHECK(c.draw(0.0) == 0);
            CHECK(c.draw(0.49) == 0);
            CHECK(c.draw(0.51) == 1);
            CHECK(c.draw(0.8) == 2);
            CHECK(c.draw(0.9999) == 3);
            // A token with w = 0 is never drawn, even at u = 0.
            c = candidates({-inf, 0.0f, -inf});
            CHECK(c.draw(0.0) == 1);
            CHECK(c.draw(0.999) == 1);
            // 1000 equal weights (w = 1 exactly, S = 1000): u = 0.5005 crosses at the 501st, so
            // the draw skips block 0 (256) by its sum and walks block 1.
            c = candidates(std::vector<float>(1000, 0.0f));
            CHECK(c.draw(0.5005) == 500);
            CHECK(c.draw(0.2555) == 255);
            CHECK(c.draw(0.9995) == 999);
        }

        SUBCASE("a sorted list stays sorted under temperature, not under penalties") {
            CandidateSet c = candidates({0.0f, 5.0f, 1.0f, 4.0f});
            c.keep_top(3, 1.0);
            CHECK(c.sorted());
            temperature(c, 0.5);
            CHECK(c.sorted());
            c.logits_changed();
            CHECK_FALSE(c.sorted());
        }

        SUBCASE("keep_top matches the reference on long lists") {
            // The heap (small k), the mass prefilter and the histogram narrowing all run here;
            // the reference sorts everything and uses a double-precision softmax.
            struct Case {
                std::int64_t V;
                double sigma, step;
            };
            const Case cases[] = {{50257, 3.0, 0.0},  {50257, 0.5, 0.0}, {4096, 2.0, 0.0},
                                  {50257, 2.0, 0.25}, {4096, 1.0, 0.5},  {1000, 2.0, 0.0},
                                  {300, 1.0, 0.0},    {300, 1.0, 0.25}};
            const std::int64_t counts[] = {1, 40, 256, 300, 1000, 5000};
            const double masses[] = {0.3, 0.9, 0.95, 0.999};
            std::uint64_t seed = 100;
            for (const Case& k : cases) {
                std::vector<float> z = random_logits(k.V, k.sigma, ++seed, k.step);
                z[7] = -inf; // a banned token is never kept
                for (const std::int64_t count : counts) {
                    CAPTURE(k.V);
                    CAPTURE(k.sigma);
                    CAPTURE(count);
                    CandidateSet c = candidates(z);
                    c.keep_top(count, 1.0);
                    CHECK(ids_of(c) == keep_top_reference(z, count, 1.0));
                }
                for (const double mass : masses) {
                    CAPTURE(k.V);
                    CAPTURE(k.sigma);
                    CAPTURE(mass);
                    CandidateSet c = candidates(z);
                    c.keep_top(0, mass);
                    CHECK(ids_of(c) == keep_top_reference(z, 0, mass));
                    // Both limits at once: whichever is reached first.
                    c = candidates(z);
                    c.keep_top(300, mass);
                    CHECK(ids_of(c) == keep_top_reference(z, 300, mass));
                }
            }
        }
    }
}
