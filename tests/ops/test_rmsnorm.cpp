#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/rmsnorm.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

namespace {

// Output and the gradients of x and weight for the given seed.
template <typename T> struct Result { Tensor<T> y, dx, dw; };
template <typename T>
Result<T> run(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& seed, double eps = 1e-5) {
    Var<T> xv(x, true), wv(w, true);
    const Var<T> y = rmsnorm(xv, wv, eps);
    backward(y, seed);
    return {y.value(), xv.grad(), wv.grad()};
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("rmsnorm") {
        Rng rng(52);

        SUBCASE("forward matches reference") {
            for (const Shape& s : {Shape{2, 5, 64}, Shape{3, 37}, Shape{1, 1}, Shape{4, 288}}) {
                INFO(s.to_string());
                const std::int64_t C = s.back(), N = s.rows();
                const TensorF x = random_tensor<float>(s, rng, -3.0, 2.0);
                const TensorF w = random_tensor<float>({C}, rng, 0.5, 1.5);
                TensorF y(s), ey(s), rstd({N}), erstd({N});
                rmsnorm_forward(x.data(), w.data(), y.data(), rstd.data(), N, C, 1e-5);
                rmsnorm_reference(x.data(), w.data(), ey.data(), erstd.data(), N, C, 1e-5);
                ouro::testing::check_close(y, ey, 1e-6, 1e-6);
                ouro::testing::check_close(rstd, erstd, 0.0, 1.2e-7);
                const VarF out = rmsnorm(VarF(x), VarF(w));
                CHECK(out.op() == "rmsnorm");
                CHECK(ouro::testing::bitwise_equal(out.value(), y));

                const TensorD xd = x.cast<double>(), wd = w.cast<double>();
                TensorD yd(s), eyd(s), rd({N}), erd({N});
                rmsnorm_forward(xd.data(), wd.data(), yd.data(), rd.data(), N, C, 1e-5);
                rmsnorm_reference(xd.data(), wd.data(), eyd.data(), erd.data(), N, C, 1e-5);
                ouro::testing::check_close(yd, eyd, 1e-14, 1e-13);
                ouro::testing::check_close(rd, erd, 0.0, 1e-15);
            }
        }
        SUBCASE("serial kernel equals the parallel one bit for bit") {
            // Enough rows for the parallel kernel to split them (N * C above its threshold).
            const std::int64_t N = 70, C = 288;
            const TensorF x = random_tensor<float>({N, C}, rng, -2.0, 2.0);
            const TensorF w = random_tensor<float>({C}, rng, 0.5, 1.5);
            TensorF y1({N, C}), y2({N, C}), r1({N}), r2({N});
            ThreadCountGuard guard(2);
            rmsnorm_forward(x.data(), w.data(), y1.data(), r1.data(), N, C, 1e-5);
            rmsnorm_forward_serial(x.data(), w.data(), y2.data(), r2.data(), N, C, 1e-5);
            CHECK(ouro::testing::bitwise_equal(y1, y2));
            CHECK(ouro::testing::bitwise_equal(r1, r2));
        }
        SUBCASE("known values") {
            // x = (1, 2, 3, 4): mean square 7.5; weight 0.5, eps 1e-5.
            const TensorD x(Shape{1, 4}, {1.0, 2.0, 3.0, 4.0});
            const VarD y = rmsnorm(VarD(x), VarD(TensorD(Shape{4}, 0.5)));
            const double expected[] = {0.18257406411905319710, 0.36514812823810639421,
                                       0.54772219235715959131, 0.73029625647621278842};
            for (int i = 0; i < 4; ++i)
                CHECK(y.value()[i] == doctest::Approx(expected[i]).epsilon(1e-15));
            TensorF rstd({1}), out({1, 4});
            const TensorF xf = x.cast<float>(), w(Shape{4}, 1.0f);
            rmsnorm_forward(xf.data(), w.data(), out.data(), rstd.data(), 1, 4, 1e-5);
            CHECK(rstd[0] == doctest::Approx(0.36514812823810639421).epsilon(1e-7));
            // A zero row stays zero (eps keeps rstd finite), and so does its gradient.
            const Result<double> z =
                run(TensorD(Shape{2, 3}), TensorD(Shape{3}, 2.0), TensorD(Shape{2, 3}, 1.0));
            for (std::int64_t i = 0; i < 6; ++i) {
                CHECK(z.y[i] == 0.0);
                CHECK(z.dx[i] == doctest::Approx(2.0 / std::sqrt(1e-5)));
            }
        }
        SUBCASE("gradient matches finite differences") {
            const TensorD x = random_tensor<double>({2, 3, 6}, rng);
            const TensorD w = random_tensor<double>({6}, rng, 0.5, 1.5);
            const auto r = gradcheck([](const std::vector<VarD>& v) { return rmsnorm(v[0], v[1]); },
                                     {x, w}, {.atol = 1e-8, .rtol = 1e-6});
            CHECK_MESSAGE(r.ok, r.message);
            // A larger eps, and a row length that is not a multiple of the 16 summation lanes.
            const auto r2 =
                gradcheck([](const std::vector<VarD>& v) { return rmsnorm(v[0], v[1], 0.1); },
                          {random_tensor<double>({3, 19}, rng), random_tensor<double>({19}, rng)},
                          {.atol = 1e-8, .rtol = 1e-6});
            CHECK_MESSAGE(r2.ok, r2.message);
        }
        SUBCASE("float backward matches double backward") {
            const TensorD x = random_tensor<double>({5, 48}, rng, -2.0, 2.0);
            const TensorD w = random_tensor<double>({48}, rng, 0.5, 1.5);
            const TensorD seed = random_tensor<double>({5, 48}, rng);
            const Result<double> d = run(x, w, seed);
            const Result<float> f = run(x.cast<float>(), w.cast<float>(), seed.cast<float>());
            ouro::testing::check_close(f.dx.cast<double>(), d.dx, 1e-5, 1e-5);
            ouro::testing::check_close(f.dw.cast<double>(), d.dw, 1e-5, 1e-5);
        }
        SUBCASE("gradients add into what is there") {
            const TensorD x = random_tensor<double>({3, 8}, rng);
            const TensorD w = random_tensor<double>({8}, rng);
            const TensorD g = random_tensor<double>({3, 8}, rng);
            TensorD y({3, 8}), rstd({3}), dx1({3, 8}), dw1({8}), dx2({3, 8}, 1.0), dw2({8}, -2.0);
            rmsnorm_forward(x.data(), w.data(), y.data(), rstd.data(), 3, 8, 1e-5);
            rmsnorm_backward(g.data(), x.data(), w.data(), rstd.data(), dx1.data(), dw1.data(), 3,
                             8);
            rmsnorm_backward(g.data(), x.data(), w.data(), rstd.data(), dx2.data(), dw2.data(), 3,
                             8);
            for (std::int64_t i = 0; i < 24; ++i)
                CHECK(dx2[i] == doctest::Approx(dx1[i] + 1.0).epsilon(1e-15));
            for (std::int64_t i = 0; i < 8; ++i)
                CHECK(dw2[i] == doctest::Approx(dw1[i] - 2.0).epsilon(1e-15));
        }
        SUBCASE("rejects bad shapes") {
            const VarF x(TensorF({2, 3, 8}));
            CHECK_THROWS_WITH_AS(rmsnorm(x, VarF(TensorF({7}))),
                                 "rmsnorm: weight must be (C) = (8), got (7)", ShapeError);
            CHECK_THROWS_WITH_AS(rmsnorm(x, VarF(TensorF({1, 8}))),
                                 "rmsnorm: weight must be (C) = (8), got (1, 8)", ShapeError);
            CHECK_THROWS_WITH_AS(rmsnorm(VarF(TensorF(Shape{})), VarF(TensorF({1}))),
                                 "rmsnorm: input must have at least one dimension, got ()",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(rmsnorm(x, VarF()), "rmsnorm: weight is undefined", ConfigError);
            CHECK_THROWS_WITH_AS(rmsnorm(x, VarF(TensorF({8})), 0.0),
                                 "rmsnorm: eps must be finite and > 0, got 0", ConfigError);
            CHECK_THROWS_WITH_AS(rmsnorm(x, VarF(TensorF({8})), -1.0),
                                 "rmsnorm: eps must be finite and > 0, got -1", ConfigError);
            CHECK_THROWS_WITH_AS(rmsnorm(x, VarF(TensorF({8})), INFINITY),
                                 "rmsnorm: eps must be finite and > 0, got inf", ConfigError);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            // N = 400 rows in 58 blocks of 7 (the last one shorter), C = 96.
            const TensorF x = random_tensor<float>({4, 100, 96}, rng, -3.0, 3.0);
            const TensorF w = random_tensor<float>({96}, rng);
            const TensorF seed = random_tensor<float>({4, 100, 96}, rng);
            Result<float> r[2];
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                r[threads - 1] = run(x, w, seed);
            }
            CHECK(ouro::testing::bitwise_equal(r[0].y, r[1].y));
            CHECK(ouro::testing::bitwise_equal(r[0].dx, r[1].dx));
            CHECK(ouro::testing::bitwise_equal(r[0].dw, r[1].dw));
        }
    }
}
