// MLP: the feed-forward half of a block. GPT-2: C -> 4C -> GELU -> C. Llama: SwiGLU, whose gate
// and up projections (llama2.c's w1 and w3) are one Linear c_fc of 2H outputs, gate rows first,
// followed by silu(gate) * up and c_proj (w2): C -> 2H -> H -> C.
#pragma once

#include "ouro/nn/context.hpp"
#include "ouro/nn/gpt_config.hpp"
#include "ouro/nn/linear.hpp"
#include "ouro/ops/dropout.hpp"
#include "ouro/ops/gelu.hpp"
#include "ouro/ops/swiglu.hpp"

#include <cmath>

namespace ouro::nn {

template <typename T> class MLP : public Module<T> {
public:
    /// c_proj starts smaller (std / sqrt(2 n_layer), GPT-2) because it adds into the residual
    /// stream.
    MLP(const GPTConfig& config, Init init)
        : Module<T>("MLP"), kind(config.mlp), dropout(config.dropout) {
        const std::int64_t C = config.n_embd, H = config.hidden_size();
        const std::int64_t fc_out = kind == MlpKind::swiglu ? 2 * H : H;
        c_fc = &this->register_module(
            "c_fc", std::make_unique<Linear<T>>(C, fc_out, config.bias, 0.02, init));
        c_proj = &this->register_module(
            "c_proj", std::make_unique<Linear<T>>(
                          H, C, config.bias, 0.02 / std::sqrt(2.0 * double(config.n_layer)), init));
    }

    /// x (B, T, C) -> (B, T, C).
    Var<T> forward(const Var<T>& x, const ForwardContext<T>& ctx) const {
        const Var<T> h = c_fc->forward(x); // (B, T, H) or (B, T, 2H)
        ctx.record(c_fc->path(), h);
        const Var<T> g = kind == MlpKind::swiglu ? ops::swiglu(h) : ops::gelu(h); // (B, T, H)
        ctx.record(this->name_of(kind == MlpKind::swiglu ? "swiglu" : "gelu"), g);
        Var<T> y = c_proj->forward(g); // (B, T, C)
        ctx.record(c_proj->path(), y);
        if (this->training() && dropout > 0.0) {
            if (!ctx.rng)
                throw ConfigError("MLP: training with dropout needs an Rng in the context");
            y = ops::dropout(y, dropout, *ctx.rng, true);
        }
        return y;
    }

    MlpKind kind;
    Linear<T>* c_fc;
    Linear<T>* c_proj;
    double dropout;
};

} // namespace ouro::nn
