#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/layernorm.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <type_traits>
#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

namespace {

// Output and the gradients of x, weight and bias (when defined) for the given seed.
template <typename T> struct Result { Tensor<T> y, dx, dw, db; };
template <typename T>
Result<T> run(const Tensor<T>& x, const Tensor<T>& w, std::type_identity_t<const Tensor<T>>* b,
              const Tensor<T>& seed) {
    Var<T> xv(x, true), wv(w, true), bv;
    if (b)
        bv = Var<T>(*b, true);
    const Var<T> y = layernorm(xv, wv, bv);
    backward(y, seed);
    return {y.value(), xv.grad(), wv.grad(), b ? bv.grad() : Tensor<T>()};
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("layernorm") {
        Rng rng(51);

        SUBCASE("forward matches reference") {
            for (const Shape& s : {Shape{2, 5, 64}, Shape{3, 37}, Shape{1, 1}})
                for (bool with_bias : {true, false}) {
                    INFO(s.to_string() << (with_bias ? " with bias" : " without bias"));
                    const std::int64_t C = s.back(), N = s.rows();
                    // A mean far from zero relative to the spread, as the residual stream can have.
                    const TensorF x = random_tensor<float>(s, rng, 3.0, 5.0);
                    const TensorF w = random_tensor<float>({C}, rng, 0.5, 1.5);
                    const TensorF b = random_tensor<float>({C}, rng);
                    const float* bias = with_bias ? b.data() : nullptr;
                    TensorF y(s), ey(s), mean({N}), rstd({N}), emean({N}), erstd({N});
                    layernorm_forward(x.data(), w.data(), bias, y.data(), mean.data(), rstd.data(),
                                      N, C, 1e-5);
                    layernorm_reference(x.data(), w.data(), bias, ey.data(), emean.data(),
                                        erstd.data(), N, C, 1e-5);
                    ouro::testing::check_close(y, ey, 1e-6, 1e-6);
                    ouro::testing::check_close(mean, emean, 0.0, 1.2e-7);
                    ouro::testing::check_close(rstd, erstd, 0.0, 1.2e-7);
                    const VarF out = layernorm(VarF(x), VarF(w), with_bias ? VarF(b) : VarF());
                    CHECK(out.op() == "layernorm");
                    CHECK(ouro::testing::bitwise_equal(out.value(), y));

                    const TensorD xd = x.cast<double>(), wd = w.cast<double>(),
                                  bd = b.cast<double>();
                    TensorD yd(s), eyd(s), md({N}), rd({N});
                    layernorm_forward(xd.data(), wd.data(), with_bias ? bd.data() : nullptr,
                                      yd.data(), md.data(), rd.data(), N, C, 1e-5);
                    layernorm_reference(xd.data(), wd.data(), with_bias ? bd.data() : nullptr,
                                        eyd.data(), md.data(), rd.data(), N, C, 1e-5);
                    ouro::testing::check_close(yd, eyd, 1e-14, 1e-13);
                }
        }
        SUBCASE("known values") {
            // x = (1, 2, 3, 4): mean 2.5, var 1.25; weight 0.5, bias 1.
            const TensorD x(Shape{1, 4}, {1.0, 2.0, 3.0, 4.0});
            const VarD y =
                layernorm(VarD(x), VarD(TensorD(Shape{4}, 0.5)), VarD(TensorD(Shape{4}, 1.0)));
            const double expected[] = {0.32918229001553650872, 0.77639409667184550291,
                                       1.2236059033281544971, 1.6708177099844634913};
            for (int i = 0; i < 4; ++i)
                CHECK(y.value()[i] == doctest::Approx(expected[i]).epsilon(1e-15));
            TensorF mean({1}), rstd({1}), out({1, 4});
            const TensorF xf = x.cast<float>(), w(Shape{4}, 0.5f);
            layernorm_forward(xf.data(), w.data(), nullptr, out.data(), mean.data(), rstd.data(), 1,
                              4, 1e-5);
            CHECK(mean[0] == 2.5f);
            CHECK(rstd[0] == doctest::Approx(0.89442361331261798838).epsilon(1e-7));
        }
        SUBCASE("without bias equals with a zero bias") {
            const TensorF x = random_tensor<float>({3, 40}, rng);
            const TensorF w = random_tensor<float>({40}, rng);
            const TensorF seed = random_tensor<float>({3, 40}, rng);
            const TensorF zero(Shape{40});
            const Result<float> a = run(x, w, nullptr, seed);
            const Result<float> b = run(x, w, &zero, seed);
            CHECK(ouro::testing::bitwise_equal(a.y, b.y));
            CHECK(ouro::testing::bitwise_equal(a.dx, b.dx));
            CHECK(ouro::testing::bitwise_equal(a.dw, b.dw));
            // dbias is the column sum of the seed.
            for (std::int64_t c = 0; c < 40; ++c)
                CHECK(b.db[c] == doctest::Approx(seed[c] + seed[40 + c] + seed[80 + c]));
        }
        SUBCASE("gradient matches finite differences") {
            const TensorD x = random_tensor<double>({2, 3, 6}, rng);
            const TensorD w = random_tensor<double>({6}, rng, 0.5, 1.5);
            const TensorD b = random_tensor<double>({6}, rng);
            const auto with_bias =
                gradcheck([](const std::vector<VarD>& v) { return layernorm(v[0], v[1], v[2]); },
                          {x, w, b}, {.atol = 1e-8, .rtol = 1e-6});
            CHECK_MESSAGE(with_bias.ok, with_bias.message);
            const auto without_bias = gradcheck(
                [](const std::vector<VarD>& v) { return layernorm(v[0], v[1], VarD(), 1e-3); },
                {x, w}, {.atol = 1e-8, .rtol = 1e-6});
            CHECK_MESSAGE(without_bias.ok, without_bias.message);
        }
        SUBCASE("float backward matches double backward") {
            const TensorD x = random_tensor<double>({5, 48}, rng, -2.0, 2.0);
            const TensorD w = random_tensor<double>({48}, rng, 0.5, 1.5);
            const TensorD b = random_tensor<double>({48}, rng);
            const TensorD seed = random_tensor<double>({5, 48}, rng);
            const Result<double> d = run(x, w, &b, seed);
            const TensorF bf = b.cast<float>();
            const Result<float> f = run(x.cast<float>(), w.cast<float>(), &bf, seed.cast<float>());
            ouro::testing::check_close(f.dx.cast<double>(), d.dx, 1e-5, 1e-5);
            ouro::testing::check_close(f.dw.cast<double>(), d.dw, 1e-5, 1e-5);
            ouro::testing::check_close(f.db.cast<double>(), d.db, 1e-6, 1e-6);
        }
        SUBCASE("rejects bad shapes") {
            const VarF x(TensorF({2, 3, 8}));
            CHECK_THROWS_WITH_AS(layernorm(x, VarF(TensorF({7})), VarF(TensorF({8}))),
                                 "layernorm: weight must be (C) = (8), got (7)", ShapeError);
            CHECK_THROWS_WITH_AS(layernorm(x, VarF(TensorF({1, 8})), VarF()),
                                 "layernorm: weight must be (C) = (8), got (1, 8)", ShapeError);
            CHECK_THROWS_WITH_AS(layernorm(x, VarF(TensorF({8})), VarF(TensorF({7}))),
                                 "layernorm: bias must be (C) = (8), got (7)", ShapeError);
            CHECK_THROWS_WITH_AS(layernorm(VarF(TensorF(Shape{})), VarF(TensorF({1})), VarF()),
                                 "layernorm: input must have at least one dimension, got ()",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(layernorm(x, VarF(), VarF()),
                                 "layernorm: weight is undefined (only the bias may be omitted)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(layernorm(x, VarF(TensorF({8})), VarF(), -1.0),
                                 "layernorm: eps must be finite and >= 0, got -1", ConfigError);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            // N = 400 rows in 58 blocks of 7 (the last one shorter), C = 96.
            const TensorF x = random_tensor<float>({4, 100, 96}, rng, -3.0, 3.0);
            const TensorF w = random_tensor<float>({96}, rng);
            const TensorF b = random_tensor<float>({96}, rng);
            const TensorF seed = random_tensor<float>({4, 100, 96}, rng);
            Result<float> r[2];
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                r[threads - 1] = run(x, w, &b, seed);
            }
            CHECK(ouro::testing::bitwise_equal(r[0].y, r[1].y));
            CHECK(ouro::testing::bitwise_equal(r[0].dx, r[1].dx));
            CHECK(ouro::testing::bitwise_equal(r[0].dw, r[1].dw));
            CHECK(ouro::testing::bitwise_equal(r[0].db, r[1].db));
        }
    }
}
