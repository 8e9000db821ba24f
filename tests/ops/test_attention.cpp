#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/attention.hpp>

#include <doctest/doctest.h>

#include <cmath>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

namespace {

// The reference output for q, k, v of shape (B, T, C).
template <typename T>
Tensor<T> reference(const Tensor<T>& q, const Tensor<T>& k, const Tensor<T>& v, int n_head,
                    bool alibi) {
    Tensor<T> out(q.shape());
    attention_reference(q.data(), k.data(), v.data(), out.data(), q.dim(0), q.dim(1), q.dim(2),
                        n_head, AttentionOptions{.alibi = alibi});
    return out;
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("attention") {
        Rng rng(11);

        SUBCASE("forward matches reference") {
            for (bool alibi : {false, true})
                for (int n_head : {1, 2, 4})
                    for (std::int64_t T : {1, 7, 70, 130}) {
                        INFO("alibi " << alibi << ", n_head " << n_head << ", T " << T);
                        const Shape s{2, T, 16};
                        const TensorF q = random_tensor<float>(s, rng, -2.0, 2.0);
                        const TensorF k = random_tensor<float>(s, rng, -2.0, 2.0);
                        const TensorF v = random_tensor<float>(s, rng);
                        const VarF out = attention(VarF(q), VarF(k), VarF(v), n_head, {alibi});
                        ouro::testing::check_close(out.value(), reference(q, k, v, n_head, alibi),
                                                   2e-6, 1e-5);
                        const TensorD qd = q.cast<double>(), kd = k.cast<double>(),
                                      vd = v.cast<double>();
                        const VarD outd = attention(VarD(qd), VarD(kd), VarD(vd), n_head, {alibi});
                        ouro::testing::check_close(
                            outd.value(), reference(qd, kd, vd, n_head, alibi), 1e-14, 1e-12);
                    }
        }
        SUBCASE("alibi slopes follow the paper") {
            const std::vector<double> s8 = alibi_slopes(8);
            REQUIRE(s8.size() == 8);
            for (int h = 0; h < 8; ++h)
                CHECK(s8[std::size_t(h)] == std::ldexp(1.0, -(h + 1)));
            CHECK(alibi_slopes(1) == std::vector<double>{1.0 / 256});
            CHECK(alibi_slopes(2) == std::vector<double>{1.0 / 16, 1.0 / 256});
            // Not a power of two: the 4-head slopes, then every other 8-head slope.
            CHECK(alibi_slopes(6) ==
                  std::vector<double>{1.0 / 4, 1.0 / 16, 1.0 / 64, 1.0 / 256, 1.0 / 2, 1.0 / 8});
            const std::vector<double> s12 = alibi_slopes(12);
            REQUIRE(s12.size() == 12);
            for (int h = 0; h < 8; ++h)
                CHECK(s12[std::size_t(h)] == std::ldexp(1.0, -(h + 1)));
            for (int j = 0; j < 4; ++j)
                CHECK(s12[std::size_t(8 + j)] == doctest::Approx(std::pow(2.0, -0.5 - j)));
            CHECK_THROWS_WITH_AS(alibi_slopes(0), "alibi_slopes: n_head must be at least 1, got 0",
                                 ConfigError);
        }
        SUBCASE("a case worked by hand") {
            // One head of size 1 (scale 1), T = 2. Query 1 scores keys 0 and 1 as 0 and ln 3, so
            // it weighs the values 2 and 6 by 1/4 and 3/4: output 5. Query 0 sees only value 2.
            const double ln3 = std::log(3.0);
            VarD q(TensorD({1, 2, 1}, {0.0, 1.0}), true), k(TensorD({1, 2, 1}, {0.0, ln3}), true),
                v(TensorD({1, 2, 1}, {2.0, 6.0}), true);
            const VarD out = attention(q, k, v, 1);
            CHECK(out.value()[0] == doctest::Approx(2.0).epsilon(1e-15));
            CHECK(out.value()[1] == doctest::Approx(5.0).epsilon(1e-15));
            TensorD lse({1, 1, 2});
            TensorD o({1, 2, 1});
            attention_forward(q.value().data(), k.value().data(), v.value().data(), o.data(),
                              lse.data(), 1, 2, 1, 1, {});
            CHECK(lse[0] == doctest::Approx(0.0));
            CHECK(lse[1] == doctest::Approx(std::log(4.0)).epsilon(1e-15));
            // With dO = 1: dV = P^T 1 = (1 + 1/4, 3/4); dS row 1 = P * (v - out) = (-3/4, 3/4);
            // dQ_1 = dS_1 . k = 3/4 ln 3; dK = dS^T q = (-3/4, 3/4); row 0 has dS = 0.
            backward(out, TensorD({1, 2, 1}, {1.0, 1.0}));
            CHECK(v.grad()[0] == doctest::Approx(1.25).epsilon(1e-15));
            CHECK(v.grad()[1] == doctest::Approx(0.75).epsilon(1e-15));
            CHECK(q.grad()[0] == doctest::Approx(0.0));
            CHECK(q.grad()[1] == doctest::Approx(0.75 * ln3).epsilon(1e-15));
            CHECK(k.grad()[0] == doctest::Approx(-0.75).epsilon(1e-15));
            CHECK(k.grad()[1] == doctest::Approx(0.75).epsilon(1e-15));

            // ALiBi with one head: slope 1/256, so key 0 (one step back) loses 1/256.
            const VarD biased = attention(q.detach(), k.detach(), v.detach(), 1, {.alibi = true});
            const double w0 = std::exp(-1.0 / 256) / (std::exp(-1.0 / 256) + 3.0);
            CHECK(biased.value()[0] == doctest::Approx(2.0).epsilon(1e-15));
            CHECK(biased.value()[1] == doctest::Approx(2.0 * w0 + 6.0 * (1 - w0)).epsilon(1e-15));
        }
        SUBCASE("gradient matches finite differences") {
            for (bool alibi : {false, true})
                for (int n_head : {1, 2}) {
                    INFO("alibi " << alibi << ", n_head " << n_head);
                    const Shape s{2, 5, 4};
                    const TensorD q = random_tensor<double>(s, rng, -2.0, 2.0);
                    const TensorD k = random_tensor<double>(s, rng, -2.0, 2.0);
                    const TensorD v = random_tensor<double>(s, rng);
                    const auto r = gradcheck(
                        [n_head, alibi](const std::vector<VarD>& x) {
                            return attention(x[0], x[1], x[2], n_head, {alibi});
                        },
                        {q, k, v}, {.atol = 1e-8, .rtol = 1e-6});
                    CHECK_MESSAGE(r.ok, r.message);
                }
            // T = 70 spans three blocks of query rows, so dK and dV collect from several.
            for (bool alibi : {false, true}) {
                INFO("T 70, alibi " << alibi);
                const Shape s{1, 70, 4};
                const auto r = gradcheck(
                    [alibi](const std::vector<VarD>& x) {
                        return attention(x[0], x[1], x[2], 2, {alibi});
                    },
                    {random_tensor<double>(s, rng, -2.0, 2.0),
                     random_tensor<double>(s, rng, -2.0, 2.0), random_tensor<double>(s, rng)},
                    {.atol = 1e-8, .rtol = 1e-6});
                CHECK_MESSAGE(r.ok, r.message);
            }
            // q, k and v all one tensor: the three gradients add into one buffer.
            const auto r =
                gradcheck([](const std::vector<VarD>& x) { return attention(x[0], x[0], x[0], 2); },
                          {random_tensor<double>({1, 4, 6}, rng)}, {.atol = 1e-8, .rtol = 1e-6});
            CHECK_MESSAGE(r.ok, r.message);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            // 2 x 4 = 8 (b, h) pairs, and T = 70 spans three row blocks.
            const Shape s{2, 70, 32};
            const TensorF q = random_tensor<float>(s, rng), k = random_tensor<float>(s, rng),
                          v = random_tensor<float>(s, rng), seed = random_tensor<float>(s, rng);
            for (bool alibi : {false, true}) {
                TensorF out[2], dq[2], dk[2], dv[2];
                for (int threads : {1, 2}) {
                    ThreadCountGuard guard(threads);
                    VarF x(q, true), y(k, true), z(v, true);
                    const VarF o = attention(x, y, z, 4, {alibi});
                    backward(o, seed);
                    out[threads - 1] = o.value();
                    dq[threads - 1] = x.grad();
                    dk[threads - 1] = y.grad();
                    dv[threads - 1] = z.grad();
                }
                CHECK(ouro::testing::bitwise_equal(out[0], out[1]));
                CHECK(ouro::testing::bitwise_equal(dq[0], dq[1]));
                CHECK(ouro::testing::bitwise_equal(dk[0], dk[1]));
                CHECK(ouro::testing::bitwise_equal(dv[0], dv[1]));
            }
        }
        SUBCASE("rejects bad shapes") {
            const VarF a(TensorF({2, 3, 8})), b(TensorF({2, 4, 8}));
            CHECK_THROWS_WITH_AS(attention(a, a, b, 2),
                                 "attention: q, k and v must have the same shape: q is (2, 3, 8), "
                                 "k is (2, 3, 8), v is (2, 4, 8)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(attention(a, b, a, 2),
                                 "attention: q, k and v must have the same shape: q is (2, 3, 8), "
                                 "k is (2, 4, 8), v is (2, 3, 8)",
                                 ShapeError);
            const VarF m(TensorF({3, 8}));
            CHECK_THROWS_WITH_AS(attention(m, m, m, 2),
                                 "attention: q, k and v must be (B, T, C), got (3, 8)", ShapeError);
            CHECK_THROWS_WITH_AS(attention(a, a, a, 3),
                                 "attention: C = 8 is not a multiple of n_head = 3: q is (2, 3, 8)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(attention(a, a, a, 0),
                                 "attention: n_head must be at least 1, got 0", ConfigError);
        }
    }
}
