// GPTConfig: the shape of a GPT, with GPT-2's defaults, and the choice of positional encoding.
#pragma once

#include "ouro/core/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ouro::nn {

/// How the model knows where a token is. Learned absolute embeddings (GPT-2) have no vector past
/// block_size; RoPE rotates queries and keys by position; ALiBi biases attention scores by
/// distance.
enum class PositionEncoding { learned, rope, alibi };

/// "learned", "rope", "alibi".
const char* to_string(PositionEncoding p);
/// Parses the names above; throws ConfigError naming the bad value and the valid ones.
PositionEncoding parse_position_encoding(std::string_view name);

struct GPTConfig {
    std::int64_t vocab_size = 50257; ///< GPT-2's BPE vocabulary
    std::int64_t block_size = 1024;  ///< longest context the model is trained on
    std::int64_t n_layer = 12;       ///< transformer blocks
    std::int64_t n_head = 12;        ///< attention heads per block
    std::int64_t n_embd = 768;       ///< channels C; the head size is C / n_head
    double dropout = 0.0;            ///< on embeddings and residual branches, when training
    bool bias = true;                ///< biases in Linear and LayerNorm layers, as GPT-2
    PositionEncoding position = PositionEncoding::learned;
    double rope_base = 10000.0; ///< RoPE wavelength base (used with PositionEncoding::rope)

    std::int64_t head_size() const { return n_embd / n_head; }

    /// Throws ConfigError naming the first field that is out of range ("GPTConfig: n_embd = 100
    /// is not a multiple of n_head = 8").
    void validate() const;

    /// The reference configurations of PERF.md: XS (V=512, T=128, C=128, L=4, NH=4) and
    /// S (V=4096, T=256, C=256, L=6, NH=8).
    static GPTConfig xs();
    static GPTConfig s();
};

} // namespace ouro::nn
