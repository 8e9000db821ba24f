// nn/init.hpp: normal() draws N(0, std^2) from the Rng in element order (statistics and exact
// draws), Init hands its Rng on so the draws keep their order, and Init::zeros() draws nothing.
#include <ouro/nn/init.hpp>
#include <ouro/nn/linear.hpp>

#include <doctest/doctest.h>

#include <cmath>

using namespace ouro;
using namespace ouro::nn;

TEST_SUITE("nn") {
    TEST_CASE("normal") {
        SUBCASE("statistics: mean 0, the given standard deviation, Gaussian tails") {
            Rng rng(17);
            const TensorD t = normal<double>({400, 500}, 0.02, rng);
            const double n = double(t.numel());
            double s = 0.0, s2 = 0.0, s4 = 0.0;
            std::int64_t beyond_2sd = 0;
            for (double v : t.values()) {
                s += v;
                s2 += v * v;
                beyond_2sd += std::abs(v) > 0.04;
            }
            const double mean = s / n, var = s2 / n - mean * mean;
            for (double v : t.values())
                s4 += std::pow(v - mean, 4);
            // Standard errors with n = 2e5: mean 4.5e-5, std about 0.16 %.
            CHECK(std::abs(mean) < 2e-4);
            CHECK(std::sqrt(var) == doctest::Approx(0.02).epsilon(0.01));
            CHECK(s4 / n / (var * var) == doctest::Approx(3.0).epsilon(0.03)); // kurtosis
            CHECK(double(beyond_2sd) / n == doctest::Approx(0.0455).epsilon(0.05));
        }
        SUBCASE("element i is the i-th draw, scaled by std") {
            Rng rng(5), copy(5);
            const TensorF t = normal<float>({3, 4}, 0.5, rng);
            for (std::int64_t i = 0; i < 12; ++i)
                CHECK(t[i] == float(0.5 * copy.normal()));
            CHECK(rng.next_u64() == copy.next_u64()); // exactly 12 draws taken
        }
        SUBCASE("std 0 gives zeros") {
            Rng rng(1);
            const TensorD t = normal<double>({5}, 0.0, rng);
            for (double v : t.values())
                CHECK(v == 0.0);
        }
    }

    TEST_CASE("Init") {
        SUBCASE("an Rng converts to an Init that draws from it, continuing its sequence") {
            Rng rng(8), copy(8);
            const Init init = rng;
            const TensorD a = init.normal<double>({2}, 1.0);
            const TensorD b = init.normal<double>({2}, 1.0);
            CHECK(a[0] == copy.normal());
            CHECK(a[1] == copy.normal());
            CHECK(b[0] == copy.normal());
            CHECK(b[1] == copy.normal());
        }
        SUBCASE("modules hand their Init on: a Linear's weight is the Rng's next draws") {
            Rng rng(3), copy(3);
            const Linear<double> lin(2, 3, true, 0.1, rng);
            for (double w : lin.weight.value().values())
                CHECK(w == 0.1 * copy.normal());
            CHECK(lin.bias.value()[0] == 0.0);
        }
        SUBCASE("Init::zeros() gives zeros without drawing") {
            const Init zeros = Init::zeros();
            const TensorF t = zeros.normal<float>({4, 4}, 0.02);
            CHECK(t.shape() == Shape{4, 4});
            for (float v : t.values())
                CHECK(v == 0.0f);
            const Linear<float> lin(4, 4, false, 0.02, Init::zeros());
            for (float v : lin.weight.value().values())
                CHECK(v == 0.0f);
        }
    }
}
