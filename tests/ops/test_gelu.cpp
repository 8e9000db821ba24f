#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/gelu.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

namespace {

// gelu and gelu' of the tanh formula at a few points, to 20 digits (mpmath, 40-digit arithmetic).
struct Exact {
    double x, y, dy;
};
constexpr Exact exact_values[] = {
    {-5.0, -2.2917961966295060456e-7, -1.5463619875325945956e-6},
    {-3.0, -0.0036373920817730188378, -0.011584166630969726204},
    {-1.0, -0.15880800939172329522, -0.08296408384578255514},
    {-0.5, -0.15428599017485607796, 0.13263009646535768844},
    {0.5, 0.34571400982514392204, 0.86736990353464231156},
    {1.0, 0.84119199060827670478, 1.0829640838457825551},
    {2.0, 1.9545976940877750188, 1.0860992566236183816},
    {3.0, 2.9963626079182269812, 1.0115841666309697262},
};

// Values and gradients (seed 1) of gelu at xs.
template <typename T> std::pair<Tensor<T>, Tensor<T>> gelu_and_grad(const Tensor<T>& xs) {
    Var<T> x(xs, true);
    const Var<T> y = gelu(x);
    backward(y, Tensor<T>(xs.shape(), T(1)));
    return {y.value(), x.grad()};
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("gelu") {
        Rng rng(21);

        SUBCASE("forward matches reference") {
            // Double: the sigmoid form against the literal tanh formula.
            const TensorD x = random_tensor<double>({3, 7, 11}, rng, -4.0, 4.0);
            TensorD expected(x.shape());
            gelu_reference(x.data(), expected.data(), x.numel());
            const VarD y = gelu(VarD(x));
            CHECK(y.op() == "gelu");
            ouro::testing::check_close(y.value(), expected, 1e-15, 1e-14);
            // Float: against the reference evaluated in double (the literal float formula loses
            // every digit of 1 + tanh u for x below about -4).
            const TensorF xf = random_tensor<float>({3, 7, 11}, rng, -4.0, 4.0);
            const TensorD xd = xf.cast<double>();
            gelu_reference(xd.data(), expected.data(), xd.numel());
            ouro::testing::check_close(gelu(VarF(xf)).value().cast<double>(), expected, 1e-7, 4e-7);
        }
        SUBCASE("values and derivatives match the exact formula") {
            std::vector<double> xs;
            for (const Exact& e : exact_values)
                xs.push_back(e.x);
            const TensorD xd(Shape{std::int64_t(xs.size())}, xs);
            const auto [yd, gd] = gelu_and_grad(xd);
            const auto [yf, gf] = gelu_and_grad(xd.cast<float>());
            for (std::size_t i = 0; i < xs.size(); ++i) {
                const Exact& e = exact_values[i];
                INFO("x = " << e.x);
                CHECK(yd[std::int64_t(i)] == doctest::Approx(e.y).epsilon(1e-14));
                CHECK(gd[std::int64_t(i)] == doctest::Approx(e.dy).epsilon(1e-14));
                // Float: a few ulp (relative 5e-7) where well conditioned, 1e-6 at x = -5 and -3.
                const double rel = e.x < -2 ? 1e-6 : 5e-7;
                CHECK(double(yf[std::int64_t(i)]) == doctest::Approx(e.y).epsilon(rel));
                CHECK(double(gf[std::int64_t(i)]) == doctest::Approx(e.dy).epsilon(rel));
            }
        }
        SUBCASE("float matches double over [-12, 12], values and gradients") {
            // 400,001 points: within 3 ulp where well conditioned, 1e-7 absolute everywhere.
            const std::int64_t n = 400001;
            TensorD xd(Shape{n});
            for (std::int64_t i = 0; i < n; ++i)
                xd[i] = double(float(-12.0 + 24.0 * double(i) / double(n - 1)));
            const auto [yd, gd] = gelu_and_grad(xd);
            const auto [yf, gf] = gelu_and_grad(xd.cast<float>());
            ouro::testing::check_close(yf.cast<double>(), yd, 1e-7, 4e-7);
            ouro::testing::check_close(gf.cast<double>(), gd, 1e-7, 4e-7);
        }
        SUBCASE("extreme and special inputs") {
            const TensorF x(Shape{6}, {-100.0f, -20.0f, 20.0f, 1e30f, -1e30f, INFINITY});
            const auto [y, g] = gelu_and_grad(x);
            CHECK(y[0] == 0.0f);
            CHECK(y[1] == 0.0f);
            CHECK(y[2] == 20.0f);
            CHECK(y[3] == 1e30f);
            CHECK(y[4] == 0.0f);
            CHECK(y[5] == INFINITY);
            // Far in the tails the gradient is 0 or 1, never NaN (no e^(-2u) overflow).
            CHECK(g[0] == 0.0f);
            CHECK(g[1] == 0.0f);
            CHECK(g[2] == 1.0f);
            CHECK(std::isnan(gelu(VarF(TensorF(Shape{}, {NAN}))).item()));
            CHECK(std::isnan(gelu(VarF(TensorF(Shape{}, {-INFINITY}))).item()));
            const auto [yd, gd] = gelu_and_grad(TensorD(Shape{3}, {-1000.0, -40.0, 40.0}));
            CHECK(yd[0] == 0.0);
            CHECK(gd[0] == 0.0);
            CHECK(gd[1] == 0.0);
            CHECK(gd[2] == 1.0);
        }
        SUBCASE("gradient matches finite differences") {
            const TensorD x = random_tensor<double>({2, 3, 5}, rng, -4.0, 4.0);
            const auto r = gradcheck([](const std::vector<VarD>& v) { return gelu(v[0]); }, {x},
                                     {.atol = 1e-8, .rtol = 1e-6});
            CHECK_MESSAGE(r.ok, r.message);
        }
        SUBCASE("accepts any shape, including scalars and empty tensors") {
            // Elementwise: there is no shape to reject.
            for (const Shape& s : {Shape{}, Shape{0}, Shape{2, 0, 3}, Shape{1, 1, 1, 5}}) {
                VarF x(TensorF(s, 1.0f), true);
                const VarF y = gelu(x);
                CHECK(y.shape() == s);
                backward(y, TensorF(s, 1.0f));
                CHECK(x.grad().shape() == s);
            }
            CHECK_THROWS_WITH_AS(gelu(VarF()), "Var: use of an undefined Var", Error);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            // (B, T, 4C) with a total that is not a multiple of the 8192-element blocks or of 8.
            const TensorF x = random_tensor<float>({3, 37, 4 * 61}, rng, -6.0, 6.0);
            const TensorF seed = random_tensor<float>(x.shape(), rng);
            ouro::testing::check_same_bits_at_1_and_2_threads([&] {
                VarF v(x, true);
                const VarF out = gelu(v);
                backward(out, seed);
                return std::vector<TensorF>{out.value(), v.grad()};
            });
        }
    }
}
