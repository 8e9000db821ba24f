#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/elementwise.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

TEST_SUITE("ops") {
    TEST_CASE("binary add / sub / mul / div") {
        Rng rng(1);
        const BinaryOp all[] = {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div};

        SUBCASE("forward matches reference, with and without broadcasting") {
            const TensorF a = random_tensor<float>({4, 5, 6}, rng, 0.5, 2.0);
            for (const Shape& bs : {Shape{4, 5, 6}, Shape{5, 6}, Shape{6}, Shape{}}) {
                const TensorF b = random_tensor<float>(bs, rng, 0.5, 2.0);
                for (BinaryOp op : all) {
                    const VarF out = binary(op, VarF(a), VarF(b));
                    TensorF expected(a.shape());
                    binary_reference(op, a.data(), a.numel(), b.data(), b.numel(), expected.data(),
                                     expected.numel());
                    CHECK(ouro::testing::bitwise_equal(out.value(), expected));
                    // The smaller operand may come first, too.
                    const VarF flipped = binary(op, VarF(b), VarF(a));
                    binary_reference(op, b.data(), b.numel(), a.data(), a.numel(), expected.data(),
                                     expected.numel());
                    CHECK(ouro::testing::bitwise_equal(flipped.value(), expected));
                }
            }
        }
        SUBCASE("gradient matches finite differences") {
            for (const Shape& bs : {Shape{2, 3, 4}, Shape{3, 4}, Shape{4}, Shape{}}) {
                const TensorD a = random_tensor<double>({2, 3, 4}, rng, 0.5, 2.0);
                const TensorD b = random_tensor<double>(bs, rng, 0.5, 2.0);
                for (BinaryOp op : all) {
                    auto f = [op](const std::vector<VarD>& x) { return binary(op, x[0], x[1]); };
                    const auto r = gradcheck(f, {a, b}, {.atol = 1e-8, .rtol = 1e-6});
                    INFO(binary_op_name(op) << " with b of shape " << bs.to_string());
                    CHECK_MESSAGE(r.ok, r.message);
                    const auto r2 = gradcheck(f, {b, a}, {.atol = 1e-8, .rtol = 1e-6});
                    CHECK_MESSAGE(r2.ok, r2.message);
                }
            }
            const auto r =
                gradcheck([](const std::vector<VarD>& x) { return -(x[0] * 3.0 + 0.5) - 1.0; },
                          {random_tensor<double>({5}, rng)});
            CHECK_MESSAGE(r.ok, r.message);
        }
        SUBCASE("a broadcast gradient does not depend on the thread count") {
            const TensorF a = random_tensor<float>({64, 300}, rng);
            const TensorF b = random_tensor<float>({300}, rng);
            TensorF g1, g2;
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                VarF x(a, true), y(b, true);
                backward(x * y, random_tensor<float>({64, 300}, *std::make_unique<Rng>(3)));
                (threads == 1 ? g1 : g2) = y.grad();
            }
            CHECK(ouro::testing::bitwise_equal(g1, g2));
        }
        SUBCASE("rejects bad shapes") {
            CHECK_THROWS_WITH_AS(add(VarF(TensorF({2, 3})), VarF(TensorF({4}))),
                                 "add: shapes do not broadcast: a is (2, 3), b is (4)", ShapeError);
            CHECK_THROWS_WITH_AS(mul(VarF(TensorF({3})), VarF(TensorF({2, 3, 4}))),
                                 "mul: shapes do not broadcast: a is (3), b is (2, 3, 4)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(sub(VarF(TensorF({2, 3})), VarF(TensorF({3, 3}))),
                                 "sub: shapes do not broadcast: a is (2, 3), b is (3, 3)",
                                 ShapeError);
        }
    }
}
