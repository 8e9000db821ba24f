// attention_qkv (q, k and v read in place from one buffer) and the attention kernels on each
// instruction-set path at head sizes of whole and partial AVX-512 vectors.
#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/isa.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/attention.hpp>
#include <ouro/ops/concat.hpp>

#include <doctest/doctest.h>

#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::bitwise_equal;
using ouro::testing::check_close;
using ouro::testing::random_tensor;
using ouro::testing::runnable_paths;

namespace {

// The output and the input gradients of attention on q, k, v, for the output gradient seed.
template <typename T>
std::vector<Tensor<T>> run_split(const Tensor<T>& q, const Tensor<T>& k, const Tensor<T>& v,
                                 const Tensor<T>& seed, int n_head, AttentionOptions options) {
    Var<T> x(q, true), y(k, true), z(v, true);
    const Var<T> o = attention(x, y, z, n_head, options);
    backward(o, seed);
    return {o.value(), x.grad(), y.grad(), z.grad()};
}

// The output and the gradient of attention_qkv, and attention on the split of the same buffer.
struct QkvResults {
    TensorF out, grad, split_out, split_grad;
};
QkvResults run_qkv(const TensorF& qkv, const TensorF& seed, int n_head, AttentionOptions options) {
    VarF a(qkv, true);
    const VarF o = attention_qkv(a, n_head, options);
    backward(o, seed);
    const std::int64_t W = qkv.dim(2), NKV = options.n_kv_head > 0 ? options.n_kv_head : n_head;
    const std::int64_t HS = W / (n_head + 2 * NKV);
    VarF b(qkv, true);
    const auto parts = split(b, {n_head * HS, NKV * HS, NKV * HS}, 2);
    const VarF so = attention(parts[0], parts[1], parts[2], n_head, options);
    backward(so, seed);
    return {o.value(), a.grad(), so.value(), b.grad()};
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("attention_qkv") {
        Rng rng(29);
        // (n_head, n_kv_head, HS): multi-head, grouped-query, head sizes below, at and past one
        // AVX-512 vector; T = 70 spans three blocks of query rows.
        struct Case {
            int n_head, n_kv_head;
            std::int64_t HS;
        };
        const Case cases[] = {{2, 0, 4}, {4, 0, 16}, {2, 0, 32}, {4, 2, 20}, {4, 1, 8}};

        SUBCASE("forward matches reference") {
            for (const Case& c : cases)
                for (bool alibi : {false, true}) {
                    INFO("n_head " << c.n_head << ", n_kv_head " << c.n_kv_head << ", HS " << c.HS
                                   << ", alibi " << alibi);
                    const std::int64_t NKV = c.n_kv_head > 0 ? c.n_kv_head : c.n_head;
                    const std::int64_t C = c.n_head * c.HS, KVD = NKV * c.HS;
                    const TensorF qkv = random_tensor<float>({2, 70, C + 2 * KVD}, rng, -2.0, 2.0);
                    const AttentionOptions options{.alibi = alibi, .n_kv_head = c.n_kv_head};
                    const VarF out = attention_qkv(VarF(qkv), c.n_head, options);
                    const auto parts = split(VarF(qkv), {C, KVD, KVD}, 2);
                    TensorF expected(Shape{2, 70, C});
                    attention_reference(parts[0].value().data(), parts[1].value().data(),
                                        parts[2].value().data(), expected.data(), 2, 70, C,
                                        c.n_head, options);
                    check_close(out.value(), expected, 2e-6, 1e-5);
                }
        }
        SUBCASE("same bits as split and attention") {
            for (Isa path : runnable_paths())
                for (const Case& c : cases)
                    for (bool alibi : {false, true}) {
                        INFO(isa_name(path)
                             << ", n_head " << c.n_head << ", n_kv_head " << c.n_kv_head << ", HS "
                             << c.HS << ", alibi " << alibi);
                        const IsaGuard guard(path);
                        const std::int64_t NKV = c.n_kv_head > 0 ? c.n_kv_head : c.n_head;
                        const std::int64_t C = c.n_head * c.HS;
                        const TensorF qkv =
                            random_tensor<float>({2, 70, C + 2 * NKV * c.HS}, rng, -2.0, 2.0);
                        const TensorF seed = random_tensor<float>({2, 70, C}, rng);
                        const QkvResults r = run_qkv(qkv, seed, c.n_head,
                                                     {.alibi = alibi, .n_kv_head = c.n_kv_head});
                        CHECK(bitwise_equal(r.out, r.split_out));
                        CHECK(bitwise_equal(r.grad, r.split_grad));
                    }
        }
        SUBCASE("gradient matches finite differences") {
            for (bool alibi : {false, true})
                for (int n_kv_head : {0, 1}) {
                    INFO("alibi " << alibi << ", n_kv_head " << n_kv_head);
                    // n_head 2, HS 3: W = (2 + 2 NKV) * 3.
                    const std::int64_t W = (2 + 2 * (n_kv_head > 0 ? n_kv_head : 2)) * 3;
                    const auto r = gradcheck(
                        [alibi, n_kv_head](const std::vector<VarD>& x) {
                            return attention_qkv(x[0], 2, {.alibi = alibi, .n_kv_head = n_kv_head});
                        },
                        {random_tensor<double>({2, 5, W}, rng, -2.0, 2.0)},
                        {.atol = 1e-8, .rtol = 1e-6});
                    CHECK_MESSAGE(r.ok, r.message);
                }
        }
        SUBCASE("bit-identical with 1, 2 and 3 threads") {
            for (Isa path : runnable_paths()) {
                INFO(isa_name(path));
                const IsaGuard guard(path);
                const TensorF qkv = random_tensor<float>({3, 70, 3 * 64}, rng);
                const TensorF seed = random_tensor<float>({3, 70, 64}, rng);
                const auto at = [&](int threads) {
                    const ThreadCountGuard threads_guard(threads);
                    return run_qkv(qkv, seed, 2, {.alibi = true});
                };
                const QkvResults one = at(1), two = at(2), three = at(3);
                for (const QkvResults* r : {&two, &three}) {
                    CHECK(bitwise_equal(one.out, r->out));
                    CHECK(bitwise_equal(one.grad, r->grad));
                }
            }
        }
        SUBCASE("rejects bad shapes") {
            const VarF m(TensorF({3, 8}));
            CHECK_THROWS_WITH_AS(attention_qkv(m, 2),
                                 "attention_qkv: qkv must be (B, T, C + 2 * n_kv_head * HS), got "
                                 "(3, 8)",
                                 ShapeError);
            const VarF a(TensorF({2, 3, 10}));
            CHECK_THROWS_WITH_AS(attention_qkv(a, 4),
                                 "attention_qkv: the last dimension of qkv (2, 3, 10) is not a "
                                 "multiple of n_head + 2 * n_kv_head = 4 + 2 * 4 = 12",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(attention_qkv(a, 4, {.n_kv_head = 2}),
                                 "attention_qkv: the last dimension of qkv (2, 3, 10) is not a "
                                 "multiple of n_head + 2 * n_kv_head = 4 + 2 * 2 = 8",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(attention_qkv(a, 0),
                                 "attention_qkv: n_head must be at least 1, got 0", ConfigError);
            CHECK_THROWS_WITH_AS(attention_qkv(a, 4, {.n_kv_head = 3}),
                                 "attention_qkv: n_kv_head = 3 does not divide n_head = 4",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(
                attention_qkv(a, 4, {.n_kv_head = -1}),
                "attention_qkv: n_kv_head must be at least 0 (0 means n_head), got -1",
                ConfigError);
            CHECK(attention_qkv(VarF(TensorF({2, 3, 24})), 2).shape() == Shape{2, 3, 8});
            CHECK(attention_qkv(VarF(TensorF({2, 3, 24})), 4, {.n_kv_head = 2}).shape() ==
                  Shape{2, 3, 12});
        }
    }

    TEST_CASE("attention kernels on each path") {
        // Float gradients against the double ones, at head sizes of whole and partial AVX-512
        // vectors, with T = 70 (three row blocks, keys not a multiple of 16).
        Rng rng(31);
        for (Isa path : runnable_paths())
            for (std::int64_t HS : {8, 20, 32, 64})
                for (int n_kv_head : {0, 2})
                    for (bool alibi : {false, true}) {
                        INFO(isa_name(path) << ", HS " << HS << ", n_kv_head " << n_kv_head
                                            << ", alibi " << alibi);
                        const IsaGuard guard(path);
                        const int n_head = 4;
                        const std::int64_t NKV = n_kv_head > 0 ? n_kv_head : n_head;
                        const Shape qs{2, 70, n_head * HS}, kvs{2, 70, NKV * HS};
                        const TensorF q = random_tensor<float>(qs, rng, -2.0, 2.0),
                                      k = random_tensor<float>(kvs, rng, -2.0, 2.0),
                                      v = random_tensor<float>(kvs, rng),
                                      seed = random_tensor<float>(qs, rng);
                        const AttentionOptions options{.alibi = alibi, .n_kv_head = n_kv_head};
                        const auto f = run_split(q, k, v, seed, n_head, options);
                        const auto d =
                            run_split(q.cast<double>(), k.cast<double>(), v.cast<double>(),
                                      seed.cast<double>(), n_head, options);
                        for (std::size_t i = 0; i < f.size(); ++i) {
                            INFO("result " << i);
                            check_close(f[i].cast<double>(), d[i], 2e-5, 1e-4);
                        }
                    }
    }
}
