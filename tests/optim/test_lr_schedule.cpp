// optim/lr_schedule.hpp: warmup and cosine values at chosen steps against the documented formula,
// the edges (no warmup, no decay span, past the end), and the settings validate() refuses.
#include <ouro/optim/lr_schedule.hpp>

#include <ouro/core/error.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

using namespace ouro;
using namespace ouro::optim;

TEST_SUITE("optim") {
    TEST_CASE("WarmupCosine") {
        SUBCASE("values at chosen steps, worked by hand") {
            const WarmupCosine s{
                .max_lr = 1.0, .min_lr = 0.1, .warmup_steps = 4, .decay_steps = 14};
            CHECK(s.at(0) == doctest::Approx(0.2)); // (0 + 1) / (4 + 1)
            CHECK(s.at(3) == doctest::Approx(0.8));
            CHECK(s.at(4) == doctest::Approx(1.0));  // cosine starts at max
            CHECK(s.at(9) == doctest::Approx(0.55)); // halfway: 0.1 + 0.5 * 0.9
            CHECK(s.at(14) == doctest::Approx(0.1));
            CHECK(s.at(100) == doctest::Approx(0.1));
        }
        SUBCASE("forward matches reference: the cosine at a quarter and three quarters") {
            const WarmupCosine s{
                .max_lr = 6e-4, .min_lr = 6e-5, .warmup_steps = 100, .decay_steps = 500};
            for (const auto& [step, r] : {std::pair{200, 0.25}, std::pair{400, 0.75}}) {
                const double expected =
                    6e-5 + 0.5 * (1.0 + std::cos(std::numbers::pi * r)) * (6e-4 - 6e-5);
                CHECK(s.at(step) == doctest::Approx(expected).epsilon(1e-14));
            }
            // Warmup rises linearly and never reaches max before the cosine starts.
            CHECK(s.at(49) == doctest::Approx(6e-4 * 50.0 / 101.0).epsilon(1e-14));
            CHECK(s.at(99) < 6e-4);
            // After warmup the rate never rises.
            for (std::int64_t t = 100; t < 520; ++t)
                CHECK(s.at(t + 1) <= s.at(t));
        }
        SUBCASE("edges: no warmup, and warmup ending where decay does") {
            const WarmupCosine none{
                .max_lr = 2.0, .min_lr = 0.5, .warmup_steps = 0, .decay_steps = 10};
            CHECK(none.at(0) == 2.0);
            CHECK(none.at(10) == doctest::Approx(0.5));
            const WarmupCosine flat{
                .max_lr = 2.0, .min_lr = 0.5, .warmup_steps = 3, .decay_steps = 3};
            CHECK(flat.at(2) == doctest::Approx(1.5)); // 2 * 3 / 4
            CHECK(flat.at(3) == 0.5);                  // no span to decay over: the floor
            CHECK_NOTHROW(flat.validate());
        }
        SUBCASE("rejects bad settings") {
            CHECK_THROWS_WITH_AS((WarmupCosine{.max_lr = 0.1, .min_lr = 1.0}.validate()),
                                 "WarmupCosine: need 0 <= min_lr <= max_lr, got min_lr 1.000000, "
                                 "max_lr 0.100000",
                                 ConfigError);
            CHECK_THROWS_WITH_AS((WarmupCosine{.max_lr = 0.1, .min_lr = -0.5}.validate()),
                                 "WarmupCosine: need 0 <= min_lr <= max_lr, got min_lr -0.500000, "
                                 "max_lr 0.100000",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(
                (WarmupCosine{.warmup_steps = 10, .decay_steps = 5}.validate()),
                "WarmupCosine: need 0 <= warmup_steps <= decay_steps, got 10 and 5", ConfigError);
            CHECK_THROWS_WITH_AS((WarmupCosine{.warmup_steps = -1}.validate()),
                                 "WarmupCosine: need 0 <= warmup_steps <= decay_steps, got -1 and "
                                 "5000",
                                 ConfigError);
            CHECK_NOTHROW(WarmupCosine{}.validate());
        }
    }
}
