#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/unary.hpp>

#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// |actual - exact| in units of the float ulp at `exact` (subnormal spacing below FLT_MIN). An
// infinite result must be the correctly rounded one.
double ulp_error(float actual, double exact) {
    if (std::isnan(exact) || std::isnan(actual))
        return std::isnan(exact) && std::isnan(actual) ? 0.0 : inf;
    if (std::isinf(actual) || std::isinf(float(exact)))
        return actual == float(exact) ? 0.0 : inf;
    int e = 0;
    std::frexp(exact, &e);
    return std::abs(double(actual) - exact) / std::ldexp(1.0, std::max(e - 24, -149));
}

// Largest ulp error of the float op over xs, against the C library in double.
double max_ulp_error(UnaryOp op, const std::vector<float>& xs, float& worst_x) {
    const TensorF in(Shape{std::int64_t(xs.size())}, xs);
    const VarF out = unary(op, VarF(in));
    double worst = 0.0;
    for (std::int64_t i = 0; i < in.numel(); ++i) {
        const double x = double(in[i]);
        const double exact = op == UnaryOp::exp ? std::exp(x) : std::tanh(x);
        const double err = ulp_error(out.value()[i], exact);
        if (err > worst) {
            worst = err;
            worst_x = in[i];
        }
    }
    return worst;
}

std::vector<float> linspace(double lo, double hi, int n) {
    std::vector<float> v;
    for (int i = 0; i < n; ++i)
        v.push_back(float(lo + (hi - lo) * i / (n - 1)));
    return v;
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("unary exp / log / tanh") {
        Rng rng(11);
        const UnaryOp all[] = {UnaryOp::exp, UnaryOp::log, UnaryOp::tanh};
        // log needs positive inputs; the others get both signs.
        auto input_range = [](UnaryOp op) {
            return op == UnaryOp::log ? std::pair{0.2, 4.0} : std::pair{-3.0, 3.0};
        };

        SUBCASE("forward matches reference") {
            // Double calls the C library: equal to the reference bit for bit.
            for (UnaryOp op : all) {
                const auto [lo, hi] = input_range(op);
                const TensorD x = random_tensor<double>({3, 5, 7}, rng, lo, hi);
                TensorD expected(x.shape());
                unary_reference(op, x.data(), expected.data(), x.numel());
                const VarD out = unary(op, VarD(x));
                INFO(unary_op_name(op));
                CHECK(out.op() == unary_op_name(op));
                CHECK(ouro::testing::bitwise_equal(out.value(), expected));
            }
            // Float log calls std::log too.
            const TensorF xf = random_tensor<float>({1000}, rng, 1e-3, 1e3);
            TensorF expected(xf.shape());
            unary_reference(UnaryOp::log, xf.data(), expected.data(), xf.numel());
            CHECK(ouro::testing::bitwise_equal(log(VarF(xf)).value(), expected));
        }
        SUBCASE("float exp is within 0.94 ulp, including overflow and subnormal results") {
            // 400,001 points over [-110, 95]: below -103.97 the result rounds to 0, between -103.97
            // and -87.34 it is subnormal, above 88.72 it overflows.
            float worst_x = 0.0f;
            const double worst = max_ulp_error(UnaryOp::exp, linspace(-110, 95, 400001), worst_x);
            INFO("worst error " << worst << " ulp at x = " << worst_x);
            CHECK(worst <= 0.94);
            const TensorF special(Shape{7}, {0.0f, 1.0f, -1.0f, 88.0f, 89.0f, -104.0f, -INFINITY});
            const TensorF y = exp(VarF(special)).value();
            CHECK(y[0] == 1.0f);
            CHECK(y[1] == 2.71828183f);
            CHECK(y[2] == 0.367879441f);
            CHECK(y[3] == doctest::Approx(1.65163625e38).epsilon(1e-7));
            CHECK(std::isinf(y[4]));
            CHECK(y[5] == 0.0f);
            CHECK(y[6] == 0.0f);
            CHECK(exp(VarF(TensorF(Shape{}, {INFINITY}))).item() == INFINITY);
            CHECK(std::isnan(exp(VarF(TensorF(Shape{}, {NAN}))).item()));
        }
        SUBCASE("float tanh is within 1.07 ulp, including saturation") {
            std::vector<float> xs = linspace(-12, 12, 400001);
            for (int k = -300; k <= 0; ++k) // tiny to moderate magnitudes, both signs
                for (float s : {1.0f, -1.0f})
                    xs.push_back(s * float(std::pow(10.0, k / 10.0)));
            for (float x : {0.625f, -0.625f, 0.62499994f, 9.0f, 50.0f, 1e30f, FLT_MAX})
                xs.push_back(x);
            float worst_x = 0.0f;
            const double worst = max_ulp_error(UnaryOp::tanh, xs, worst_x);
            INFO("worst error " << worst << " ulp at x = " << worst_x);
            CHECK(worst <= 1.07);
            const TensorF special(Shape{6}, {0.5f, -0.0f, 20.0f, -20.0f, INFINITY, -INFINITY});
            const TensorF y = tanh(VarF(special)).value();
            CHECK(y[0] == 0.462117165f);
            CHECK((y[1] == 0.0f && std::signbit(y[1])));
            CHECK(y[2] == 1.0f);
            CHECK(y[3] == -1.0f);
            CHECK(y[4] == 1.0f);
            CHECK(y[5] == -1.0f);
            CHECK(std::isnan(tanh(VarF(TensorF(Shape{}, {NAN}))).item()));
        }
        SUBCASE("gradient matches finite differences") {
            for (UnaryOp op : all) {
                const auto [lo, hi] = input_range(op);
                const TensorD x = random_tensor<double>({2, 3, 4}, rng, lo, hi);
                const auto r =
                    gradcheck([op](const std::vector<VarD>& v) { return unary(op, v[0]); }, {x},
                              {.atol = 1e-8, .rtol = 1e-6});
                INFO(unary_op_name(op));
                CHECK_MESSAGE(r.ok, r.message);
            }
            // Through a composition: d/dx log(exp(x)) = 1.
            VarD x(TensorD(Shape{3}, {-2.0, 0.5, 3.0}), true);
            backward(log(exp(x)), TensorD(Shape{3}, 1.0));
            ouro::testing::check_close(x.grad(), TensorD(Shape{3}, 1.0), 1e-15, 0.0);
        }
        SUBCASE("float backward matches double backward") {
            for (UnaryOp op : all) {
                const auto [lo, hi] = input_range(op);
                const TensorD x = random_tensor<double>({4, 37}, rng, lo, hi);
                const TensorD seed = random_tensor<double>({4, 37}, rng);
                VarD xd(x, true);
                VarF xf(x.cast<float>(), true);
                backward(unary(op, xd), seed);
                backward(unary(op, xf), seed.cast<float>());
                INFO(unary_op_name(op));
                ouro::testing::check_close(xf.grad().cast<double>(), xd.grad(), 1e-7, 1e-6);
            }
        }
        SUBCASE("accepts any shape, including scalars and empty tensors") {
            // Elementwise: there is no shape to reject.
            for (const Shape& s : {Shape{}, Shape{0}, Shape{2, 0, 3}, Shape{1, 1, 1, 5}})
                for (UnaryOp op : all) {
                    VarF x(TensorF(s, 1.0f), true);
                    const VarF y = unary(op, x);
                    CHECK(y.shape() == s);
                    backward(y, TensorF(s, 1.0f));
                    CHECK(x.grad().shape() == s);
                }
            CHECK_THROWS_WITH_AS(exp(VarF()), "Var: use of an undefined Var", Error);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            // Three full blocks of 8192 elements and a ragged tail.
            const std::int64_t n = 3 * 8192 + 13;
            for (UnaryOp op : all) {
                const auto [lo, hi] = input_range(op);
                const TensorF x = random_tensor<float>({n}, rng, lo, hi);
                const TensorF seed = random_tensor<float>({n}, rng);
                INFO(unary_op_name(op));
                ouro::testing::check_same_bits_at_1_and_2_threads([&] {
                    VarF v(x, true);
                    const VarF out = unary(op, v);
                    backward(out, seed);
                    return std::vector<TensorF>{out.value(), v.grad()};
                });
            }
        }
    }
}
