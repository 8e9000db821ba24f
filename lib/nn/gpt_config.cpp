// GPTConfig validation, presets and the names of its choices.
#include "ouro/nn/gpt_config.hpp"

#include <cmath>

namespace ouro::nn {

const char* to_string(PositionEncoding p) {
    switch (p) {
    case PositionEncoding::learned:
        return "learned";
    case PositionEncoding::rope:
        return "rope";
    case PositionEncoding::alibi:
        return "alibi";
    }
    return "learned";
}

const char* to_string(NormKind n) {
    return n == NormKind::rmsnorm ? "rmsnorm" : "layernorm";
}

const char* to_string(MlpKind m) {
    return m == MlpKind::swiglu ? "swiglu" : "gelu";
}

const char* to_string(ops::RopeLayout l) {
    return l == ops::RopeLayout::interleaved ? "interleaved" : "half";
}

PositionEncoding parse_position_encoding(std::string_view name) {
    if (name == "learned")
        return PositionEncoding::learned;
    if (name == "rope")
        return PositionEncoding::rope;
    if (name == "alibi")
        return PositionEncoding::alibi;
    throw ConfigError("position encoding: unknown value '" + std::string(name) +
                      "' (expected learned, rope or alibi)");
}

NormKind parse_norm_kind(std::string_view name) {
    if (name == "layernorm")
        return NormKind::layernorm;
    if (name == "rmsnorm")
        return NormKind::rmsnorm;
    throw ConfigError("norm: unknown value '" + std::string(name) +
                      "' (expected layernorm or rmsnorm)");
}

MlpKind parse_mlp_kind(std::string_view name) {
    if (name == "gelu")
        return MlpKind::gelu;
    if (name == "swiglu")
        return MlpKind::swiglu;
    throw ConfigError("mlp: unknown value '" + std::string(name) + "' (expected gelu or swiglu)");
}

ops::RopeLayout parse_rope_layout(std::string_view name) {
    if (name == "half")
        return ops::RopeLayout::half;
    if (name == "interleaved")
        return ops::RopeLayout::interleaved;
    throw ConfigError("rope layout: unknown value '" + std::string(name) +
                      "' (expected half or interleaved)");
}

std::int64_t GPTConfig::hidden_size() const {
    if (mlp_hidden > 0)
        return mlp_hidden;
    return mlp == MlpKind::swiglu ? llama_hidden_size(n_embd) : 4 * n_embd;
}

void GPTConfig::validate() const {
    auto positive = [](const char* field, std::int64_t v) {
        if (v < 1)
            throw ConfigError(std::string("GPTConfig: ") + field + " must be at least 1, got " +
                              std::to_string(v));
    };
    positive("vocab_size", vocab_size);
    positive("block_size", block_size);
    positive("n_layer", n_layer);
    positive("n_head", n_head);
    positive("n_embd", n_embd);
    if (n_embd % n_head != 0)
        throw ConfigError("GPTConfig: n_embd = " + std::to_string(n_embd) +
                          " is not a multiple of n_head = " + std::to_string(n_head));
    if (n_kv_head < 0 || (n_kv_head > 0 && n_head % n_kv_head != 0))
        throw ConfigError("GPTConfig: n_kv_head = " + std::to_string(n_kv_head) +
                          " does not divide n_head = " + std::to_string(n_head));
    if (position == PositionEncoding::rope && head_size() % 2 != 0)
        throw ConfigError("GPTConfig: rope needs an even head size, n_embd / n_head = " +
                          std::to_string(head_size()));
    if (!(dropout >= 0.0 && dropout < 1.0))
        throw ConfigError("GPTConfig: dropout must be in [0, 1), got " + std::to_string(dropout));
    if (!(rope_base > 0.0) || !std::isfinite(rope_base))
        throw ConfigError("GPTConfig: rope_base must be positive, got " +
                          std::to_string(rope_base));
    if (!(norm_eps > 0.0) || !std::isfinite(norm_eps))
        throw ConfigError("GPTConfig: norm_eps must be positive, got " + std::to_string(norm_eps));
    if (mlp_hidden < 0)
        throw ConfigError("GPTConfig: mlp_hidden must be at least 1 (or 0 for the default), got " +
                          std::to_string(mlp_hidden));
}

GPTConfig GPTConfig::xs() {
    return gpt2(512, 128, 4, 4, 128);
}

GPTConfig GPTConfig::s() {
    return gpt2(4096, 256, 6, 8, 256);
}

GPTConfig GPTConfig::gpt2(std::int64_t vocab_size, std::int64_t block_size, std::int64_t n_layer,
                          std::int64_t n_head, std::int64_t n_embd) {
    GPTConfig c;
    c.vocab_size = vocab_size;
    c.block_size = block_size;
    c.n_layer = n_layer;
    c.n_head = n_head;
    c.n_embd = n_embd;
    return c;
}

std::int64_t GPTConfig::llama_hidden_size(std::int64_t n_embd, std::int64_t multiple_of) {
    if (n_embd < 1 || multiple_of < 1)
        throw ConfigError("GPTConfig::llama_hidden_size: n_embd and multiple_of must be at least "
                          "1, got " +
                          std::to_string(n_embd) + " and " + std::to_string(multiple_of));
    const std::int64_t hidden = 2 * (4 * n_embd) / 3;
    return (hidden + multiple_of - 1) / multiple_of * multiple_of;
}

GPTConfig GPTConfig::llama(std::int64_t vocab_size, std::int64_t block_size, std::int64_t n_layer,
                           std::int64_t n_head, std::int64_t n_kv_head, std::int64_t n_embd,
                           std::int64_t multiple_of) {
    GPTConfig c = gpt2(vocab_size, block_size, n_layer, n_head, n_embd);
    c.n_kv_head = n_kv_head;
    c.bias = false;
    c.position = PositionEncoding::rope;
    c.rope_layout = ops::RopeLayout::interleaved;
    c.norm = NormKind::rmsnorm;
    c.mlp = MlpKind::swiglu;
    c.mlp_hidden = llama_hidden_size(n_embd, multiple_of);
    c.tied_head = false;
    return c;
}

} // namespace ouro::nn
