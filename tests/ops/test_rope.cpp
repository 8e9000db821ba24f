#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/rope.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

TEST_SUITE("ops") {
    TEST_CASE("rope") {
        Rng rng(5);
        SUBCASE("worked by hand: one head of size 4 at position 1, in both layouts") {
            // HS = 4. Position 1: angle_0 = 1 * 10000^0 = 1, angle_1 = 1 * 10000^(-1/2) = 0.01.
            // Row 1 is (1, 0, 0, 1); its first pair, (1, 0), rotates to (cos 1, sin 1) and its
            // second, (0, 1), to (-sin 0.01, cos 0.01). The pairs are (x0, x2) and (x1, x3) in
            // the half layout, (x0, x1) and (x2, x3) in the interleaved one. Position 0 (row 0) is
            // left unchanged.
            struct Case {
                RopeLayout layout;
                int first[2], second[2]; // where each pair's two outputs land
            };
            const TensorD x({1, 2, 4}, {1, 2, 3, 4, 1, 0, 0, 1});
            for (const Case& k : {Case{RopeLayout::half, {4, 6}, {5, 7}},
                                  Case{RopeLayout::interleaved, {4, 5}, {6, 7}}}) {
                const TensorD y = rope(VarD(x), 1, {.layout = k.layout}).value();
                CAPTURE(k.first[1]);
                for (int i = 0; i < 4; ++i)
                    CHECK(y[i] == x[i]);
                CHECK(y[k.first[0]] == doctest::Approx(std::cos(1.0)).epsilon(1e-15));
                CHECK(y[k.first[1]] == doctest::Approx(std::sin(1.0)).epsilon(1e-15));
                CHECK(y[k.second[0]] == doctest::Approx(-std::sin(0.01)).epsilon(1e-15));
                CHECK(y[k.second[1]] == doctest::Approx(std::cos(0.01)).epsilon(1e-15));
            }
        }
        SUBCASE("forward matches reference, with a position offset") {
            const TensorF x = random_tensor<float>({2, 9, 24}, rng);
            const TensorD xd = x.cast<double>();
            for (RopeLayout layout : {RopeLayout::half, RopeLayout::interleaved})
                for (std::int64_t offset : {0, 37}) {
                    INFO("interleaved " << (layout == RopeLayout::interleaved) << ", offset "
                                        << offset);
                    const RopeOptions o{
                        .base = 10000.0, .position_offset = offset, .layout = layout};
                    TensorF expected(x.shape());
                    rope_reference(x.data(), expected.data(), 2, 9, 24, 3, o);
                    ouro::testing::check_close(rope(VarF(x), 3, o).value(), expected, 1e-6, 1e-5);
                    TensorD expected_d(x.shape());
                    rope_reference(xd.data(), expected_d.data(), 2, 9, 24, 3, o);
                    ouro::testing::check_close(rope(VarD(xd), 3, o).value(), expected_d, 1e-15,
                                               1e-13);
                }
        }
        SUBCASE("the layouts are the same rotation on permuted channels") {
            // Channel 2i of an interleaved head holds what channel i of a half head holds, and
            // channel 2i + 1 what channel i + HS/2 holds.
            const std::int64_t HS = 8, half = HS / 2;
            const TensorD x = random_tensor<double>({2, 5, 2 * HS}, rng);
            TensorD permuted(x.shape());
            for (std::int64_t row = 0; row < 10; ++row)
                for (std::int64_t h = 0; h < 2; ++h)
                    for (std::int64_t i = 0; i < half; ++i) {
                        const std::int64_t head = row * 2 * HS + h * HS;
                        permuted[head + 2 * i] = x[head + i];
                        permuted[head + 2 * i + 1] = x[head + i + half];
                    }
            const TensorD a = rope(VarD(x), 2, {.position_offset = 3}).value();
            const TensorD b =
                rope(VarD(permuted), 2, {.position_offset = 3, .layout = RopeLayout::interleaved})
                    .value();
            for (std::int64_t row = 0; row < 10; ++row)
                for (std::int64_t h = 0; h < 2; ++h)
                    for (std::int64_t i = 0; i < half; ++i) {
                        const std::int64_t head = row * 2 * HS + h * HS;
                        CHECK(b[head + 2 * i] == a[head + i]);
                        CHECK(b[head + 2 * i + 1] == a[head + i + half]);
                    }
        }
        SUBCASE("rope_rotate and rope_angles give rope_forward's bits") {
            // Every head of every row rotated one at a time, as the decoding session does.
            const std::int64_t B = 2, T = 7, HS = 18, C = 3 * HS;
            const TensorF x = random_tensor<float>({B, T, C}, rng, -3.0, 3.0);
            for (RopeLayout layout : {RopeLayout::half, RopeLayout::interleaved}) {
                INFO("interleaved " << (layout == RopeLayout::interleaved));
                const RopeOptions o{.base = 500000.0, .position_offset = 11, .layout = layout};
                TensorF expected(x.shape()), rotated(x.shape()), in_place = x;
                rope_forward(x.data(), expected.data(), B, T, C, 3, o);
                std::vector<float> cos_sin(std::size_t(HS), 0.0f);
                for (std::int64_t b = 0; b < B; ++b)
                    for (std::int64_t t = 0; t < T; ++t) {
                        rope_angles(o.position_offset + t, o.base, HS, cos_sin.data());
                        for (std::int64_t h = 0; h < 3; ++h) {
                            const std::int64_t at = (b * T + t) * C + h * HS;
                            rope_rotate(x.data() + at, rotated.data() + at, cos_sin.data(), HS,
                                        layout);
                            rope_rotate(in_place.data() + at, in_place.data() + at, cos_sin.data(),
                                        HS, layout);
                        }
                    }
                CHECK(ouro::testing::bitwise_equal(rotated, expected));
                CHECK(ouro::testing::bitwise_equal(in_place, expected));
            }
            // The pairs themselves: position 2, HS = 4, base 100: angles 2 and 2 / 10.
            float cs[4];
            rope_angles(2, 100.0, 4, cs);
            CHECK(cs[0] == float(std::cos(2.0)));
            CHECK(cs[1] == float(std::sin(2.0)));
            CHECK(cs[2] == float(std::cos(0.2)));
            CHECK(cs[3] == float(std::sin(0.2)));
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
            for (RopeLayout layout : {RopeLayout::half, RopeLayout::interleaved}) {
                INFO("interleaved " << (layout == RopeLayout::interleaved));
                const auto r = gradcheck(
                    [layout](const std::vector<VarD>& x) {
                        return rope(x[0], 2, {.position_offset = 3, .layout = layout});
                    },
                    {random_tensor<double>({2, 3, 8}, rng)}, {.atol = 1e-9, .rtol = 1e-7});
                CHECK_MESSAGE(r.ok, r.message);
            }
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            const TensorF x = random_tensor<float>({4, 33, 64}, rng);
            const TensorF g = random_tensor<float>({4, 33, 64}, rng);
            for (RopeLayout layout : {RopeLayout::half, RopeLayout::interleaved}) {
                TensorF out[2], grad[2];
                for (int threads : {1, 2}) {
                    ThreadCountGuard guard(threads);
                    VarF v(x, true);
                    VarF y = rope(v, 4, {.layout = layout});
                    out[threads - 1] = y.value();
                    backward(y, g);
                    grad[threads - 1] = v.grad();
                }
                CHECK(ouro::testing::bitwise_equal(out[0], out[1]));
                CHECK(ouro::testing::bitwise_equal(grad[0], grad[1]));
            }
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
