#include <ouro/core/shape.hpp>

#include <doctest/doctest.h>

using ouro::Shape;
using ouro::ShapeError;

TEST_SUITE("core") {
    TEST_CASE("Shape") {
        SUBCASE("dimensions, element count and printing") {
            const Shape s{2, 3, 4};
            CHECK(s.rank() == 3);
            CHECK(s.numel() == 24);
            CHECK(s.rows() == 6);
            CHECK(s[0] == 2);
            CHECK(s[-1] == 4);
            CHECK(s.back() == 4);
            CHECK(s.to_string() == "(2, 3, 4)");
            CHECK(s.prefix(-1) == Shape{2, 3});
            CHECK(s.with_dim(1, 7) == Shape{2, 7, 4});
            CHECK(s.appended(5) == Shape{2, 3, 4, 5});
        }
        SUBCASE("a scalar has rank 0 and one element") {
            const Shape s;
            CHECK(s.rank() == 0);
            CHECK(s.numel() == 1);
            CHECK(s.to_string() == "()");
        }
        SUBCASE("rejects bad dimensions") {
            CHECK_THROWS_WITH_AS(Shape({2, -1}), "Shape: negative dimension in (2, -1)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(Shape({1, 1, 1, 1, 1, 1, 1, 1, 1}),
                                 "Shape: rank 9 exceeds the maximum of 8", ShapeError);
            CHECK_THROWS_WITH_AS(Shape({2, 3}).dim(2), "Shape: dimension 2 out of range for (2, 3)",
                                 ShapeError);
        }
        SUBCASE("rejects more than 2^48 elements instead of wrapping the count") {
            // The fuzzing audit's safetensors shape: the product is 2^64 + 16, which wrapped to 16.
            CHECK_THROWS_WITH_AS(Shape({4611686018427387908, 4}),
                                 "Shape: (4611686018427387908, 4) has more than 2^48 elements",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(Shape({1 << 24, 1 << 24, 2}),
                                 "Shape: (16777216, 16777216, 2) has more than 2^48 elements",
                                 ShapeError);
            // A zero dimension does not excuse the others: rows() would overflow.
            CHECK_THROWS_WITH_AS(Shape({std::int64_t(1) << 40, std::int64_t(1) << 40, 0}),
                                 "Shape: (1099511627776, 1099511627776, 0) has more than 2^48 "
                                 "elements",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(Shape({1 << 24}).appended(std::int64_t(1) << 25),
                                 "Shape: (16777216, 33554432) has more than 2^48 elements",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(Shape({2, 3}).with_dim(0, std::int64_t(1) << 47),
                                 "Shape: (140737488355328, 3) has more than 2^48 elements",
                                 ShapeError);
            // The bound itself is allowed.
            CHECK(Shape({std::int64_t(1) << 24, std::int64_t(1) << 24}).numel() == ouro::max_numel);
            CHECK(Shape({std::int64_t(1) << 47, 0}).numel() == 0);
        }
    }
}
