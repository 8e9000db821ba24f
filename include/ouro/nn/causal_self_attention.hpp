// CausalSelfAttention: the attention half of a GPT block. One Linear makes queries, keys and values
// (c_attn, C -> C + 2 KVD with KVD = n_kv_head x HS: 3C without grouped-query attention), the fused
// causal attention op mixes them per head (query head h reads key/value head h / (NH / NKV)), and
// c_proj maps back to C. Without RoPE (and when no activations are recorded) the attention reads
// q, k and v in place from c_attn's output (ops::attention_qkv) instead of splitting it.
// The positional encoding enters here when it is RoPE (queries and keys rotated) or ALiBi
// (distance bias on scores); learned positions were added to the input embeddings instead.
#pragma once

#include "ouro/nn/context.hpp"
#include "ouro/nn/gpt_config.hpp"
#include "ouro/nn/linear.hpp"
#include "ouro/ops/attention.hpp"
#include "ouro/ops/concat.hpp"
#include "ouro/ops/dropout.hpp"
#include "ouro/ops/rope.hpp"

#include <cmath>

namespace ouro::nn {

template <typename T> class CausalSelfAttention : public Module<T> {
public:
    CausalSelfAttention(const GPTConfig& cfg, Init init)
        : Module<T>("CausalSelfAttention"), config(cfg) {
        const std::int64_t C = config.n_embd;
        c_attn =
            &this->register_module("c_attn", std::make_unique<Linear<T>>(C, C + 2 * config.kv_dim(),
                                                                         config.bias, 0.02, init));
        c_proj = &this->register_module(
            "c_proj", std::make_unique<Linear<T>>(
                          C, C, config.bias, 0.02 / std::sqrt(2.0 * double(config.n_layer)), init));
    }

    /// x (B, T, C) -> (B, T, C). `position_offset` is the position of the first row (RoPE only).
    Var<T> forward(const Var<T>& x, const ForwardContext<T>& ctx,
                   std::int64_t position_offset = 0) const {
        const std::int64_t C = config.n_embd, KVD = config.kv_dim();
        const int n_head = int(config.n_head), n_kv_head = int(config.kv_heads());
        const Var<T> qkv = c_attn->forward(x); // (B, T, C + 2 KVD)
        ctx.record(c_attn->path(), qkv);
        const ops::AttentionOptions options{.alibi = config.position == PositionEncoding::alibi,
                                            .n_kv_head = n_kv_head};
        Var<T> y;
        if (config.position != PositionEncoding::rope && !ctx.activations) {
            // q, k and v read in place from qkv, same bits as the split below without its copies.
            y = ops::attention_qkv(qkv, n_head, options); // (B, T, C)
        } else {
            auto parts = ops::split(qkv, {C, KVD, KVD}, 2); // q (B, T, C); k, v (B, T, KVD)
            Var<T> q = parts[0], k = parts[1], v = parts[2];
            if (config.position == PositionEncoding::rope) {
                const ops::RopeOptions rope{.base = config.rope_base,
                                            .position_offset = position_offset,
                                            .layout = config.rope_layout};
                q = ops::rope(q, n_head, rope);
                k = ops::rope(k, n_kv_head, rope);
            }
            ctx.record(this->name_of("q"), q);
            ctx.record(this->name_of("k"), k);
            ctx.record(this->name_of("v"), v);
            y = ops::attention(q, k, v, n_head, options); // (B, T, C), heads side by side
        }
        ctx.record(this->name_of("attention"), y);
        Var<T> out = c_proj->forward(y);
        ctx.record(c_proj->path(), out);
        if (this->training() && config.dropout > 0.0) {
            if (!ctx.rng)
                throw ConfigError(
                    "CausalSelfAttention: training with dropout needs an Rng in the context");
            out = ops::dropout(out, config.dropout, *ctx.rng, true);
        }
        return out;
    }

    Linear<T>* c_attn;
    Linear<T>* c_proj;
    GPTConfig config;
};

} // namespace ouro::nn
