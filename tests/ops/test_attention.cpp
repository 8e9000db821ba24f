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

// The reference output for q (B, T, C) and k, v (B, T, NKV * HS).
template <typename T>
Tensor<T> reference(const Tensor<T>& q, const Tensor<T>& k, const Tensor<T>& v, int n_head,
                    bool alibi, int n_kv_head = 0) {
    Tensor<T> out(q.shape());
    attention_reference(q.data(), k.data(), v.data(), out.data(), q.dim(0), q.dim(1), q.dim(2),
                        n_head, AttentionOptions{.alibi = alibi, .n_kv_head = n_kv_head});
    return out;
}

// x (B, T, NKV * HS) with every kv head repeated for the n_head / NKV query heads that read it:
// (B, T, n_head * HS), the plain multi-head input equivalent to grouped-query attention.
template <typename T> Tensor<T> repeat_kv(const Tensor<T>& x, int n_kv_head, int n_head) {
    const std::int64_t rows = x.dim(0) * x.dim(1), HS = x.dim(2) / n_kv_head;
    Tensor<T> out(Shape{x.dim(0), x.dim(1), n_head * HS});
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t h = 0; h < n_head; ++h)
            for (std::int64_t c = 0; c < HS; ++c)
                out[(r * n_head + h) * HS + c] =
                    x[(r * n_kv_head + h / (n_head / n_kv_head)) * HS + c];
    return out;
}

// The sum over the query heads of each group of a (B, T, n_head * HS) gradient, in head order:
// (B, T, NKV * HS), the gradient of the kv input that repeat_kv expanded.
template <typename T> Tensor<T> sum_groups(const Tensor<T>& x, int n_kv_head, int n_head) {
    const std::int64_t rows = x.dim(0) * x.dim(1), HS = x.dim(2) / n_head;
    Tensor<T> out(Shape{x.dim(0), x.dim(1), n_kv_head * HS});
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t h = 0; h < n_head; ++h)
            for (std::int64_t c = 0; c < HS; ++c)
                out[(r * n_kv_head + h / (n_head / n_kv_head)) * HS + c] +=
                    x[(r * n_head + h) * HS + c];
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
            for (bool alibi : {false, true})
                ouro::testing::check_same_bits_at_1_and_2_threads([&] {
                    VarF x(q, true), y(k, true), z(v, true);
                    const VarF o = attention(x, y, z, 4, {alibi});
                    backward(o, seed);
                    return std::vector<TensorF>{o.value(), x.grad(), y.grad(), z.grad()};
                });
        }
        SUBCASE("grouped-query forward matches reference") {
            // NH = 4 query heads of size 4 over NKV = 1 (multi-query), 2 and 4 kv heads.
            for (bool alibi : {false, true})
                for (int n_kv : {1, 2, 4})
                    for (std::int64_t T : {1, 7, 70}) {
                        INFO("alibi " << alibi << ", n_kv_head " << n_kv << ", T " << T);
                        const AttentionOptions o{.alibi = alibi, .n_kv_head = n_kv};
                        const TensorF q = random_tensor<float>({2, T, 16}, rng, -2.0, 2.0);
                        const TensorF k = random_tensor<float>({2, T, 4 * n_kv}, rng, -2.0, 2.0);
                        const TensorF v = random_tensor<float>({2, T, 4 * n_kv}, rng);
                        const VarF out = attention(VarF(q), VarF(k), VarF(v), 4, o);
                        CHECK(out.shape() == q.shape());
                        ouro::testing::check_close(out.value(), reference(q, k, v, 4, alibi, n_kv),
                                                   2e-6, 1e-5);
                        const TensorD qd = q.cast<double>(), kd = k.cast<double>(),
                                      vd = v.cast<double>();
                        const VarD outd = attention(VarD(qd), VarD(kd), VarD(vd), 4, o);
                        ouro::testing::check_close(
                            outd.value(), reference(qd, kd, vd, 4, alibi, n_kv), 1e-14, 1e-12);
                        // The reference itself: grouped equals plain attention on repeated kv.
                        ouro::testing::check_close(
                            reference(qd, kd, vd, 4, alibi, n_kv),
                            reference(qd, repeat_kv(kd, n_kv, 4), repeat_kv(vd, n_kv, 4), 4, alibi),
                            0.0, 0.0);
                    }
        }
        SUBCASE("grouped-query equals multi-head attention on repeated k and v") {
            // llama2.c's grouping: query head h reads kv head h / (NH / NKV). The gradient of a
            // shared kv head is the sum of what its query heads would give their own copies.
            const std::int64_t B = 2, T = 40, HS = 8;
            for (int n_kv : {1, 2}) {
                INFO("n_kv_head " << n_kv);
                const TensorF q = random_tensor<float>({B, T, 4 * HS}, rng, -2.0, 2.0);
                const TensorF k = random_tensor<float>({B, T, n_kv * HS}, rng, -2.0, 2.0);
                const TensorF v = random_tensor<float>({B, T, n_kv * HS}, rng);
                const TensorF seed = random_tensor<float>({B, T, 4 * HS}, rng);
                VarF gq(q, true), gk(k, true), gv(v, true);
                const VarF grouped = attention(gq, gk, gv, 4, {.n_kv_head = n_kv});
                backward(grouped, seed);
                VarF mq(q, true), mk(repeat_kv(k, n_kv, 4), true), mv(repeat_kv(v, n_kv, 4), true);
                const VarF plain = attention(mq, mk, mv, 4);
                backward(plain, seed);
                CHECK(ouro::testing::bitwise_equal(grouped.value(), plain.value()));
                CHECK(ouro::testing::bitwise_equal(gq.grad(), mq.grad()));
                ouro::testing::check_close(gk.grad(), sum_groups(mk.grad(), n_kv, 4), 1e-6, 1e-5);
                ouro::testing::check_close(gv.grad(), sum_groups(mv.grad(), n_kv, 4), 1e-6, 1e-5);
            }
        }
        SUBCASE("grouped-query gradient matches finite differences") {
            // GQA (NH = 4, NKV = 2) and MQA (NKV = 1), with and without ALiBi; T = 5 in one row
            // block and T = 40 over two, so dK and dV collect from several blocks and heads.
            for (bool alibi : {false, true})
                for (int n_kv : {2, 1})
                    for (std::int64_t T : {5, 40}) {
                        INFO("alibi " << alibi << ", n_kv_head " << n_kv << ", T " << T);
                        const auto r = gradcheck(
                            [alibi, n_kv](const std::vector<VarD>& x) {
                                return attention(x[0], x[1], x[2], 4,
                                                 {.alibi = alibi, .n_kv_head = n_kv});
                            },
                            {random_tensor<double>({2, T, 8}, rng, -2.0, 2.0),
                             random_tensor<double>({2, T, 2 * n_kv}, rng, -2.0, 2.0),
                             random_tensor<double>({2, T, 2 * n_kv}, rng)},
                            {.atol = 1e-8, .rtol = 1e-6});
                        CHECK_MESSAGE(r.ok, r.message);
                    }
            // k and v one tensor: their gradients add into one buffer.
            const auto r = gradcheck(
                [](const std::vector<VarD>& x) {
                    return attention(x[0], x[1], x[1], 4, {.n_kv_head = 2});
                },
                {random_tensor<double>({1, 6, 8}, rng), random_tensor<double>({1, 6, 4}, rng)},
                {.atol = 1e-8, .rtol = 1e-6});
            CHECK_MESSAGE(r.ok, r.message);
        }
        SUBCASE("grouped-query bit-identical with 1 and 2 threads") {
            // NH = 8 over NKV = 2 and 1: 4 and 2 (b, kv head) tasks, T = 70 over three row blocks.
            for (int n_kv : {2, 1}) {
                const TensorF q = random_tensor<float>({2, 70, 32}, rng);
                const TensorF k = random_tensor<float>({2, 70, 4 * n_kv}, rng);
                const TensorF v = random_tensor<float>({2, 70, 4 * n_kv}, rng);
                const TensorF seed = random_tensor<float>({2, 70, 32}, rng);
                for (bool alibi : {false, true}) {
                    INFO("n_kv_head " << n_kv << ", alibi " << alibi);
                    ouro::testing::check_same_bits_at_1_and_2_threads([&] {
                        VarF x(q, true), y(k, true), z(v, true);
                        const VarF o = attention(x, y, z, 8, {.alibi = alibi, .n_kv_head = n_kv});
                        backward(o, seed);
                        return std::vector<TensorF>{o.value(), x.grad(), y.grad(), z.grad()};
                    });
                }
            }
        }
        SUBCASE("rejects bad grouped-query settings and shapes") {
            const VarF q(TensorF({2, 3, 8})), kv(TensorF({2, 3, 4}));
            CHECK_THROWS_WITH_AS(attention(q, kv, kv, 4, {.n_kv_head = 3}),
                                 "attention: n_kv_head = 3 does not divide n_head = 4",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(attention(q, kv, kv, 2, {.n_kv_head = 4}),
                                 "attention: n_kv_head = 4 does not divide n_head = 2",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(attention(q, kv, kv, 4, {.n_kv_head = -1}),
                                 "attention: n_kv_head must be at least 0 (0 means n_head), got -1",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(attention(q, VarF(TensorF({3, 4})), kv, 4, {.n_kv_head = 2}),
                                 "attention: q, k and v must be (B, T, C): q is (2, 3, 8), k is "
                                 "(3, 4), v is (2, 3, 4)",
                                 ShapeError);
            const VarF later(TensorF({2, 4, 4})), other_batch(TensorF({1, 3, 4}));
            CHECK_THROWS_WITH_AS(attention(q, later, later, 4, {.n_kv_head = 2}),
                                 "attention: q, k and v must have the same batch and time: q is "
                                 "(2, 3, 8), k is (2, 4, 4), v is (2, 4, 4)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(attention(q, kv, other_batch, 4, {.n_kv_head = 2}),
                                 "attention: q, k and v must have the same batch and time: q is "
                                 "(2, 3, 8), k is (2, 3, 4), v is (1, 3, 4)",
                                 ShapeError);
            // HS = 2, so 2 kv heads need 4 channels.
            CHECK_THROWS_WITH_AS(attention(q, q, kv, 4, {.n_kv_head = 2}),
                                 "attention: k and v must have n_kv_head * HS = 2 * 2 = 4 "
                                 "channels: q is (2, 3, 8), k is (2, 3, 8), v is (2, 3, 4)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(attention(q, kv, VarF(TensorF({2, 3, 6})), 4, {.n_kv_head = 2}),
                                 "attention: k and v must have n_kv_head * HS = 2 * 2 = 4 "
                                 "channels: q is (2, 3, 8), k is (2, 3, 4), v is (2, 3, 6)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(attention(VarF(TensorF({2, 3, 9})), kv, kv, 4, {.n_kv_head = 2}),
                                 "attention: C = 9 is not a multiple of n_head = 4: q is (2, 3, 9)",
                                 ShapeError);
            // n_kv_head = n_head is plain multi-head attention: one shape for all three.
            CHECK_THROWS_WITH_AS(attention(q, kv, kv, 4, {.n_kv_head = 4}),
                                 "attention: q, k and v must have the same shape: q is (2, 3, 8), "
                                 "k is (2, 3, 4), v is (2, 3, 4)",
                                 ShapeError);
            CHECK(attention(q, q, q, 4, {.n_kv_head = 4}).shape() == q.shape());
            CHECK(attention(q, kv, kv, 4, {.n_kv_head = 2}).shape() == q.shape());
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
