#include <ouro/core/parallel.hpp>
#include <ouro/core/tensor.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>

using namespace ouro;

TEST_SUITE("core") {
    TEST_CASE("Tensor") {
        SUBCASE("zero-initialised, aligned to 64 bytes, row-major") {
            TensorF t({2, 3});
            CHECK(t.numel() == 6);
            CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
            for (float v : t.values())
                CHECK(v == 0.0f);
            t.at({1, 2}) = 5.0f;
            CHECK(t[5] == 5.0f);
        }
        SUBCASE("copies are deep, moves transfer the buffer") {
            TensorD a({2}, {1.0, 2.0});
            TensorD b = a;
            b[0] = 9.0;
            CHECK(a[0] == 1.0);
            const double* p = a.data();
            TensorD c = std::move(a);
            CHECK(c.data() == p);
            CHECK(a.numel() == 0);
        }
        SUBCASE("large tensors are filled and copied whole, at any thread count") {
            // Above parallel_fill_threshold the fill and the copy run over blocks of all threads;
            // an odd size leaves a short last block.
            const std::int64_t n = 3 * detail::parallel_fill_threshold + 7;
            for (int threads : {1, 2, 3}) {
                ThreadCountGuard guard(threads);
                TensorF t({n}, 2.5f);
                std::int64_t wrong = 0;
                for (float v : t.values())
                    wrong += v != 2.5f;
                CHECK(wrong == 0);
                for (std::int64_t i = 0; i < n; ++i)
                    t[i] = float(i % 1000);
                const TensorF c = t;
                CHECK(std::equal(c.values().begin(), c.values().end(), t.values().begin()));
                t.zero();
                CHECK(*std::max_element(t.values().begin(), t.values().end()) == 0.0f);
                CHECK(*std::min_element(t.values().begin(), t.values().end()) == 0.0f);
            }
        }
        SUBCASE("uninitialized has the shape and an aligned buffer") {
            TensorF t = TensorF::uninitialized({3, 5});
            CHECK(t.shape() == Shape{3, 5});
            CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
            t.fill(1.0f);
            CHECK(t.at({2, 4}) == 1.0f);
            CHECK(TensorD::uninitialized({0}).empty());
        }
        SUBCASE("reshaping an rvalue keeps the buffer") {
            TensorF a({2, 3}, {0, 1, 2, 3, 4, 5});
            const float* p = a.data();
            TensorF b = std::move(a).reshaped({3, 2});
            CHECK(b.data() == p);
            CHECK(b.at({2, 1}) == 5.0f);
        }
        SUBCASE("rejects bad sizes and indices") {
            CHECK_THROWS_WITH_AS(TensorF({2, 2}, {1.0f, 2.0f}),
                                 "Tensor: 2 values given for shape (2, 2) (4 elements)",
                                 ShapeError);
            TensorF a({2, 3});
            CHECK_THROWS_WITH_AS(
                a.at({2, 0}), "Tensor::at: index (2, 0) out of range for shape (2, 3)", ShapeError);
            CHECK_THROWS_WITH_AS(a.reshaped({4, 2}),
                                 "reshape: cannot view (2, 3) (6 elements) as (4, 2) (8 elements)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(
                a.item(), "Tensor::item: tensor of shape (2, 3) has 6 elements, not 1", ShapeError);
        }
        SUBCASE("refuses a huge shape before allocating instead of wrapping its size") {
            // Before the check, (2^62 + 4) x 4 elements wrapped to a 16-element buffer that a
            // matmul then read far past.
            CHECK_THROWS_WITH_AS(TensorF({4611686018427387908, 4}),
                                 "Shape: (4611686018427387908, 4) has more than 2^48 elements",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(TensorD({std::int64_t(1) << 30, std::int64_t(1) << 30}, 1.0),
                                 "Shape: (1073741824, 1073741824) has more than 2^48 elements",
                                 ShapeError);
            TensorF a({2, 3});
            CHECK_THROWS_WITH_AS(a.reshaped({std::int64_t(1) << 62, 4}),
                                 "Shape: (4611686018427387904, 4) has more than 2^48 elements",
                                 ShapeError);
        }
    }
}
