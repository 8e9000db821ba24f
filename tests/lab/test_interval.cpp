#include <ouro/core/error.hpp>
#include <ouro/lab/interval.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace ouro;
using namespace ouro::lab;

TEST_SUITE("lab") {
    TEST_CASE("wilson_interval") {
        SUBCASE("matches the textbook values") {
            // 8 of 10: Wilson 95% interval 0.490 to 0.943 (Newcombe 1998, method 3).
            const Interval i = wilson_interval(8, 10);
            CHECK(i.estimate == doctest::Approx(0.8));
            CHECK(i.lo == doctest::Approx(0.4902).epsilon(1e-3));
            CHECK(i.hi == doctest::Approx(0.9433).epsilon(1e-3));
        }
        SUBCASE("none and all stay inside [0, 1]") {
            const Interval none = wilson_interval(0, 10), all = wilson_interval(10, 10);
            CHECK(none.lo == 0.0);
            CHECK(none.hi == doctest::Approx(0.2775).epsilon(1e-3));
            CHECK(all.hi == 1.0);
            CHECK(all.lo == doctest::Approx(0.7225).epsilon(1e-3));
        }
        SUBCASE("rejects bad counts") {
            CHECK_THROWS_WITH_AS(wilson_interval(3, 2),
                                 "wilson_interval: 3 successes out of 2 trials", ConfigError);
            CHECK_THROWS_WITH_AS(wilson_interval(0, 0),
                                 "wilson_interval: 0 successes out of 0 trials", ConfigError);
        }
    }
    TEST_CASE("difference_interval") {
        SUBCASE("matches Newcombe's worked example") {
            // Newcombe 1998, table II, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339.
            const Interval d = difference_interval(56, 70, 48, 80);
            CHECK(d.estimate == doctest::Approx(0.2));
            CHECK(d.lo == doctest::Approx(0.0524).epsilon(2e-3));
            CHECK(d.hi == doctest::Approx(0.3339).epsilon(2e-3));
        }
        SUBCASE("all against none over few trials still excludes 0") {
            const Interval d = difference_interval(2, 2, 0, 2);
            CHECK(d.estimate == 1.0);
            CHECK(d.lo > 0.0);
            CHECK(d.hi == 1.0);
            const Interval same = difference_interval(1, 2, 1, 2);
            CHECK(same.lo < 0.0);
            CHECK(same.hi > 0.0);
        }
        SUBCASE("rejects bad counts") {
            CHECK_THROWS_WITH_AS(difference_interval(1, 2, 3, 2),
                                 "wilson_interval: 3 successes out of 2 trials", ConfigError);
        }
    }
    TEST_CASE("mean_interval") {
        SUBCASE("Student's t interval, NaN left out") {
            const std::vector<double> v = {1, 2, 3, 4, std::nan("")};
            const Interval i = mean_interval(v);
            // mean 2.5, s = 1.291, t(3) = 3.182: half-width 2.054.
            CHECK(i.estimate == doctest::Approx(2.5));
            CHECK(i.lo == doctest::Approx(2.5 - 3.182 * 1.290994 / 2.0));
            CHECK(i.hi == doctest::Approx(2.5 + 3.182 * 1.290994 / 2.0));
        }
        SUBCASE("held to the range the values can take") {
            const std::vector<double> v = {0.1, 0.9};
            const Interval i = mean_interval(v, 0.0, 1.0);
            CHECK(i.estimate == doctest::Approx(0.5));
            CHECK(i.lo == 0.0);
            CHECK(i.hi == 1.0);
            CHECK(mean_interval(v).lo < -4.0); // t(1) = 12.706: 0.5 - 12.706 * 0.4
        }
        SUBCASE("large samples approach the normal interval") {
            std::vector<double> v;
            for (int k = 0; k < 1000; ++k)
                v.push_back(k % 2);
            const Interval i = mean_interval(v);
            CHECK(i.hi - i.estimate ==
                  doctest::Approx(1.962 * 0.50025 / std::sqrt(1000.0)).epsilon(1e-3));
        }
        SUBCASE("one value has no interval, none has no mean") {
            const std::vector<double> one = {0.7}, none = {};
            CHECK(mean_interval(one).estimate == 0.7);
            CHECK(std::isnan(mean_interval(one).lo));
            CHECK(std::isnan(mean_interval(none).estimate));
        }
    }
    TEST_CASE("with_interval") {
        CHECK(with_interval({0.5171, 0.41, 0.62}) == "0.517 (95% CI 0.410 to 0.620)");
        CHECK(with_interval({0.9, 0.6, 1.0}, 0, 100.0) == "90 (95% CI 60 to 100)");
        CHECK(with_interval({0.9, 0.6, 1.0}, 0, 100.0, "%") == "90% (95% CI 60% to 100%)");
        CHECK(with_interval({0.9, std::nan(""), std::nan("")}, 2) == "0.90");
    }
}
