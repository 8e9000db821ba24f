// GPTConfig validation, presets and positional-encoding names.
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
    if (position == PositionEncoding::rope && head_size() % 2 != 0)
        throw ConfigError("GPTConfig: rope needs an even head size, n_embd / n_head = " +
                          std::to_string(head_size()));
    if (!(dropout >= 0.0 && dropout < 1.0))
        throw ConfigError("GPTConfig: dropout must be in [0, 1), got " + std::to_string(dropout));
    if (!(rope_base > 0.0) || !std::isfinite(rope_base))
        throw ConfigError("GPTConfig: rope_base must be positive, got " +
                          std::to_string(rope_base));
}

GPTConfig GPTConfig::xs() {
    GPTConfig c;
    c.vocab_size = 512;
    c.block_size = 128;
    c.n_layer = 4;
    c.n_head = 4;
    c.n_embd = 128;
    return c;
}

GPTConfig GPTConfig::s() {
    GPTConfig c;
    c.vocab_size = 4096;
    c.block_size = 256;
    c.n_layer = 6;
    c.n_head = 8;
    c.n_embd = 256;
    return c;
}

} // namespace ouro::nn
