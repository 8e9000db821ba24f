// A small GPT-like graph built from several ops: layernorm -> matmul -> GELU -> attention ->
// cross-entropy. Its values and gradients must be bit-identical with 1 and 2 OpenMP threads, and
// its gradients must match finite differences.
#include "test_util.hpp"

#include <ouro/ouro.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using ouro::testing::bitwise_equal;
using ouro::testing::random_tensor;

namespace {

struct Composite {
    std::int64_t B, T, C, NH, V;
};

template <typename T>
Var<T> composite_loss(const Composite& s, const std::vector<Var<T>>& p, const TensorI& targets) {
    // p: x (B, T, C), ln weight (C), ln bias (C), w1 (C, 3C), w2 (C, V)
    const Var<T> h = ops::layernorm(p[0], p[1], p[2]);                  // (B, T, C)
    const Var<T> a = ops::gelu(ops::matmul(h, p[3]));                   // (B, T, 3C)
    const auto qkv = ops::split(a, {s.C, s.C, s.C}, 2);                 // 3 x (B, T, C)
    const Var<T> o = ops::attention(qkv[0], qkv[1], qkv[2], int(s.NH)); // (B, T, C)
    const Var<T> logits = ops::matmul(o, p[4]);                         // (B, T, V)
    return ops::cross_entropy(logits, targets);
}

template <typename T> std::vector<Tensor<T>> composite_inputs(const Composite& s, Rng& rng) {
    return {random_tensor<T>({s.B, s.T, s.C}, rng), random_tensor<T>({s.C}, rng, 0.5, 1.5),
            random_tensor<T>({s.C}, rng, -0.1, 0.1),
            random_tensor<T>({s.C, 3 * s.C}, rng, -0.3, 0.3),
            random_tensor<T>({s.C, s.V}, rng, -0.3, 0.3)};
}

TensorI random_targets(const Composite& s, Rng& rng) {
    TensorI t({s.B, s.T});
    for (auto& v : t.values())
        v = std::int32_t(rng.below(std::uint64_t(s.V)));
    return t;
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("composite graph") {
        SUBCASE("bit-identical values and gradients with 1 and 2 threads") {
            const Composite s{4, 64, 64, 4, 96};
            Rng rng(11);
            const auto inputs = composite_inputs<float>(s, rng);
            const TensorI targets = random_targets(s, rng);
            std::vector<TensorF> results[2];
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                std::vector<VarF> p;
                for (const TensorF& t : inputs)
                    p.emplace_back(t, true);
                const VarF loss = composite_loss(s, p, targets);
                auto& r = results[threads - 1];
                r.push_back(loss.value());
                backward(loss);
                for (const VarF& v : p)
                    r.push_back(v.grad());
            }
            CHECK(results[0][0].item() > 0.0f);
            for (std::size_t i = 0; i < results[0].size(); ++i) {
                INFO("tensor " << i << " (0 is the loss, then the gradients)");
                CHECK(bitwise_equal(results[0][i], results[1][i]));
            }
        }
        SUBCASE("gradient matches finite differences") {
            const Composite s{2, 5, 8, 2, 7};
            Rng rng(12);
            const TensorI targets = random_targets(s, rng);
            const auto r =
                gradcheck([&](const std::vector<VarD>& p) { return composite_loss(s, p, targets); },
                          composite_inputs<double>(s, rng), {.atol = 1e-8, .rtol = 1e-5});
            CHECK_MESSAGE(r.ok, r.message);
        }
    }
}
