// lib/numerics/rows.hpp: row max, exps and sums of exps.
#include "numerics/rows.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

using namespace ouro::numerics;

namespace {
constexpr float inf = std::numeric_limits<float>::infinity();
}

TEST_SUITE("numerics") {
    TEST_CASE("row_max") {
        SUBCASE("the largest element, -inf for a masked row") {
            std::vector<float> x(37);
            for (std::size_t i = 0; i < x.size(); ++i)
                x[i] = float(std::sin(double(i)));
            x[29] = 3.5f;
            CHECK(row_max(x.data(), 37) == 3.5f);
            CHECK(row_max(x.data(), 29) < 1.0f);
            const std::vector<float> masked(20, -inf);
            CHECK(row_max(masked.data(), 20) == -inf);
            const std::vector<double> lowest{std::numeric_limits<double>::lowest(), -inf};
            CHECK(row_max(lowest.data(), 2) == std::numeric_limits<double>::lowest());
        }
    }

    TEST_CASE("exp_row and row_sum_exp") {
        std::vector<float> x(1000);
        for (std::size_t i = 0; i < x.size(); ++i)
            x[i] = float(std::cos(0.37 * double(i)) * 6.0);
        x[11] = -inf;
        SUBCASE("exp_row is exp_approx of the shifted values") {
            std::vector<float> y(x.size());
            exp_row(x.data(), 1000, 2.0f, y.data());
            for (std::size_t i = 0; i < x.size(); ++i)
                CHECK(y[i] == exp_approx(x[i] - 2.0f));
            CHECK(y[11] == 0.0f);
        }
        SUBCASE("row_sum_exp is the ordered sum of the stored exps, in double or in float") {
            std::vector<float> y(x.size());
            for (std::int64_t n : {1, 16, 255, 256, 257, 1000}) {
                exp_row(x.data(), n, 6.0f, y.data());
                INFO("n = " << n);
                CHECK(row_sum_exp<double>(x.data(), n, 6.0f) == sum_double(y.data(), n));
                CHECK(row_sum_exp<float>(x.data(), n, 6.0f) == row_sum(y.data(), n));
            }
        }
        SUBCASE("double rows use std::exp") {
            const std::vector<double> xd{0.5, -1.25, 2.0};
            CHECK(row_sum_exp<double>(xd.data(), 3, 2.0) ==
                  std::exp(0.5 - 2.0) + std::exp(-1.25 - 2.0) + std::exp(0.0));
        }
    }
}
