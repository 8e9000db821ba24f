#include <ouro/core/checked.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <vector>

using namespace ouro;

TEST_SUITE("core") {
    TEST_CASE("checked size arithmetic") {
        constexpr std::int64_t big = std::numeric_limits<std::int64_t>::max();
        SUBCASE("products and sums that fit are exact") {
            CHECK(checked_mul<std::int64_t>(3, 4) == 12);
            CHECK(
                checked_mul<std::uint64_t>(std::uint64_t(1) << 32, (std::uint64_t(1) << 32) - 1) ==
                ~std::uint64_t(0) - 0xFFFFFFFFu);
            CHECK(checked_add<std::int64_t>(big - 1, 1) == big);
            CHECK(mul_within(6, 7, 42) == 42);
            CHECK(checked_numel(std::vector<std::int64_t>{2, 3, 4}) == 24);
            CHECK(checked_numel(std::vector<std::int64_t>{}) == 1);
            CHECK(checked_numel(std::vector<std::int64_t>{5, 0, 7}) == 0);
        }
        SUBCASE("overflow and out-of-bound results are refused, not wrapped") {
            // The llm.c header of the audit: 12884901888 x 1073741824 x 768 elements.
            CHECK_FALSE(checked_mul<std::int64_t>(12884901888, 1073741824).has_value());
            CHECK_FALSE(mul_within(12884901888, 1073741824 * std::int64_t(768)).has_value());
            CHECK_FALSE(checked_mul<std::int64_t>(4611686018427387908, 4).has_value());
            CHECK_FALSE(checked_mul<std::uint64_t>(std::uint64_t(1) << 32, std::uint64_t(1) << 32)
                            .has_value());
            CHECK_FALSE(checked_add<std::int64_t>(big, 1).has_value());
            CHECK_FALSE(checked_add<std::uint64_t>(~std::uint64_t(0), 1).has_value());
            CHECK_FALSE(mul_within(6, 7, 41).has_value());
            CHECK_FALSE(mul_within(-1, 7).has_value());
            CHECK_FALSE(checked_numel(std::vector<std::int64_t>{4611686018427387908, 4}));
            CHECK_FALSE(checked_numel(std::vector<std::int64_t>{2, -3}));
            CHECK_FALSE(checked_numel(std::vector<std::int64_t>{1 << 30, 1 << 30, 0}));
            CHECK(checked_numel(std::vector<std::int64_t>{1 << 24, 1 << 24}) == max_numel);
            CHECK_FALSE(checked_numel(std::vector<std::int64_t>{1 << 24, (1 << 24) + 1}));
            CHECK(checked_numel(std::vector<std::int64_t>{100, 100}, 10000) == 10000);
            CHECK_FALSE(checked_numel(std::vector<std::int64_t>{100, 101}, 10000));
        }
    }
}
