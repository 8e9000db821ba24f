// The 16-bit float codecs of core/half.hpp.
#include <ouro/core/half.hpp>

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <limits>

using namespace ouro;

TEST_SUITE("core") {
    TEST_CASE("16-bit float conversions") {
        SUBCASE("half: exact values and known bit patterns") {
            CHECK(float_to_half(1.0f) == 0x3c00);
            CHECK(float_to_half(-2.0f) == 0xc000);
            CHECK(float_to_half(65504.0f) == 0x7bff);          // largest half
            CHECK(float_to_half(65520.0f) == 0x7c00);          // rounds up to infinity
            CHECK(float_to_half(5.9604644775390625e-8f) == 1); // smallest subnormal
            CHECK(float_to_half(0.1f) == 0x2e66);              // 0.0999755859375
            CHECK(half_to_float(0x2e66) == 0.0999755859375f);
            CHECK(std::isnan(half_to_float(float_to_half(std::nanf("")))));
            CHECK(half_to_float(float_to_half(std::numeric_limits<float>::infinity())) ==
                  std::numeric_limits<float>::infinity());
        }
        SUBCASE("half: round to nearest even at the halfway point") {
            // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties to the even mantissa (1).
            CHECK(float_to_half(1.0f + 0x1.0p-11f) == 0x3c00);
            // 1 + 3 * 2^-11 lies halfway between 1 + 2^-10 and 1 + 2^-9: ties to even (+2^-9).
            CHECK(float_to_half(1.0f + 3 * 0x1.0p-11f) == 0x3c02);
        }
        SUBCASE("half: subnormals and to_half") {
            CHECK(float_to_half(2.9802322e-8f) == 0x0000); // half the smallest subnormal: even
            CHECK(half_to_float(0x3555) == 0.333251953125f);
            const float in[3] = {1.0f, -0.5f, 65519.0f};
            Half out[3] = {};
            to_half(in, out, 3);
            CHECK(out[0] == 0x3c00);
            CHECK(out[1] == 0xb800);
            CHECK(out[2] == 0x7bff);
        }
        SUBCASE("half: every half value survives a round trip") {
            for (std::uint32_t h = 0; h < 0x10000; ++h) {
                const float f = half_to_float(std::uint16_t(h));
                if (std::isnan(f))
                    continue;
                CHECK(float_to_half(f) == h);
            }
        }
        SUBCASE("bfloat16: truncation with round to nearest even") {
            CHECK(float_to_bfloat16(1.0f) == 0x3f80);
            CHECK(bfloat16_to_float(0x3f80) == 1.0f);
            // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1).
            CHECK(float_to_bfloat16(1.0f + 0x1.0p-8f) == 0x3f80);
            CHECK(float_to_bfloat16(1.0f + 0x1.8p-8f) == 0x3f81);
            CHECK(std::isnan(bfloat16_to_float(float_to_bfloat16(std::nanf("")))));
        }
    }
}
