#include <ouro/core/rng.hpp>

#include <doctest/doctest.h>

#include <cmath>

using ouro::Rng;

TEST_SUITE("core") {
    TEST_CASE("Rng") {
        SUBCASE("the same seed gives the same stream, and the state restores it") {
            Rng a(42), b(42);
            for (int i = 0; i < 10; ++i)
                CHECK(a.next_u64() == b.next_u64());
            const auto saved = a.state();
            const auto next = a.next_u64();
            b.set_state(saved);
            CHECK(b.next_u64() == next);
        }
        SUBCASE("SplitMix64 reference values") {
            // First outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
            Rng r(0);
            CHECK(r.next_u64() == 0xe220a8397b1dcdafULL);
            CHECK(r.next_u64() == 0x6e789e6aa1b965f4ULL);
        }
        SUBCASE("uniform and normal have the right moments") {
            Rng r(7);
            double s = 0, s2 = 0, n = 0, n2 = 0;
            const int count = 200000;
            for (int i = 0; i < count; ++i) {
                const double u = r.uniform();
                CHECK((u >= 0.0 && u < 1.0));
                s += u;
                s2 += u * u;
                const double z = r.normal();
                n += z;
                n2 += z * z;
            }
            CHECK(s / count == doctest::Approx(0.5).epsilon(0.01));
            CHECK(s2 / count - (s / count) * (s / count) ==
                  doctest::Approx(1.0 / 12).epsilon(0.02));
            CHECK(std::abs(n / count) < 0.01);
            CHECK(n2 / count == doctest::Approx(1.0).epsilon(0.02));
        }
    }
}
