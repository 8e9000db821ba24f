// lib/numerics/exp.hpp: the scalar exp and its AVX2 twin agree bit for bit, both are within
// 0.94 ulp of the exact exp (subnormal results included), and tanh8 is odd and saturates.
#include "numerics/exp.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

using namespace ouro::numerics;

namespace {

// |actual - exact| in ulps of the float at `exact` (subnormal spacing below FLT_MIN).
double ulp_error(float actual, double exact) {
    int e = 0;
    std::frexp(exact, &e);
    return std::abs(double(actual) - exact) / std::ldexp(1.0, std::max(e - 24, -149));
}

// Every 4099th bit pattern (both signs, NaNs and infinities included) and the edges of the
// clamps and of the subnormal range.
std::vector<float> probe_inputs() {
    std::vector<float> xs;
    for (std::uint64_t bits = 0; bits < (std::uint64_t(1) << 32); bits += 4099)
        xs.push_back(std::bit_cast<float>(std::uint32_t(bits)));
    for (float x : {0.0f,
                    -0.0f,
                    1.0f,
                    -1.0f,
                    88.72f,
                    88.7228394f,
                    88.7228469f,
                    89.0f,
                    89.5f,
                    -87.3365479f,
                    -103.972f,
                    -104.0f,
                    -120.0f,
                    -121.0f,
                    1e-30f,
                    -1e-30f,
                    std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN(),
                    FLT_MAX,
                    -FLT_MAX})
        xs.push_back(x);
    return xs;
}

} // namespace

TEST_SUITE("numerics") {
    TEST_CASE("exp_approx and exp8") {
        SUBCASE("exp8 equals exp_approx in every lane, bit for bit") {
#if OURO_HAVE_AVX2
            const std::vector<float> xs = probe_inputs();
            std::vector<float> vec(xs.size());
            // An odd length, so the masked tail of map8 is exercised too.
            map8(xs.data(), vec.data(), std::int64_t(xs.size()), [](__m256 v) { return exp8(v); });
            std::int64_t differ = 0;
            for (std::size_t i = 0; i < xs.size(); ++i) {
                const float s = exp_approx(xs[i]);
                const bool same =
                    std::bit_cast<std::uint32_t>(s) == std::bit_cast<std::uint32_t>(vec[i]) ||
                    (std::isnan(s) && std::isnan(vec[i]));
                differ += !same;
            }
            CHECK(xs.size() > 1000000);
            CHECK(differ == 0);
#else
            MESSAGE("built without AVX2: exp8 does not exist");
#endif
        }
        SUBCASE("within 0.94 ulp, subnormal results included") {
            double worst_normal = 0.0, worst_subnormal = 0.0;
            for (int i = 0; i <= 400000; ++i) {
                const float x = float(-110.0 + 205.0 * i / 400000);
                const double exact = std::exp(double(x));
                if (exact >= double(std::numeric_limits<float>::max()))
                    continue; // overflow: checked below
                const double err = ulp_error(exp_approx(x), exact);
                (exact >= double(FLT_MIN) ? worst_normal : worst_subnormal) =
                    std::max(exact >= double(FLT_MIN) ? worst_normal : worst_subnormal, err);
            }
            INFO("normal " << worst_normal << " ulp, subnormal " << worst_subnormal << " ulp");
            CHECK(worst_normal <= 0.94);
            CHECK(worst_subnormal <= 0.94);
        }
        SUBCASE("special values") {
            CHECK(exp_approx(0.0f) == 1.0f);
            CHECK(exp_approx(-0.0f) == 1.0f);
            CHECK(exp_approx(1.0f) == 2.71828183f);
            CHECK(exp_approx(-1.0f) == 0.367879441f);
            CHECK(exp_approx(89.0f) == std::numeric_limits<float>::infinity());
            CHECK(exp_approx(std::numeric_limits<float>::infinity()) ==
                  std::numeric_limits<float>::infinity());
            CHECK(exp_approx(-std::numeric_limits<float>::infinity()) == 0.0f);
            CHECK(exp_approx(-104.0f) == 0.0f);
            CHECK(exp_approx(-100.0f) > 0.0f); // subnormal, not flushed
            CHECK(exp_approx(-100.0f) < FLT_MIN);
            CHECK(std::isnan(exp_approx(std::numeric_limits<float>::quiet_NaN())));
        }
        SUBCASE("exp_kernel is exp_approx for float and std::exp for double") {
            CHECK(exp_kernel(0.3f) == exp_approx(0.3f));
            CHECK(exp_kernel(0.3) == std::exp(0.3));
        }
    }

    TEST_CASE("tanh8") {
#if OURO_HAVE_AVX2
        SUBCASE("odd, saturating, and close to std::tanh") {
            alignas(32) float in[8] = {0.5f, -0.0f, 20.0f, -20.0f, 0.625f, -3.0f, 1e-20f, 0.1f};
            alignas(32) float out[8];
            _mm256_store_ps(out, tanh8(_mm256_load_ps(in)));
            CHECK(out[0] == 0.462117165f);
            CHECK((out[1] == 0.0f && std::signbit(out[1])));
            CHECK(out[2] == 1.0f);
            CHECK(out[3] == -1.0f);
            for (int i = 4; i < 8; ++i)
                CHECK(out[i] == doctest::Approx(std::tanh(double(in[i]))).epsilon(2e-7));
        }
#else
        MESSAGE("built without AVX2: tanh8 does not exist");
#endif
    }
}
