#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/swiglu.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

namespace {

// silu(a) u with u = 1.5, and with dout = 1 the gate and up gradients, to 20 digits (40-digit
// decimal arithmetic).
struct Exact {
    double a, y, dgate, dup;
};
constexpr Exact exact_values[] = {
    {-20.0, -6.1834608545706107443e-8, -5.8742877990970174937e-8, -4.1223072363804071629e-8},
    {-3.0, -2.1341642929905051395e-1, -1.3215615902275442560e-1, -1.4227761953270034264e-1},
    {-0.5, -2.8315550159860907652e-1, 3.9005821904602228624e-1, -1.8877033439907271768e-1},
    {0.0, 0.0, 0.75, 0.0},
    {0.5, 4.6684449840139092348e-1, 1.1099417809539777138e+0, 3.1122966560092728232e-1},
    {2.0, 2.6423912339336473322e+0, 1.6361763731773432181e+0, 1.7615941559557648881e+0},
    {10.0, 1.4999319031969463484e+1, 1.5006128403129856235e+0, 9.9995460213129756561e+0},
};

// Value and gradient of swiglu(x) for the given seed.
template <typename T>
std::pair<Tensor<T>, Tensor<T>> swiglu_and_grad(const Tensor<T>& x, const Tensor<T>& seed) {
    Var<T> v(x, true);
    const Var<T> y = swiglu(v);
    backward(y, seed);
    return {y.value(), v.grad()};
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("swiglu") {
        Rng rng(23);

        SUBCASE("forward matches reference") {
            // H = 13 and 40: a vector body and a masked tail.
            for (const Shape& s : {Shape{2, 3, 26}, Shape{5, 80}, Shape{2}}) {
                INFO(s.to_string());
                const std::int64_t N = s.rows(), H = s.back() / 2;
                const TensorD x = random_tensor<double>(s, rng, -6.0, 6.0);
                TensorD expected(s.with_dim(-1, H));
                swiglu_reference(x.data(), expected.data(), N, H);
                const VarD y = swiglu(VarD(x));
                CHECK(y.op() == "swiglu");
                CHECK(y.shape() == expected.shape());
                ouro::testing::check_close(y.value(), expected, 1e-15, 1e-14);
                // Float: against the reference evaluated in double.
                const TensorF xf = x.cast<float>();
                const TensorD xfd = xf.cast<double>();
                swiglu_reference(xfd.data(), expected.data(), N, H);
                ouro::testing::check_close(swiglu(VarF(xf)).value().cast<double>(), expected, 1e-7,
                                           1e-6);
            }
        }
        SUBCASE("serial kernel equals the parallel one bit for bit") {
            const std::int64_t N = 40, H = 301; // N * H above the parallel threshold
            const TensorF x = random_tensor<float>({N, 2 * H}, rng, -8.0, 8.0);
            TensorF y1({N, H}), y2({N, H});
            ThreadCountGuard guard(2);
            swiglu_forward(x.data(), y1.data(), N, H);
            swiglu_forward_serial(x.data(), y2.data(), N, H);
            CHECK(ouro::testing::bitwise_equal(y1, y2));
        }
        SUBCASE("values and derivatives match the exact formula") {
            // One row: gates a, then the up halves, all 1.5.
            const std::int64_t H = std::int64_t(std::size(exact_values));
            std::vector<double> xs(std::size_t(2 * H), 1.5);
            for (std::size_t i = 0; i < std::size(exact_values); ++i)
                xs[i] = exact_values[i].a;
            const TensorD xd(Shape{1, 2 * H}, xs);
            const auto [yd, gd] = swiglu_and_grad(xd, TensorD(Shape{1, H}, 1.0));
            const auto [yf, gf] = swiglu_and_grad(xd.cast<float>(), TensorF(Shape{1, H}, 1.0f));
            for (std::int64_t i = 0; i < H; ++i) {
                const Exact& e = exact_values[std::size_t(i)];
                INFO("a = " << e.a);
                CHECK(yd[i] == doctest::Approx(e.y).epsilon(1e-14));
                CHECK(gd[i] == doctest::Approx(e.dgate).epsilon(1e-14));
                CHECK(gd[H + i] == doctest::Approx(e.dup).epsilon(1e-14));
                CHECK(double(yf[i]) == doctest::Approx(e.y).epsilon(1e-6));
                CHECK(double(gf[i]) == doctest::Approx(e.dgate).epsilon(1e-6));
                CHECK(double(gf[H + i]) == doctest::Approx(e.dup).epsilon(1e-6));
            }
        }
        SUBCASE("extreme inputs give finite gradients") {
            // Gates -1000, -200, 100, 200 with up 2: far tails of the sigmoid, where e^(-a)
            // would overflow and e^(-|a|) underflows to 0.
            const TensorF x(Shape{1, 8}, {-1000.0f, -200.0f, 100.0f, 200.0f, 2, 2, 2, 2});
            const auto [y, g] = swiglu_and_grad(x, TensorF(Shape{1, 4}, 1.0f));
            CHECK(y[0] == 0.0f);
            CHECK(y[1] == 0.0f);
            CHECK(y[2] == 200.0f);
            CHECK(y[3] == 400.0f);
            CHECK(g[0] == 0.0f); // d_gate -> 0 on the left
            CHECK(g[1] == 0.0f);
            CHECK(g[2] == 2.0f); // d_gate -> u on the right
            CHECK(g[3] == 2.0f);
            CHECK(g[6] == 100.0f); // d_up = silu(a)
            const auto [yd, gd] =
                swiglu_and_grad(TensorD(Shape{2}, {-1000.0, 3.0}), TensorD(Shape{1}, 1.0));
            CHECK(yd[0] == 0.0);
            CHECK(gd[0] == 0.0);
            CHECK(gd[1] == 0.0);
            CHECK(std::isnan(swiglu(VarF(TensorF(Shape{2}, {NAN, 1.0f}))).item()));
        }
        SUBCASE("gradient matches finite differences") {
            for (const Shape& s : {Shape{2, 3, 10}, Shape{3, 18}}) {
                INFO(s.to_string());
                const auto r = gradcheck([](const std::vector<VarD>& v) { return swiglu(v[0]); },
                                         {random_tensor<double>(s, rng, -5.0, 5.0)},
                                         {.atol = 1e-8, .rtol = 1e-6});
                CHECK_MESSAGE(r.ok, r.message);
            }
        }
        SUBCASE("float backward matches double backward") {
            const TensorD x = random_tensor<double>({6, 2 * 37}, rng, -6.0, 6.0);
            const TensorD seed = random_tensor<double>({6, 37}, rng);
            const auto d = swiglu_and_grad(x, seed);
            const auto f = swiglu_and_grad(x.cast<float>(), seed.cast<float>());
            ouro::testing::check_close(f.second.cast<double>(), d.second, 1e-6, 1e-5);
        }
        SUBCASE("gradients add into what is there") {
            const TensorD x = random_tensor<double>({3, 10}, rng);
            const TensorD g = random_tensor<double>({3, 5}, rng);
            TensorD dx1({3, 10}), dx2({3, 10}, 0.25);
            swiglu_backward(x.data(), g.data(), dx1.data(), 3, 5);
            swiglu_backward(x.data(), g.data(), dx2.data(), 3, 5);
            for (std::int64_t i = 0; i < 30; ++i)
                CHECK(dx2[i] == doctest::Approx(dx1[i] + 0.25).epsilon(1e-15));
        }
        SUBCASE("rejects bad shapes") {
            CHECK_THROWS_WITH_AS(
                swiglu(VarF(TensorF({2, 3, 5}))),
                "swiglu: the last dimension must be even (gate and up halves), got (2, 3, 5)",
                ShapeError);
            CHECK_THROWS_WITH_AS(swiglu(VarF(TensorF(Shape{}))),
                                 "swiglu: input must have at least one dimension, got ()",
                                 ShapeError);
            // An empty last dimension is even: the result is empty too.
            CHECK(swiglu(VarF(TensorF({3, 0}))).shape() == Shape{3, 0});
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            // (B, T, 2H) with H = 173: rows split over threads, a masked tail in every row.
            const TensorF x = random_tensor<float>({3, 37, 2 * 173}, rng, -8.0, 8.0);
            const TensorF seed = random_tensor<float>({3, 37, 173}, rng);
            TensorF y[2], g[2];
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                std::tie(y[threads - 1], g[threads - 1]) = swiglu_and_grad(x, seed);
            }
            CHECK(ouro::testing::bitwise_equal(y[0], y[1]));
            CHECK(ouro::testing::bitwise_equal(g[0], g[1]));
        }
    }
}
