// nn/mlp.hpp: GPT-2's GELU MLP and Llama's SwiGLU MLP: shapes, names, forward as the ops,
// activations recorded, dropout's Rng.
#include <ouro/nn/mlp.hpp>

#include "test_util.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::nn;

namespace {

GPTConfig small(MlpKind kind) {
    GPTConfig c;
    c.n_layer = 2;
    c.n_embd = 4;
    c.n_head = 2;
    c.mlp = kind;
    c.mlp_hidden = kind == MlpKind::swiglu ? 6 : 0;
    return c;
}

} // namespace

TEST_SUITE("nn") {
    TEST_CASE("MLP") {
        SUBCASE("GELU: C -> 4C -> C, c_proj drawn with std 0.02 / sqrt(2 n_layer)") {
            Rng rng(2), copy(2);
            const MLP<double> m(small(MlpKind::gelu), rng);
            CHECK(m.c_fc->weight.shape() == Shape{16, 4});
            CHECK(m.c_proj->weight.shape() == Shape{4, 16});
            const auto named = m.named_parameters();
            REQUIRE(named.size() == 4);
            CHECK(named[0].first == "c_fc.weight");
            CHECK(named[3].first == "c_proj.bias");
            for (std::int64_t i = 0; i < 64; ++i) // c_fc's draws come first
                copy.normal();
            for (double w : m.c_proj->weight.value().values())
                CHECK(w == 0.02 / std::sqrt(4.0) * copy.normal());
        }
        SUBCASE("SwiGLU: one c_fc of 2H outputs, gate rows first") {
            Rng rng(3);
            const MLP<double> m(small(MlpKind::swiglu), rng);
            CHECK(m.c_fc->weight.shape() == Shape{12, 4});
            CHECK(m.c_proj->weight.shape() == Shape{4, 6});
        }
        SUBCASE("forward matches reference, and records c_fc, the activation and c_proj") {
            for (MlpKind kind : {MlpKind::gelu, MlpKind::swiglu}) {
                Rng rng(5);
                const MLP<double> m(small(kind), rng);
                const TensorD x = ouro::testing::random_tensor<double>({1, 3, 4}, rng);
                std::vector<std::pair<std::string, VarD>> log;
                ForwardContext<double> ctx;
                ctx.activations = &log;
                const VarD y = m.forward(VarD(x), ctx);
                // The same ops in the same order: equal bit for bit.
                const VarD h = ops::linear(VarD(x), m.c_fc->weight, m.c_fc->bias);
                const VarD g = kind == MlpKind::swiglu ? ops::swiglu(h) : ops::gelu(h);
                const VarD ref = ops::linear(g, m.c_proj->weight, m.c_proj->bias);
                INFO(to_string(kind));
                CHECK(y.shape() == Shape{1, 3, 4});
                CHECK(ouro::testing::bitwise_equal(y.value(), ref.value()));
                REQUIRE(log.size() == 3);
                CHECK(log[0].first == "c_fc");
                CHECK(log[1].first == (kind == MlpKind::swiglu ? "swiglu" : "gelu"));
                CHECK(log[2].first == "c_proj");
                CHECK(ouro::testing::bitwise_equal(log[1].second.value(), g.value()));
            }
        }
        SUBCASE("dropout while training needs an Rng; evaluation does not drop") {
            GPTConfig c = small(MlpKind::gelu);
            c.dropout = 0.5;
            Rng rng(6);
            MLP<double> m(c, rng);
            const VarD x(ouro::testing::random_tensor<double>({1, 2, 4}, rng));
            CHECK_THROWS_WITH_AS(m.forward(x, {}),
                                 "MLP: training with dropout needs an Rng in the context",
                                 ConfigError);
            m.eval();
            const VarD y = m.forward(x, {});
            const VarD ref = ops::linear(ops::gelu(ops::linear(x, m.c_fc->weight, m.c_fc->bias)),
                                         m.c_proj->weight, m.c_proj->bias);
            CHECK(ouro::testing::bitwise_equal(y.value(), ref.value()));
        }
    }
}
