// The decode schedules of the ops, which the inference session calls from inside its parallel
// region: linear's register-tiled rows kernel (float and half weights), the serial LayerNorm and
// GELU kernels; each checked against its op's reference and its parallel schedule.
#include "test_util.hpp"

#include <ouro/core/parallel.hpp>
#include <ouro/ops/gelu.hpp>
#include <ouro/ops/layernorm.hpp>
#include <ouro/ops/matmul.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

using namespace ouro;
using namespace ouro::ops;

TEST_SUITE("ops") {
    TEST_CASE("linear_rows") {
        Rng rng(3);
        const std::int64_t in = 37, out = 45; // tails in both the sums and the feature tiles
        const TensorF x = ouro::testing::random_tensor<float>({7, in}, rng);
        const TensorF w = ouro::testing::random_tensor<float>({out, in}, rng);
        const TensorF b = ouro::testing::random_tensor<float>({out}, rng);

        SUBCASE("forward matches reference") {
            for (const LinearInto into : {LinearInto::overwrite, LinearInto::add}) {
                TensorF y = ouro::testing::random_tensor<float>({7, out}, rng);
                TensorF expected = y;
                linear_rows(x.data(), 7, in, w.data(), b.data(), y.data(), out, 0, out, into);
                linear_rows_reference(x.data(), 7, in, w.data(), b.data(), expected.data(), out, 0,
                                      out, into);
                ouro::testing::check_close(y, expected, 1e-6, 1e-5);
            }
            TensorF y({7, out}), expected({7, out});
            linear_rows(x.data(), 7, in, w.data(), nullptr, y.data(), out, 0, out);
            linear_rows_reference(x.data(), 7, in, w.data(), nullptr, expected.data(), out, 0, out);
            ouro::testing::check_close(y, expected, 1e-6, 1e-5);
        }
        SUBCASE("matches the training schedule's reference (linear_reference)") {
            TensorF y({7, out}), expected({7, out});
            linear_rows(x.data(), 7, in, w.data(), b.data(), y.data(), out, 0, out);
            linear_reference(x.data(), w.data(), b.data(), expected.data(), 7, in, out);
            ouro::testing::check_close(y, expected, 1e-6, 1e-5);
        }
        SUBCASE("a row gets the same bits alone, in any group of rows and any feature block") {
            TensorF all({7, out});
            linear_rows(x.data(), 7, in, w.data(), b.data(), all.data(), out, 0, out);
            for (std::int64_t r = 0; r < 7; ++r) {
                TensorF one({1, out});
                // Odd feature blocks: 0..13, 13..45.
                linear_rows(x.data() + r * in, 1, in, w.data(), b.data(), one.data(), out, 0, 13);
                linear_rows(x.data() + r * in, 1, in, w.data(), b.data(), one.data(), out, 13, out);
                CHECK(std::memcmp(one.data(), all.data() + r * out, sizeof(float) * out) == 0);
            }
            TensorF pair({2, out});
            linear_rows(x.data() + 3 * in, 2, in, w.data(), b.data(), pair.data(), out, 0, out);
            CHECK(std::memcmp(pair.data(), all.data() + 3 * out, sizeof(float) * 2 * out) == 0);
        }
    }

    TEST_CASE("linear_rows: half precision") {
        SUBCASE("linear_rows with half weights matches reference") {
            Rng rng(5);
            const std::int64_t in = 45, out = 21;
            const TensorF x = ouro::testing::random_tensor<float>({5, in}, rng);
            const TensorF w = ouro::testing::random_tensor<float>({out, in}, rng);
            std::vector<Half> h(std::size_t(out * in));
            to_half(w.data(), h.data(), out * in);
            TensorF y({5, out}), expected({5, out});
            linear_rows(x.data(), 5, in, h.data(), nullptr, y.data(), out, 0, out);
            linear_rows_reference(x.data(), 5, in, h.data(), nullptr, expected.data(), out, 0, out);
            ouro::testing::check_close(y, expected, 1e-6, 1e-5);
            // Rounding the weights to half moves the result by about 2^-11 relative.
            TensorF exact({5, out});
            linear_rows_reference(x.data(), 5, in, w.data(), nullptr, exact.data(), out, 0, out);
            ouro::testing::check_close(y, exact, 2e-3, 2e-3);
        }
    }

    TEST_CASE("layernorm and gelu serial kernels") {
        SUBCASE("bit-identical to the parallel kernels") {
            Rng rng(4);
            const std::int64_t N = 300, C = 64; // enough rows for the parallel kernel to split
            const TensorF x = ouro::testing::random_tensor<float>({N, C}, rng, -3.0, 3.0);
            const TensorF w = ouro::testing::random_tensor<float>({C}, rng);
            const TensorF b = ouro::testing::random_tensor<float>({C}, rng);
            TensorF y1({N, C}), y2({N, C}), m1({N}), m2({N}), r1({N}), r2({N});
            ThreadCountGuard threads(2);
            ops::layernorm_forward(x.data(), w.data(), b.data(), y1.data(), m1.data(), r1.data(), N,
                                   C, 1e-5);
            ops::layernorm_forward_serial(x.data(), w.data(), b.data(), y2.data(), m2.data(),
                                          r2.data(), N, C, 1e-5);
            CHECK(ouro::testing::bitwise_equal(y1, y2));
            CHECK(ouro::testing::bitwise_equal(r1, r2));
            TensorF g1({N, C}), g2({N, C});
            ops::gelu_forward(x.data(), g1.data(), N * C);
            ops::gelu_forward_serial(x.data(), g2.data(), N * C);
            CHECK(ouro::testing::bitwise_equal(g1, g2));
        }
    }
}
