#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/transpose.hpp>

#include <doctest/doctest.h>

#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::bitwise_equal;
using ouro::testing::random_tensor;

namespace {

Shape swapped(const Shape& s, int d0, int d1) {
    return s.with_dim(d0, s[d1]).with_dim(d1, s[d0]);
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("transpose") {
        Rng rng(12);

        SUBCASE("reference gives the textbook transpose") {
            const TensorF x({2, 3}, {0, 1, 2, 3, 4, 5});
            TensorF out({3, 2});
            transpose_reference(x.data(), x.shape(), 0, 1, out.data());
            CHECK(bitwise_equal(out, TensorF({3, 2}, {0, 3, 1, 4, 2, 5})));
            // (2, 2, 2): out[i, j, k] = x[k, j, i].
            const TensorF y({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
            TensorF out3({2, 2, 2});
            transpose_reference(y.data(), y.shape(), 0, 2, out3.data());
            CHECK(bitwise_equal(out3, TensorF({2, 2, 2}, {0, 4, 2, 6, 1, 5, 3, 7})));
        }
        SUBCASE("forward matches reference for every pair of dimensions") {
            // Odd sizes cut tiles short; ones take the flat path; the large shapes run in
            // parallel: (B, T, NH, HS) heads and a batch of (T, T) matrices.
            const Shape shapes[] = {
                Shape{7},           Shape{5, 9},       Shape{3, 37, 45},     Shape{2, 70, 3, 5},
                Shape{2, 1, 3, 4},  Shape{1, 1, 4, 8}, Shape{2, 3, 4, 5, 3}, Shape{4, 64, 8, 32},
                Shape{6, 100, 130}, Shape{2, 300, 70}};
            for (const Shape& s : shapes) {
                const TensorF x = random_tensor<float>(s, rng);
                for (int d0 = 0; d0 < s.rank(); ++d0)
                    for (int d1 = 0; d1 < s.rank(); ++d1) {
                        INFO(s.to_string() << " swapping " << d0 << " and " << d1);
                        const VarF out = transpose(VarF(x), d0, d1);
                        TensorF expected(swapped(s, d0, d1));
                        transpose_reference(x.data(), s, d0, d1, expected.data());
                        CHECK(bitwise_equal(out.value(), expected));
                    }
            }
        }
        SUBCASE("double forward and backward match reference") {
            // Doubles go through their own 4 x 4 register blocks.
            for (const Shape& s : {Shape{3, 37, 45}, Shape{2, 300, 70}, Shape{2, 9, 5, 6}}) {
                const int d0 = s.rank() - 2, d1 = s.rank() - 1;
                const TensorD x = random_tensor<double>(s, rng);
                TensorD expected(swapped(s, d0, d1));
                transpose_reference(x.data(), s, d0, d1, expected.data());
                CHECK(bitwise_equal(transpose(VarD(x), d0, d1).value(), expected));
                // dx += the inverse transpose of dout (= expected here), so dx ends as 2 x.
                TensorD dx = x;
                transpose_backward(expected.data(), s, d0, d1, dx.data());
                std::int64_t wrong = 0;
                for (std::int64_t i = 0; i < s.numel(); ++i)
                    wrong += dx[i] != x[i] + x[i];
                CHECK(wrong == 0);
            }
        }
        SUBCASE("negative dimensions count from the end") {
            const TensorF x = random_tensor<float>({2, 5, 3, 4}, rng);
            CHECK(bitwise_equal(transpose(VarF(x), -1, -2).value(),
                                transpose(VarF(x), 2, 3).value()));
            CHECK(
                bitwise_equal(transpose(VarF(x), 1, -2).value(), transpose(VarF(x), 2, 1).value()));
            CHECK(transpose(VarF(x), -3, -2).shape() == Shape{2, 3, 5, 4});
        }
        SUBCASE("transposing twice gives the input") {
            for (const Shape& s : {Shape{4, 33, 8, 16}, Shape{3, 65, 70}}) {
                const TensorF x = random_tensor<float>(s, rng);
                for (auto [d0, d1] : {std::pair{1, 2}, std::pair{-1, -2}, std::pair{0, 2}}) {
                    const VarF once = transpose(VarF(x), d0, d1);
                    CHECK(bitwise_equal(transpose(once, d1, d0).value(), x));
                }
            }
        }
        SUBCASE("backward adds the inverse transpose") {
            const Shape s{3, 40, 33};
            const TensorF dout = random_tensor<float>(swapped(s, 1, 2), rng);
            TensorF dx = random_tensor<float>(s, rng);
            TensorF expected(s);
            transpose_reference(dout.data(), dout.shape(), 1, 2, expected.data());
            for (std::int64_t i = 0; i < s.numel(); ++i)
                expected[i] += dx[i];
            transpose_backward(dout.data(), s, 1, 2, dx.data());
            CHECK(bitwise_equal(dx, expected));
        }
        SUBCASE("gradient matches finite differences") {
            const TensorD x = random_tensor<double>({2, 3, 4, 2}, rng);
            for (const auto& d : {std::pair{0, 1}, std::pair{1, 2}, std::pair{2, 3},
                                  std::pair{0, 3}, std::pair{-1, 1}, std::pair{2, 2}}) {
                // Not a structured binding: the lambda and INFO capture them (clang 14 refuses).
                const int d0 = d.first, d1 = d.second;
                INFO("swapping " << d0 << " and " << d1);
                const auto r = gradcheck(
                    [d0, d1](const std::vector<VarD>& v) { return transpose(v[0], d0, d1); }, {x},
                    {.atol = 1e-9, .rtol = 1e-7});
                CHECK_MESSAGE(r.ok, r.message);
            }
        }
        SUBCASE("rejects bad shapes") {
            const VarF x(TensorF({2, 3, 4}));
            CHECK_THROWS_WITH_AS(transpose(x, 0, 3),
                                 "transpose: dimension 3 out of range for (2, 3, 4)", ShapeError);
            CHECK_THROWS_WITH_AS(transpose(x, -4, 1),
                                 "transpose: dimension -4 out of range for (2, 3, 4)", ShapeError);
            CHECK_THROWS_WITH_AS(transpose(VarF(TensorF(Shape{})), 0, 0),
                                 "transpose: dimension 0 out of range for ()", ShapeError);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            const Shape s{4, 64, 8, 32};
            const TensorF x = random_tensor<float>(s, rng);
            for (auto [d0, d1] : {std::pair{1, 2}, std::pair{2, 3}, std::pair{0, 3}}) {
                const TensorF seed = random_tensor<float>(swapped(s, d0, d1), rng);
                TensorF out[2], grad[2];
                for (int threads : {1, 2}) {
                    ThreadCountGuard guard(threads);
                    VarF v(x, true);
                    const VarF y = transpose(v, d0, d1);
                    out[threads - 1] = y.value();
                    backward(y, seed);
                    grad[threads - 1] = v.grad();
                }
                CHECK(bitwise_equal(out[0], out[1]));
                CHECK(bitwise_equal(grad[0], grad[1]));
            }
        }
    }
}
