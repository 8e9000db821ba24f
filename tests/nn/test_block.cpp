// nn/block.hpp: the pre-norm block x + attn(ln_1(x)), then + mlp(ln_2(.)), against a naive double
// reference (GPT-2 and Llama variants), finite-difference gradients, names and recorded stages.
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/nn/block.hpp>

#include "nn/nn_reference.hpp"
#include "test_util.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::nn;
namespace naive = ouro::testing::naive;

namespace {

GPTConfig gpt2_small() {
    GPTConfig c;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 8;
    return c;
}

GPTConfig llama_small() {
    GPTConfig c = GPTConfig::llama(16, 8, 2, 2, 1, 8, 4);
    c.norm_eps = 1e-3;
    return c;
}

const TensorD* bias_of(const Var<double>& b) {
    return b.defined() ? &b.value() : nullptr;
}

naive::Rows norm_rows(const Norm<double>& n, const naive::Rows& x) {
    return n.kind == NormKind::rmsnorm
               ? naive::rmsnorm(x, n.weight.value(), n.eps)
               : naive::layernorm(x, n.weight.value(), bias_of(n.bias), n.eps);
}

// The block on one sequence (T, C), from the formulas.
naive::Rows reference(const Block<double>& blk, const naive::Rows& x) {
    const auto& a = *blk.attn;
    const naive::Rows att = naive::causal_self_attention(
        norm_rows(*blk.ln_1, x), a.config, a.c_attn->weight.value(), bias_of(a.c_attn->bias),
        a.c_proj->weight.value(), bias_of(a.c_proj->bias));
    naive::Rows h = x;
    for (std::size_t t = 0; t < h.size(); ++t)
        for (std::size_t c = 0; c < h[t].size(); ++c)
            h[t][c] += att[t][c];
    const auto& m = *blk.mlp;
    const naive::Rows f =
        naive::mlp(norm_rows(*blk.ln_2, h), a.config.mlp, m.c_fc->weight.value(),
                   bias_of(m.c_fc->bias), m.c_proj->weight.value(), bias_of(m.c_proj->bias));
    for (std::size_t t = 0; t < h.size(); ++t)
        for (std::size_t c = 0; c < h[t].size(); ++c)
            h[t][c] += f[t][c];
    return h;
}

} // namespace

TEST_SUITE("nn") {
    TEST_CASE("Block") {
        SUBCASE("children and parameter names in GPT-2's order") {
            Rng rng(1);
            const Block<double> blk(gpt2_small(), rng);
            std::vector<std::string> names;
            for (auto& [name, p] : blk.named_parameters())
                names.push_back(name);
            CHECK(names == std::vector<std::string>{
                               "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                               "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
                               "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight",
                               "mlp.c_proj.bias"});
            const Block<double> llama(llama_small(), rng);
            CHECK(llama.ln_1->kind == NormKind::rmsnorm);
            CHECK(llama.named_parameters().size() == 6); // no biases
        }
        SUBCASE("forward matches reference (GPT-2 and Llama blocks)") {
            for (const GPTConfig& config : {gpt2_small(), llama_small()}) {
                CAPTURE(std::string(to_string(config.norm)));
                Rng rng(9);
                Block<double> blk(config, rng);
                testing::randomise(blk, rng);
                const TensorD x = testing::random_tensor<double>({2, 4, 8}, rng);
                const VarD y = blk.forward(VarD(x), {});
                REQUIRE(y.shape() == Shape{2, 4, 8});
                const naive::Rows rows = naive::rows_of(x);
                for (std::int64_t b = 0; b < 2; ++b) {
                    const auto expected =
                        reference(blk, naive::Rows(rows.begin() + b * 4, rows.begin() + b * 4 + 4));
                    for (std::int64_t t = 0; t < 4; ++t)
                        for (std::int64_t c = 0; c < 8; ++c)
                            CHECK(y.value()[(b * 4 + t) * 8 + c] ==
                                  doctest::Approx(expected[std::size_t(t)][std::size_t(c)])
                                      .epsilon(1e-12));
                }
            }
        }
        SUBCASE("gradient matches finite differences") {
            for (const GPTConfig& config : {gpt2_small(), llama_small()}) {
                Rng rng(5);
                Block<double> blk(config, rng);
                testing::randomise(blk, rng);
                const auto r =
                    gradcheck([&](const std::vector<VarD>& in) { return blk.forward(in[0], {}); },
                              {testing::random_tensor<double>({1, 3, 8}, rng)});
                CHECK_MESSAGE(r.ok, r.message);
            }
        }
        SUBCASE("records each norm, the residuals and its children's stages") {
            Rng rng(2);
            Block<double> blk(gpt2_small(), rng);
            std::vector<std::pair<std::string, VarD>> log;
            ForwardContext<double> ctx;
            ctx.activations = &log;
            const VarD y = blk.forward(VarD(testing::random_tensor<double>({1, 3, 8}, rng)), ctx);
            std::vector<std::string> names;
            for (auto& [n, v] : log)
                names.push_back(n);
            CHECK(names == std::vector<std::string>{"ln_1", "attn.c_attn", "attn.q", "attn.k",
                                                    "attn.v", "attn.attention", "attn.c_proj",
                                                    "residual_1", "ln_2", "mlp.c_fc", "mlp.gelu",
                                                    "mlp.c_proj", "residual_2"});
            CHECK(testing::bitwise_equal(log.back().second.value(), y.value()));
        }
        SUBCASE("rejects bad shapes") {
            Rng rng(1);
            const Block<double> blk(gpt2_small(), rng);
            CHECK_THROWS_WITH_AS(blk.forward(VarD(TensorD({1, 3, 5})), {}),
                                 "layernorm: weight must be (C) = (5), got (8)", ShapeError);
        }
    }
}
