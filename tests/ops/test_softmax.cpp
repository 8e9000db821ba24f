#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/softmax.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

namespace {

constexpr float inf = INFINITY;

enum class Kind { softmax, log_softmax };

const char* name(Kind k) {
    return k == Kind::softmax ? "softmax" : "log_softmax";
}

template <typename T> Var<T> apply(Kind k, const Var<T>& x) {
    return k == Kind::softmax ? softmax(x) : log_softmax(x);
}

template <typename T> Tensor<T> reference(Kind k, const Tensor<T>& x) {
    Tensor<T> y(x.shape());
    const std::int64_t C = x.shape().back(), rows = x.shape().rows();
    if (k == Kind::softmax)
        softmax_reference(x.data(), y.data(), rows, C);
    else
        log_softmax_reference(x.data(), y.data(), rows, C);
    return y;
}

// Output and input gradient of op(x) for the given seed.
template <typename T>
std::pair<Tensor<T>, Tensor<T>> forward_backward(Kind k, const Tensor<T>& x,
                                                 const Tensor<T>& seed) {
    Var<T> v(x, true);
    const Var<T> y = apply(k, v);
    backward(y, seed);
    return {y.value(), v.grad()};
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("softmax / log_softmax") {
        Rng rng(41);
        const Kind kinds[] = {Kind::softmax, Kind::log_softmax};

        SUBCASE("forward matches reference") {
            // Row lengths with and without a ragged tail of the 8-lane loop.
            for (const Shape& s : {Shape{5, 37}, Shape{3, 4, 1000}, Shape{2, 8}, Shape{1}})
                for (Kind k : kinds) {
                    INFO(name(k) << " on " << s.to_string());
                    const TensorF xf = random_tensor<float>(s, rng, -8.0, 8.0);
                    const TensorD xd = random_tensor<double>(s, rng, -8.0, 8.0);
                    const VarF yf = apply(k, VarF(xf));
                    CHECK(yf.op() == name(k));
                    CHECK(yf.shape() == s);
                    if (k == Kind::softmax)
                        ouro::testing::check_close(yf.value(), reference(k, xf), 1e-30, 5e-7);
                    else
                        ouro::testing::check_close(yf.value(), reference(k, xf), 1e-6, 2e-7);
                    ouro::testing::check_close(apply(k, VarD(xd)).value(), reference(k, xd), 1e-15,
                                               1e-14);
                }
        }
        SUBCASE("known values, rows sum to one, no overflow for large inputs") {
            const double p[] = {0.090030573170380457998, 0.24472847105479765247,
                                0.66524095577482188953};
            const double lp[] = {-2.4076059644443803045, -1.4076059644443803045,
                                 -0.40760596444438030448};
            // The second row is the first shifted by 1000: e^1000 would overflow, e^(x - max) not.
            const TensorF x(Shape{2, 3}, {1.0f, 2.0f, 3.0f, 1001.0f, 1002.0f, 1003.0f});
            const TensorF y = softmax(VarF(x)).value();
            const TensorF ly = log_softmax(VarF(x)).value();
            for (int r = 0; r < 2; ++r)
                for (int i = 0; i < 3; ++i) {
                    CHECK(double(y[r * 3 + i]) == doctest::Approx(p[i]).epsilon(2e-7));
                    CHECK(double(ly[r * 3 + i]) == doctest::Approx(lp[i]).epsilon(2e-7));
                }
            const TensorF big = random_tensor<float>({16, 4096}, rng, -30.0, 30.0);
            const TensorF probs = softmax(VarF(big)).value();
            for (std::int64_t r = 0; r < 16; ++r) {
                double total = 0.0;
                for (std::int64_t i = 0; i < 4096; ++i)
                    total += double(probs[r * 4096 + i]);
                CHECK(total == doctest::Approx(1.0).epsilon(1e-6));
            }
        }
        SUBCASE("masked, fully masked and non-finite rows") {
            // Rows: partly masked; fully masked; a NaN beside -inf; a +inf.
            const TensorF x(Shape{4, 4}, {0.0f, -inf, 1.0f, -inf, -inf, -inf, -inf, -inf, NAN, -inf,
                                          -inf, -inf, 1.0f, inf, 0.0f, 2.0f});
            const TensorF seed = random_tensor<float>({4, 4}, rng);
            const auto [y, g] = forward_backward(Kind::softmax, x, seed);
            const auto [ly, lg] = forward_backward(Kind::log_softmax, x, seed);
            CHECK(y[0] == doctest::Approx(0.26894142136999512075).epsilon(2e-7));
            CHECK(y[1] == 0.0f);
            CHECK(y[2] == doctest::Approx(0.73105857863000487925).epsilon(2e-7));
            CHECK(y[3] == 0.0f);
            CHECK(ly[0] == doctest::Approx(-1.313261687518222834).epsilon(2e-7));
            CHECK(ly[1] == -inf);
            CHECK(ly[2] == doctest::Approx(-0.31326168751822283405).epsilon(2e-7));
            CHECK(ly[3] == -inf);
            for (int i = 4; i < 8; ++i) {
                CHECK(y[i] == 0.0f);
                CHECK(ly[i] == -inf);
            }
            for (int i = 8; i < 16; ++i) {
                CHECK(std::isnan(y[i]));
                CHECK(std::isnan(ly[i]));
            }
            // Gradients: finite in the masked rows; softmax gives 0 where the probability is 0,
            // log_softmax gives dy there.
            for (int i = 0; i < 8; ++i) {
                CHECK(std::isfinite(g[i]));
                CHECK(std::isfinite(lg[i]));
            }
            CHECK(g[1] == 0.0f);
            CHECK(g[3] == 0.0f);
            for (int i = 4; i < 8; ++i) {
                CHECK(g[i] == 0.0f);
                CHECK(lg[i] == seed[i]);
            }
            // The finite entries of a partly masked row get the gradient of the unmasked softmax.
            const TensorF unmasked(Shape{2}, {0.0f, 1.0f});
            const auto [uy, ug] =
                forward_backward(Kind::softmax, unmasked, TensorF(Shape{2}, {seed[0], seed[2]}));
            CHECK(g[0] == doctest::Approx(ug[0]).epsilon(1e-6));
            CHECK(g[2] == doctest::Approx(ug[1]).epsilon(1e-6));
            // References agree on the special rows.
            const TensorF ry = reference(Kind::softmax, x), rly = reference(Kind::log_softmax, x);
            for (int i = 0; i < 16; ++i) {
                CHECK((ry[i] == y[i] || (std::isnan(ry[i]) && std::isnan(y[i])) ||
                       std::abs(ry[i] - y[i]) < 1e-7f));
                CHECK((rly[i] == ly[i] || (std::isnan(rly[i]) && std::isnan(ly[i])) ||
                       std::abs(rly[i] - ly[i]) < 1e-6f));
            }
        }
        SUBCASE("gradient matches finite differences") {
            for (Kind k : kinds) {
                const TensorD x = random_tensor<double>({2, 3, 5}, rng, -3.0, 3.0);
                const auto r = gradcheck([k](const std::vector<VarD>& v) { return apply(k, v[0]); },
                                         {x}, {.atol = 1e-8, .rtol = 1e-6});
                INFO(name(k));
                CHECK_MESSAGE(r.ok, r.message);
            }
        }
        SUBCASE("float backward matches double backward") {
            for (Kind k : kinds) {
                const TensorD x = random_tensor<double>({6, 37}, rng, -5.0, 5.0);
                const TensorD seed = random_tensor<double>({6, 37}, rng);
                const auto [yd, gd] = forward_backward(k, x, seed);
                const auto [yf, gf] = forward_backward(k, x.cast<float>(), seed.cast<float>());
                INFO(name(k));
                ouro::testing::check_close(gf.cast<double>(), gd, 1e-6, 1e-5);
            }
        }
        SUBCASE("rejects bad shapes") {
            CHECK_THROWS_WITH_AS(softmax(VarF(TensorF(Shape{}))),
                                 "softmax: input must have at least one dimension, got ()",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(log_softmax(VarD(TensorD(Shape{}))),
                                 "log_softmax: input must have at least one dimension, got ()",
                                 ShapeError);
            // Empty rows are fine.
            CHECK(softmax(VarF(TensorF(Shape{3, 0}))).shape() == Shape{3, 0});
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            const TensorF x = random_tensor<float>({67, 1003}, rng, -10.0, 10.0);
            const TensorF seed = random_tensor<float>({67, 1003}, rng);
            for (Kind k : kinds) {
                const auto [y1, g1] = [&] {
                    ThreadCountGuard guard(1);
                    return forward_backward(k, x, seed);
                }();
                const auto [y2, g2] = [&] {
                    ThreadCountGuard guard(2);
                    return forward_backward(k, x, seed);
                }();
                INFO(name(k));
                CHECK(ouro::testing::bitwise_equal(y1, y2));
                CHECK(ouro::testing::bitwise_equal(g1, g2));
            }
        }
    }
}
