// nn/gpt_config.hpp: derived sizes, the presets, the GPT-2 and Llama constructors (and the
// latter's hidden-size rule), the names of each choice both ways, and every message validate()
// throws.
#include <ouro/nn/gpt_config.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::nn;

TEST_SUITE("nn") {
    TEST_CASE("GPTConfig") {
        SUBCASE("derived sizes: head size, key/value heads and channels, MLP width") {
            GPTConfig c; // GPT-2 124M
            CHECK(c.head_size() == 64);
            CHECK(c.kv_heads() == 12);
            CHECK(c.kv_dim() == 768);
            CHECK(c.hidden_size() == 3072);
            c.n_kv_head = 4;
            CHECK(c.kv_heads() == 4);
            CHECK(c.kv_dim() == 256);
            c.mlp_hidden = 100;
            CHECK(c.hidden_size() == 100);
            c.mlp_hidden = 0;
            c.mlp = MlpKind::swiglu;
            CHECK(c.hidden_size() == GPTConfig::llama_hidden_size(768)); // 2048
            CHECK(c.hidden_size() == 2048);
            CHECK_NOTHROW(GPTConfig{}.validate());
        }
        SUBCASE("presets XS and S (PERF.md), and gpt2(): GPT-2's block with the given sizes") {
            struct Case {
                GPTConfig config;
                std::int64_t V, T, L, NH, C;
            };
            for (const Case& k : {Case{GPTConfig::xs(), 512, 128, 4, 4, 128},
                                  Case{GPTConfig::s(), 4096, 256, 6, 8, 256},
                                  Case{GPTConfig::gpt2(11, 8, 3, 2, 6), 11, 8, 3, 2, 6}}) {
                const GPTConfig& c = k.config;
                CAPTURE(k.V);
                CHECK(c.vocab_size == k.V);
                CHECK(c.block_size == k.T);
                CHECK(c.n_layer == k.L);
                CHECK(c.n_head == k.NH);
                CHECK(c.n_embd == k.C);
                // Everything else is GPT-2's.
                CHECK(c.position == PositionEncoding::learned);
                CHECK(c.norm == NormKind::layernorm);
                CHECK(c.mlp == MlpKind::gelu);
                CHECK(c.bias);
                CHECK(c.tied_head);
                CHECK(c.kv_heads() == k.NH);
                CHECK_NOTHROW(c.validate());
            }
        }
        SUBCASE("llama(): llama2.c's block, and its SwiGLU width rule") {
            // stories15M: dim 288, 6 layers, 6 heads; multiple_of 32 gives 768.
            CHECK(GPTConfig::llama_hidden_size(288, 32) == 768);
            CHECK(GPTConfig::llama_hidden_size(4096) == 11008); // Llama 2 7B
            CHECK(GPTConfig::llama_hidden_size(64, 1) == 170);  // 2 * 256 / 3, no rounding
            const GPTConfig c = GPTConfig::llama(32000, 256, 6, 6, 3, 288, 32);
            CHECK(c.position == PositionEncoding::rope);
            CHECK(c.rope_layout == ops::RopeLayout::interleaved);
            CHECK(c.norm == NormKind::rmsnorm);
            CHECK(c.mlp == MlpKind::swiglu);
            CHECK(c.mlp_hidden == 768);
            CHECK_FALSE(c.bias);
            CHECK_FALSE(c.tied_head);
            CHECK(c.kv_heads() == 3);
            CHECK(c.norm_eps == 1e-5);
            CHECK(c.rope_base == 10000.0);
            CHECK_NOTHROW(c.validate());
            CHECK_THROWS_WITH_AS(GPTConfig::llama_hidden_size(0, 32),
                                 "GPTConfig::llama_hidden_size: n_embd and multiple_of must be at "
                                 "least 1, got 0 and 32",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(GPTConfig::llama(16, 8, 1, 2, 0, 8, 0),
                                 "GPTConfig::llama_hidden_size: n_embd and multiple_of must be at "
                                 "least 1, got 8 and 0",
                                 ConfigError);
        }
        SUBCASE("names of the choices, both ways") {
            for (PositionEncoding p :
                 {PositionEncoding::learned, PositionEncoding::rope, PositionEncoding::alibi})
                CHECK(parse_position_encoding(to_string(p)) == p);
            for (NormKind n : {NormKind::layernorm, NormKind::rmsnorm})
                CHECK(parse_norm_kind(to_string(n)) == n);
            for (MlpKind m : {MlpKind::gelu, MlpKind::swiglu})
                CHECK(parse_mlp_kind(to_string(m)) == m);
            for (ops::RopeLayout l : {ops::RopeLayout::half, ops::RopeLayout::interleaved})
                CHECK(parse_rope_layout(to_string(l)) == l);
            CHECK(std::string(to_string(PositionEncoding::alibi)) == "alibi");
            CHECK(std::string(to_string(NormKind::rmsnorm)) == "rmsnorm");
            CHECK(std::string(to_string(MlpKind::swiglu)) == "swiglu");
            CHECK(std::string(to_string(ops::RopeLayout::interleaved)) == "interleaved");
        }
        SUBCASE("rejects unknown names") {
            CHECK_THROWS_WITH_AS(parse_position_encoding("sinusoidal"),
                                 "position encoding: unknown value 'sinusoidal' (expected learned, "
                                 "rope or alibi)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(parse_norm_kind("LayerNorm"),
                                 "norm: unknown value 'LayerNorm' (expected layernorm or rmsnorm)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(parse_mlp_kind("relu"),
                                 "mlp: unknown value 'relu' (expected gelu or swiglu)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(parse_rope_layout(""),
                                 "rope layout: unknown value '' (expected half or interleaved)",
                                 ConfigError);
        }
        SUBCASE("validate names the first field out of range") {
            auto with = [](auto change) {
                GPTConfig c = GPTConfig::xs();
                change(c);
                return c;
            };
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) { c.vocab_size = 0; }).validate(),
                                 "GPTConfig: vocab_size must be at least 1, got 0", ConfigError);
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) { c.block_size = -3; }).validate(),
                                 "GPTConfig: block_size must be at least 1, got -3", ConfigError);
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) { c.n_layer = 0; }).validate(),
                                 "GPTConfig: n_layer must be at least 1, got 0", ConfigError);
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) { c.n_head = 0; }).validate(),
                                 "GPTConfig: n_head must be at least 1, got 0", ConfigError);
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) { c.n_embd = 0; }).validate(),
                                 "GPTConfig: n_embd must be at least 1, got 0", ConfigError);
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) { c.n_embd = 102; }).validate(),
                                 "GPTConfig: n_embd = 102 is not a multiple of n_head = 4",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) { c.n_kv_head = 3; }).validate(),
                                 "GPTConfig: n_kv_head = 3 does not divide n_head = 4",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) { c.n_kv_head = -1; }).validate(),
                                 "GPTConfig: n_kv_head = -1 does not divide n_head = 4",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) {
                                     c.position = PositionEncoding::rope;
                                     c.n_embd = 12;
                                 }).validate(),
                                 "GPTConfig: rope needs an even head size, n_embd / n_head = 3",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) { c.dropout = 1.0; }).validate(),
                                 "GPTConfig: dropout must be in [0, 1), got 1.000000", ConfigError);
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) { c.rope_base = 0.0; }).validate(),
                                 "GPTConfig: rope_base must be positive, got 0.000000",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) { c.norm_eps = -1e-5; }).validate(),
                                 "GPTConfig: norm_eps must be positive, got -0.000010",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) { c.mlp_hidden = -1; }).validate(),
                                 "GPTConfig: mlp_hidden must be at least 1 (or 0 for the default), "
                                 "got -1",
                                 ConfigError);
            // An odd head size is fine without RoPE; the checks run in the documented order.
            CHECK_NOTHROW(with([](GPTConfig& c) { c.n_embd = 12; }).validate());
            CHECK_THROWS_WITH_AS(with([](GPTConfig& c) {
                                     c.vocab_size = 0;
                                     c.dropout = 2.0;
                                 }).validate(),
                                 "GPTConfig: vocab_size must be at least 1, got 0", ConfigError);
        }
    }
}
