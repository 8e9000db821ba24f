#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/elementwise.hpp>
#include <ouro/ops/reduce.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

namespace {

// (outer, d, inner) of reducing `shape` over axis (non-negative).
struct Split {
    std::int64_t outer = 1, d = 1, inner = 1;
};
Split split(const Shape& shape, int axis) {
    Split s;
    for (int i = 0; i < shape.rank(); ++i)
        (i < axis ? s.outer : i == axis ? s.d : s.inner) *= shape[i];
    return s;
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("sum / mean over everything") {
        Rng rng(31);

        SUBCASE("forward matches reference") {
            for (std::int64_t n : {1, 7, 4096, 4097, 3 * 4096 + 5}) {
                const TensorF xf = random_tensor<float>({n}, rng);
                const TensorD xd = random_tensor<double>({n}, rng);
                for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean}) {
                    INFO(reduce_op_name(op) << " of " << n);
                    const VarF yf = reduce(op, VarF(xf));
                    CHECK(yf.shape() == Shape{});
                    CHECK(yf.op() == reduce_op_name(op));
                    CHECK(yf.item() ==
                          doctest::Approx(reduce_all_reference(op, xf.data(), n)).epsilon(1e-7));
                    CHECK(reduce(op, VarD(xd)).item() ==
                          doctest::Approx(reduce_all_reference(op, xd.data(), n)).epsilon(1e-13));
                }
            }
            const TensorD x(Shape{2, 3}, {1.0, 2.0, 3.0, 4.0, 5.0, 6.5});
            CHECK(sum(VarD(x)).item() == 21.5);
            CHECK(mean(VarD(x)).item() == 21.5 / 6);
        }
        SUBCASE("accumulates float input in double") {
            // A float accumulator drifts by hundreds here; double gives the correctly rounded sum.
            const std::int64_t n = 1000000;
            const TensorF x(Shape{n}, 0.1f);
            CHECK(sum(VarF(x)).item() == 100000.0f);
            CHECK(mean(VarF(x)).item() == 0.1f);
            // Cancellation: 1e8 + 1 - 1e8 in float is 0 term by term; the double sum keeps the 1.
            const TensorF y(Shape{3}, {1e8f, 1.0f, -1e8f});
            CHECK(sum(VarF(y)).item() == 1.0f);
        }
        SUBCASE("empty input") {
            CHECK(sum(VarF(TensorF(Shape{0}))).item() == 0.0f);
            CHECK(std::isnan(mean(VarF(TensorF(Shape{2, 0}))).item()));
        }
        SUBCASE("gradient matches finite differences") {
            const TensorD x = random_tensor<double>({3, 4}, rng);
            for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean}) {
                const auto r =
                    gradcheck([op](const std::vector<VarD>& v) { return reduce(op, v[0]); }, {x},
                              {.atol = 1e-9, .rtol = 1e-7});
                CHECK_MESSAGE(r.ok, r.message);
            }
            // The consumer's example: d/dx sum(x * x) = 2x.
            VarF x3(TensorF(Shape{3}, {1.0f, 2.0f, 3.0f}), true);
            const VarF y = sum(mul(x3, x3));
            backward(y);
            CHECK(y.item() == 14.0f);
            CHECK(ouro::testing::bitwise_equal(x3.grad(), TensorF(Shape{3}, {2.0f, 4.0f, 6.0f})));
            VarF m(TensorF(Shape{4}, 1.0f), true);
            backward(mean(m));
            CHECK(ouro::testing::bitwise_equal(m.grad(), TensorF(Shape{4}, 0.25f)));
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            // Many 4096-element chunks, values of mixed magnitude so that order would show.
            const std::int64_t n = 37 * 4096 + 123;
            TensorF x = random_tensor<float>({n}, rng);
            for (std::int64_t i = 0; i < n; i += 97)
                x[i] *= 1e6f;
            float s[2], m[2];
            TensorF g[2];
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                VarF v(x, true);
                const VarF y = sum(v);
                s[threads - 1] = y.item();
                m[threads - 1] = mean(v).item();
                backward(y);
                g[threads - 1] = v.grad();
            }
            CHECK(std::memcmp(&s[0], &s[1], sizeof(float)) == 0);
            CHECK(std::memcmp(&m[0], &m[1], sizeof(float)) == 0);
            CHECK(ouro::testing::bitwise_equal(g[0], g[1]));
        }
    }

    TEST_CASE("sum / mean over one dimension") {
        Rng rng(32);

        SUBCASE("forward matches reference") {
            const Shape shape{3, 5, 300};
            const TensorF xf = random_tensor<float>(shape, rng);
            const TensorD xd = random_tensor<double>(shape, rng);
            for (int dim : {0, 1, 2, -1, -2, -3})
                for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean}) {
                    const int axis = dim < 0 ? dim + 3 : dim;
                    const Split s = split(shape, axis);
                    INFO(reduce_op_name(op) << " over dim " << dim);
                    const VarF yf = reduce(op, VarF(xf), dim);
                    const VarD yd = reduce(op, VarD(xd), dim);
                    std::vector<std::int64_t> kept;
                    for (int i = 0; i < 3; ++i)
                        if (i != axis)
                            kept.push_back(shape[i]);
                    CHECK(yf.shape() == Shape(kept));
                    TensorF ef(yf.shape());
                    TensorD ed(yd.shape());
                    reduce_dim_reference(op, xf.data(), s.outer, s.d, s.inner, ef.data());
                    reduce_dim_reference(op, xd.data(), s.outer, s.d, s.inner, ed.data());
                    // Inner dimensions are summed in index order like the reference; the last
                    // one in interleaved order, so it may differ in the last bit.
                    ouro::testing::check_close(yf.value(), ef, 1e-7, 1e-6);
                    ouro::testing::check_close(yd.value(), ed, 1e-15, 1e-13);
                    if (axis != 2)
                        CHECK(ouro::testing::bitwise_equal(yf.value(), ef));
                }
            const TensorD x(Shape{2, 3}, {1.0, 2.0, 3.0, 4.0, 5.0, 6.0});
            CHECK(ouro::testing::bitwise_equal(sum(VarD(x), 0).value(),
                                               TensorD(Shape{3}, {5.0, 7.0, 9.0})));
            CHECK(ouro::testing::bitwise_equal(mean(VarD(x), -1).value(),
                                               TensorD(Shape{2}, {2.0, 5.0})));
            CHECK(sum(VarD(TensorD(Shape{4}, 1.5)), 0).shape() == Shape{});
        }
        SUBCASE("the last dimension is summed like a full reduction") {
            const TensorF x = random_tensor<float>({1, 3 * 4096 + 77}, rng);
            const float full = sum(VarF(x)).item();
            const float row = sum(VarF(x), -1).value()[0];
            CHECK(std::memcmp(&full, &row, sizeof(float)) == 0);
            // And each row of a matrix like the full sum of that row.
            const TensorF m = random_tensor<float>({4, 5000}, rng);
            const TensorF rows = sum(VarF(m), 1).value();
            for (std::int64_t r = 0; r < 4; ++r) {
                const float one = reduce_all_forward(ReduceOp::sum, m.data() + r * 5000, 5000);
                CHECK(std::memcmp(&one, &rows[r], sizeof(float)) == 0);
            }
        }
        SUBCASE("empty dimension") {
            const VarF s = sum(VarF(TensorF(Shape{2, 0, 3})), 1);
            CHECK(ouro::testing::bitwise_equal(s.value(), TensorF(Shape{2, 3}, 0.0f)));
            CHECK(std::isnan(mean(VarF(TensorF(Shape{2, 0})), 1).value()[0]));
        }
        SUBCASE("gradient matches finite differences") {
            const TensorD x = random_tensor<double>({2, 3, 4}, rng);
            for (int dim : {0, 1, 2, -1})
                for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean}) {
                    const auto r = gradcheck(
                        [op, dim](const std::vector<VarD>& v) { return reduce(op, v[0], dim); },
                        {x}, {.atol = 1e-9, .rtol = 1e-7});
                    INFO(reduce_op_name(op) << " over dim " << dim);
                    CHECK_MESSAGE(r.ok, r.message);
                }
        }
        SUBCASE("rejects bad shapes") {
            CHECK_THROWS_WITH_AS(sum(VarF(TensorF({2, 3})), 3),
                                 "sum: dimension 3 out of range for (2, 3)", ShapeError);
            CHECK_THROWS_WITH_AS(sum(VarF(TensorF({2, 3})), -3),
                                 "sum: dimension -3 out of range for (2, 3)", ShapeError);
            CHECK_THROWS_WITH_AS(mean(VarD(TensorD({4})), 1),
                                 "mean: dimension 1 out of range for (4)", ShapeError);
            CHECK_THROWS_WITH_AS(mean(VarF(TensorF(Shape{})), 0),
                                 "mean: dimension 0 out of range for ()", ShapeError);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            const TensorF x = random_tensor<float>({7, 301, 67}, rng);
            for (int dim : {0, 1, 2})
                for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean}) {
                    const TensorF seed = random_tensor<float>(sum(VarF(x), dim).shape(), rng);
                    TensorF y[2], g[2];
                    for (int threads : {1, 2}) {
                        ThreadCountGuard guard(threads);
                        VarF v(x, true);
                        const VarF out = reduce(op, v, dim);
                        backward(out, seed);
                        y[threads - 1] = out.value();
                        g[threads - 1] = v.grad();
                    }
                    INFO(reduce_op_name(op) << " over dim " << dim);
                    CHECK(ouro::testing::bitwise_equal(y[0], y[1]));
                    CHECK(ouro::testing::bitwise_equal(g[0], g[1]));
                }
        }
    }
}
