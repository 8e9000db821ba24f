// GPTConfig: the shape of a GPT, with GPT-2's defaults, and the choices that make the same model a
// member of the Llama family (llama2.c's TinyStories models): the positional encoding, the norm,
// the MLP, grouped-query attention and an untied classifier. A block variant is configuration,
// not a second model.
//
//                     GPT-2 (defaults)          Llama 2 / llama2.c
//   position          learned                   rope, interleaved pairs, base 10000
//   norm              layernorm (bias)          rmsnorm, eps 1e-5
//   mlp               gelu, 4 C                 swiglu, llama_hidden_size(C, multiple_of)
//   attention         n_kv_head = n_head        n_kv_head divides n_head (GQA; 1 = MQA)
//   biases            yes                       no
//   classifier        tied to wte               separate lm_head (or tied)
#pragma once

#include "ouro/core/error.hpp"
#include "ouro/ops/rope.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ouro::nn {

/// How the model knows where a token is. Learned absolute embeddings (GPT-2) have no vector past
/// block_size; RoPE rotates queries and keys by position; ALiBi biases attention scores by
/// distance.
enum class PositionEncoding { learned, rope, alibi };
/// LayerNorm (Ba et al. 2016: centred, scaled, weight and bias) or RMSNorm (Zhang & Sennrich
/// 2019: scaled by the root mean square, weight only).
enum class NormKind { layernorm, rmsnorm };
/// The MLP's activation: GELU over 4C features (GPT-2), or SwiGLU (Shazeer 2020: silu(x W1) *
/// (x W3), Llama), whose two input projections are one Linear of 2 x hidden outputs.
enum class MlpKind { gelu, swiglu };

/// "learned", "rope", "alibi".
const char* to_string(PositionEncoding p);
/// "layernorm", "rmsnorm".
const char* to_string(NormKind n);
/// "gelu", "swiglu".
const char* to_string(MlpKind m);
/// "half", "interleaved".
const char* to_string(ops::RopeLayout l);
/// Parse the names above; throw ConfigError naming the bad value and the valid ones.
PositionEncoding parse_position_encoding(std::string_view name);
NormKind parse_norm_kind(std::string_view name);
MlpKind parse_mlp_kind(std::string_view name);
ops::RopeLayout parse_rope_layout(std::string_view name);

struct GPTConfig {
    std::int64_t vocab_size = 50257; ///< GPT-2's BPE vocabulary
    std::int64_t block_size = 1024;  ///< longest context the model is trained on
    std::int64_t n_layer = 12;       ///< transformer blocks
    std::int64_t n_head = 12;        ///< attention heads per block
    std::int64_t n_embd = 768;       ///< channels C; the head size is C / n_head
    double dropout = 0.0;            ///< on embeddings and residual branches, when training
    bool bias = true;                ///< biases in Linear layers and LayerNorms, as GPT-2
    PositionEncoding position = PositionEncoding::learned;
    double rope_base = 10000.0; ///< RoPE wavelength base (used with PositionEncoding::rope)
    /// RoPE's channel pairs: (i, i + HS/2) as GPT-NeoX and Hugging Face, or (2i, 2i + 1) as Meta's
    /// Llama and llama2.c.
    ops::RopeLayout rope_layout = ops::RopeLayout::half;
    /// Key/value heads: n_head (0 means the same), a divisor of it (grouped-query attention,
    /// Ainslie et al. 2023), or 1 (multi-query attention).
    std::int64_t n_kv_head = 0;
    NormKind norm = NormKind::layernorm;
    double norm_eps = 1e-5; ///< added to the variance (layernorm) or mean square (rmsnorm)
    MlpKind mlp = MlpKind::gelu;
    /// The MLP's hidden features; 0 means 4 C for gelu and llama_hidden_size(C, 256) for swiglu.
    std::int64_t mlp_hidden = 0;
    /// The classifier is the token embedding (GPT-2), or a separate lm_head (V, C).
    bool tied_head = true;

    std::int64_t head_size() const { return n_embd / n_head; }
    std::int64_t kv_heads() const { return n_kv_head == 0 ? n_head : n_kv_head; }
    /// Channels of the keys (and of the values): kv_heads() x head_size().
    std::int64_t kv_dim() const { return kv_heads() * head_size(); }
    std::int64_t hidden_size() const;

    /// Throws ConfigError naming the first field that is out of range ("GPTConfig: n_embd = 100
    /// is not a multiple of n_head = 8").
    void validate() const;

    /// The reference configurations of PERF.md: XS (V=512, T=128, C=128, L=4, NH=4) and
    /// S (V=4096, T=256, C=256, L=6, NH=8).
    static GPTConfig xs();
    static GPTConfig s();
    /// GPT-2's block (learned positions, LayerNorm, GELU, biases, tied classifier) with these
    /// sizes; every other field keeps its default.
    static GPTConfig gpt2(std::int64_t vocab_size, std::int64_t block_size, std::int64_t n_layer,
                          std::int64_t n_head, std::int64_t n_embd);
    /// A Llama-2-style block with these sizes (llama2.c's model.py): RoPE on interleaved pairs,
    /// RMSNorm (eps 1e-5), SwiGLU with llama_hidden_size(n_embd, multiple_of) hidden features, no
    /// biases, separate classifier.
    static GPTConfig llama(std::int64_t vocab_size, std::int64_t block_size, std::int64_t n_layer,
                           std::int64_t n_head, std::int64_t n_kv_head, std::int64_t n_embd,
                           std::int64_t multiple_of = 256);
    /// llama2.c's rule for the SwiGLU hidden size: 2/3 of 4 C, rounded up to a multiple of
    /// multiple_of (C = 288, multiple_of 32: 768).
    static std::int64_t llama_hidden_size(std::int64_t n_embd, std::int64_t multiple_of = 256);
};

} // namespace ouro::nn
