#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/reshape.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::bitwise_equal;
using ouro::testing::random_tensor;

TEST_SUITE("ops") {
    TEST_CASE("reshape") {
        Rng rng(11);

        SUBCASE("forward matches reference") {
            // 40,000 elements: more than one parallel block.
            const TensorF x = random_tensor<float>({4, 100, 100}, rng);
            for (const Shape& s : {Shape{400, 100}, Shape{40000}, Shape{2, 2, 10, 10, 100}}) {
                const VarF out = reshape(VarF(x), s);
                CHECK(out.shape() == s);
                TensorF expected(s);
                reshape_reference(x.data(), x.numel(), expected.data());
                CHECK(bitwise_equal(out.value(), expected));
                CHECK(out.value()[12345] == x[12345]); // same flat order
            }
            const VarF y = reshape(VarF(TensorF({2, 3}, {1, 2, 3, 4, 5, 6})), Shape{3, 2});
            CHECK(y.value().at({2, 0}) == 5.0f);
            CHECK(y.value().at({0, 1}) == 2.0f);
        }
        SUBCASE("backward adds the gradient in the same flat order") {
            TensorF dx({3, 4}, 1.0f);
            const TensorF dout = random_tensor<float>({12}, rng);
            reshape_backward(dout.data(), 12, dx.data());
            for (std::int64_t i = 0; i < 12; ++i)
                CHECK(dx[i] == 1.0f + dout[i]);
        }
        SUBCASE("gradient matches finite differences") {
            const TensorD x = random_tensor<double>({2, 3, 4}, rng);
            for (const Shape& s : {Shape{6, 4}, Shape{4, 3, 2}, Shape{24}}) {
                const auto r =
                    gradcheck([s](const std::vector<VarD>& v) { return reshape(v[0], s); }, {x},
                              {.atol = 1e-9, .rtol = 1e-7});
                CHECK_MESSAGE(r.ok, r.message);
            }
        }
        SUBCASE("rejects bad shapes") {
            CHECK_THROWS_WITH_AS(reshape(VarF(TensorF({2, 3})), Shape{4, 2}),
                                 "reshape: cannot view (2, 3) (6 elements) as (4, 2) (8 elements)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(reshape(VarD(TensorD({5})), Shape{2, 3}),
                                 "reshape: cannot view (5) (5 elements) as (2, 3) (6 elements)",
                                 ShapeError);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            const TensorF x = random_tensor<float>({8, 64, 96}, rng);
            const TensorF seed = random_tensor<float>({512, 96}, rng);
            TensorF out[2], grad[2];
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                VarF v(x, true);
                const VarF y = reshape(v, Shape{512, 96});
                out[threads - 1] = y.value();
                backward(y, seed);
                grad[threads - 1] = v.grad();
            }
            CHECK(bitwise_equal(out[0], out[1]));
            CHECK(bitwise_equal(grad[0], grad[1]));
            CHECK(bitwise_equal(grad[0], seed.reshaped(x.shape())));
        }
    }
}
