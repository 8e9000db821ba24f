// lib/numerics/sum.hpp: the one fixed summation order, whole or fed in pieces.
#include "numerics/sum.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using namespace ouro::numerics;

namespace {

// The order written out: term i to partial sum i % 16, then k += k + 8, k + 4, k + 2, k + 1.
double spelled_out(const std::vector<double>& x) {
    double lane[16] = {};
    for (std::size_t i = 0; i < x.size(); ++i)
        lane[i % 16] += x[i];
    for (int w = 8; w > 0; w /= 2)
        for (int k = 0; k < w; ++k)
            lane[k] += lane[k + w];
    return lane[0];
}

// Values whose sum depends on the order: large terms that absorb small ones.
std::vector<double> order_sensitive(std::size_t n) {
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i)
        x[i] = (i % 7 == 0 ? 1e16 : 1.0) * (i % 3 == 0 ? -1.0 : 1.0) + double(i) * 0.25;
    return x;
}

} // namespace

TEST_SUITE("numerics") {
    TEST_CASE("ordered_sum") {
        SUBCASE("follows the fixed order, whatever the length") {
            for (std::size_t n : {0, 1, 5, 15, 16, 17, 31, 32, 100, 1000, 1001}) {
                const std::vector<double> x = order_sensitive(n);
                INFO("n = " << n);
                CHECK(sum_double(x.data(), std::int64_t(n)) == spelled_out(x));
                CHECK(row_sum(x.data(), std::int64_t(n)) == spelled_out(x));
            }
            // A naive left-to-right sum differs on these values: the order matters.
            const std::vector<double> x = order_sensitive(1000);
            double naive = 0.0;
            for (double v : x)
                naive += v;
            CHECK(naive != spelled_out(x));
        }
        SUBCASE("fed in pieces of whole lane groups, the sum is the one-call sum") {
            const std::vector<double> x = order_sensitive(1001);
            OrderedSum<double> s;
            for (std::int64_t i0 = 0; i0 < 1001; i0 += 256) {
                const std::int64_t len = std::min<std::int64_t>(256, 1001 - i0);
                s.add(len, [&](std::int64_t i) { return x[std::size_t(i0 + i)]; });
            }
            CHECK(s.total() == spelled_out(x));
        }
        SUBCASE("dot_double and float data widened to double") {
            const std::vector<float> a{1.5f, -2.0f, 3.25f, 1e8f, 1.0f, -1e8f, 0.5f};
            const std::vector<float> b{2.0f, 0.5f, -4.0f, 1.0f, 3.0f, 1.0f, 2.0f};
            std::vector<double> products, widened;
            for (std::size_t i = 0; i < a.size(); ++i) {
                products.push_back(double(a[i]) * double(b[i]));
                widened.push_back(double(a[i]));
            }
            CHECK(dot_double(a.data(), b.data(), 7) == spelled_out(products));
            CHECK(sum_double(a.data(), 7) == spelled_out(widened));
            CHECK(dot_double(a.data(), b.data(), 7) == -7.0);
        }
        SUBCASE("float accumulation stays in float") {
            // 2^24 + 1 + 1: float partial sums lose the ones that double keeps.
            const std::vector<float> x{16777216.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
                                       0.0f,        0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f};
            CHECK(row_sum(x.data(), 17) == 16777216.0f);
            CHECK(sum_double(x.data(), 17) == 16777218.0);
        }
    }
}
