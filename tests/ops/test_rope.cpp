#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/rope.hpp>

#include <doctest/doctest.h>

#include <cmath>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

TEST_SUITE("ops") {
    TEST_CASE("rope") {
        Rng rng(5);
        SUBCASE("worked by hand: one head of size 4 at position 1") {
            // HS = 4, half = 2. Position 1: angle_0 = 1 * 10000^0 = 1, angle_1 = 1 * 10000^(-1/2)
            // = 0.01. The pair (x0, x2) = (1, 0) rotates to (cos 1, sin 1); the pair (x1, x3) =
            // (0, 1) rotates to (-sin 0.01, cos 0.01). Position 0 (row 0) is left unchanged.
            const TensorD x({1, 2, 4}, {1, 2, 3, 4, 1, 0, 0, 1});
            const VarD y = rope(VarD(x), 1);
            for (int i = 0; i < 4; ++i)
                CHECK(y.value()[i] == x[i]);
            CHECK(y.value()[4] == doctest::Approx(std::cos(1.0)).epsilon(1e-15));
            CHECK(y.value()[6] == doctest::Approx(std::sin(1.0)).epsilon(1e-15));
            CHECK(y.value()[5] == doctest::Approx(-std::sin(0.01)).epsilon(1e-15));
            CHECK(y.value()[7] == doctest::Approx(std::cos(0.01)).epsilon(1e-15));
        }
        SUBCASE("forward matches reference, with a position offset") {
            const TensorF x = random_tensor<float>({2, 9, 24}, rng);
            for (std::int64_t offset : {0, 37}) {
                const RopeOptions o{.base = 10000.0, .position_offset = offset};
                TensorF expected(x.shape());
                rope_reference(x.data(), expected.data(), 2, 9, 24, 3, o);
                ouro::testing::check_close(rope(VarF(x), 3, o).value(), expected, 1e-6, 1e-5);
            }
        }
        SUBCASE("an offset equals rotating a longer sequence and keeping its tail") {
            const TensorD x = random_tensor<double>({1, 6, 8}, rng);
            TensorD tail({1, 2, 8});
            for (int i = 0; i < 16; ++i)
                tail[i] = x[32 + i];
            const VarD full = rope(VarD(x), 2);
            const VarD part = rope(VarD(tail), 2, {.position_offset = 4});
            for (int i = 0; i < 16; ++i)
                CHECK(part.value()[i] == full.value()[32 + i]);
        }
        SUBCASE("gradient matches finite differences") {
            const auto r = gradcheck(
                [](const std::vector<VarD>& x) { return rope(x[0], 2, {.position_offset = 3}); },
                {random_tensor<double>({2, 3, 8}, rng)}, {.atol = 1e-9, .rtol = 1e-7});
            CHECK_MESSAGE(r.ok, r.message);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            const TensorF x = random_tensor<float>({4, 33, 64}, rng);
            const TensorF g = random_tensor<float>({4, 33, 64}, rng);
            TensorF out[2], grad[2];
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                VarF v(x, true);
                VarF y = rope(v, 4);
                out[threads - 1] = y.value();
                backward(y, g);
                grad[threads - 1] = v.grad();
            }
            CHECK(ouro::testing::bitwise_equal(out[0], out[1]));
            CHECK(ouro::testing::bitwise_equal(grad[0], grad[1]));
        }
        SUBCASE("rejects bad shapes and settings") {
            CHECK_THROWS_WITH_AS(rope(VarF(TensorF({2, 8})), 2),
                                 "rope: x must be (B, T, C), got (2, 8)", ShapeError);
            CHECK_THROWS_WITH_AS(rope(VarF(TensorF({1, 2, 6})), 2),
                                 "rope: C = 6 must split into 2 heads of even size, x is (1, 2, 6)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(rope(VarF(TensorF({1, 2, 8})), 0),
                                 "rope: n_head must be at least 1, got 0", ConfigError);
        }
    }
}
