// nn/causal_self_attention.hpp: shapes and names of c_attn / c_proj (with grouped-query heads),
// forward against a naive double reference for each positional encoding, finite-difference
// gradients, the activations it records, dropout's Rng, and bad inputs.
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/nn/causal_self_attention.hpp>

#include "nn/nn_reference.hpp"
#include "test_util.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::nn;

namespace {

GPTConfig small(PositionEncoding position, std::int64_t n_kv_head = 0) {
    GPTConfig c;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 8;
    c.n_kv_head = n_kv_head;
    c.position = position;
    return c;
}

// The module's output for x (B, T, C) against the naive reference, row by row.
void check_against_reference(const CausalSelfAttention<double>& m, const TensorD& x,
                             std::int64_t offset) {
    const VarD y = m.forward(VarD(x), {}, offset);
    REQUIRE(y.shape() == x.shape());
    const std::int64_t B = x.dim(0), T = x.dim(1), C = x.dim(2);
    const TensorD* b_attn = m.c_attn->bias.defined() ? &m.c_attn->bias.value() : nullptr;
    const TensorD* b_proj = m.c_proj->bias.defined() ? &m.c_proj->bias.value() : nullptr;
    const auto all = testing::naive::rows_of(x);
    for (std::int64_t b = 0; b < B; ++b) {
        const testing::naive::Rows seq(all.begin() + b * T, all.begin() + (b + 1) * T);
        const auto expected =
            testing::naive::causal_self_attention(seq, m.config, m.c_attn->weight.value(), b_attn,
                                                  m.c_proj->weight.value(), b_proj, offset);
        for (std::int64_t t = 0; t < T; ++t)
            for (std::int64_t c = 0; c < C; ++c)
                CHECK(y.value()[(b * T + t) * C + c] ==
                      doctest::Approx(expected[std::size_t(t)][std::size_t(c)]).epsilon(1e-12));
    }
}

// Gives every parameter random values (biases are zero at start, which would hide their use).
} // namespace

TEST_SUITE("nn") {
    TEST_CASE("CausalSelfAttention") {
        SUBCASE("c_attn makes q, k and v (C + 2 KVD); c_proj drawn with the residual std") {
            Rng rng(4), copy(4);
            const CausalSelfAttention<double> m(small(PositionEncoding::learned), rng);
            CHECK(m.c_attn->weight.shape() == Shape{24, 8});
            CHECK(m.c_proj->weight.shape() == Shape{8, 8});
            const auto named = m.named_parameters();
            REQUIRE(named.size() == 4);
            CHECK(named[0].first == "c_attn.weight");
            CHECK(named[1].first == "c_attn.bias");
            CHECK(named[2].first == "c_proj.weight");
            CHECK(named[3].first == "c_proj.bias");
            for (std::int64_t i = 0; i < 24 * 8; ++i)
                CHECK(m.c_attn->weight.value()[i] == 0.02 * copy.normal());
            for (double w : m.c_proj->weight.value().values())
                CHECK(w == 0.02 / std::sqrt(4.0) * copy.normal());
            // Grouped-query: one key/value head of size 4.
            const CausalSelfAttention<double> gqa(small(PositionEncoding::rope, 1), rng);
            CHECK(gqa.c_attn->weight.shape() == Shape{16, 8});
            GPTConfig no_bias = small(PositionEncoding::alibi);
            no_bias.bias = false;
            CHECK(CausalSelfAttention<double>(no_bias, rng).named_parameters().size() == 2);
        }
        SUBCASE("forward matches reference: learned, ALiBi, RoPE (both layouts), GQA, no bias") {
            struct Case {
                GPTConfig config;
                std::int64_t offset;
            };
            GPTConfig inter = small(PositionEncoding::rope, 1);
            inter.rope_layout = ops::RopeLayout::interleaved;
            inter.bias = false;
            GPTConfig four_heads = small(PositionEncoding::alibi, 2);
            four_heads.n_head = 4;
            for (const Case& k :
                 {Case{small(PositionEncoding::learned), 0},
                  Case{small(PositionEncoding::alibi), 0}, Case{small(PositionEncoding::rope), 5},
                  Case{inter, 3}, Case{four_heads, 0}}) {
                CAPTURE(std::string(to_string(k.config.position)));
                CAPTURE(k.config.kv_heads());
                Rng rng(7);
                CausalSelfAttention<double> m(k.config, rng);
                testing::randomise(m, rng);
                check_against_reference(m, testing::random_tensor<double>({2, 5, 8}, rng),
                                        k.offset);
            }
        }
        SUBCASE("gradient matches finite differences (input and c_attn's weight)") {
            for (PositionEncoding position : {PositionEncoding::alibi, PositionEncoding::rope}) {
                Rng rng(11);
                CausalSelfAttention<double> m(small(position, 1), rng);
                testing::randomise(m, rng);
                const TensorD x = testing::random_tensor<double>({1, 3, 8}, rng);
                const auto r = gradcheck(
                    [&](const std::vector<VarD>& in) {
                        // Through the module with the checked weight swapped in as a leaf.
                        const VarD w = m.c_attn->weight;
                        m.c_attn->weight = in[1];
                        VarD y = m.forward(in[0], {});
                        m.c_attn->weight = w;
                        return y;
                    },
                    {x, m.c_attn->weight.value()});
                CHECK_MESSAGE(r.ok, r.message);
            }
        }
        SUBCASE("records c_attn, q, k, v, the attention and c_proj under its path") {
            Rng rng(2);
            CausalSelfAttention<double> m(small(PositionEncoding::rope), rng);
            std::vector<std::pair<std::string, VarD>> log;
            ForwardContext<double> ctx;
            ctx.activations = &log;
            m.forward(VarD(testing::random_tensor<double>({1, 3, 8}, rng)), ctx);
            std::vector<std::string> names;
            for (auto& [n, v] : log)
                names.push_back(n);
            CHECK(names ==
                  std::vector<std::string>{"c_attn", "q", "k", "v", "attention", "c_proj"});
            CHECK(log[1].second.shape() == Shape{1, 3, 8});
        }
        SUBCASE("training with dropout needs an Rng; evaluation does not") {
            GPTConfig c = small(PositionEncoding::learned);
            c.dropout = 0.5;
            Rng rng(3);
            CausalSelfAttention<double> m(c, rng);
            const VarD x(testing::random_tensor<double>({1, 2, 8}, rng));
            CHECK_THROWS_WITH_AS(
                m.forward(x, {}),
                "CausalSelfAttention: training with dropout needs an Rng in the context",
                ConfigError);
            Rng drop(1);
            CHECK(m.forward(x, {.rng = &drop}).shape() == Shape{1, 2, 8});
            m.eval();
            CHECK(testing::bitwise_equal(m.forward(x, {}).value(), m.forward(x, {}).value()));
        }
        SUBCASE("rejects bad shapes") {
            Rng rng(1);
            const CausalSelfAttention<double> m(small(PositionEncoding::learned), rng);
            CHECK_THROWS_WITH_AS(m.forward(VarD(TensorD({1, 3, 5})), {}),
                                 "linear: input features differ: x is (1, 3, 5), weight is (24, 8)",
                                 ShapeError);
        }
    }
}
