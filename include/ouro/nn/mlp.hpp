// MLP: the feed-forward half of a GPT block, C -> 4C -> GELU -> C.
#pragma once

#include "ouro/nn/context.hpp"
#include "ouro/nn/linear.hpp"
#include "ouro/ops/dropout.hpp"
#include "ouro/ops/gelu.hpp"

#include <cmath>

namespace ouro::nn {

template <typename T> class MLP : public Module<T> {
public:
    /// c_proj starts smaller (std / sqrt(2 n_layer), GPT-2) because it adds into the residual
    /// stream.
    MLP(std::int64_t n_embd, std::int64_t n_layer, bool has_bias, double dropout_p, Rng& rng)
        : Module<T>("MLP"), dropout(dropout_p) {
        c_fc = &this->register_module(
            "c_fc", std::make_unique<Linear<T>>(n_embd, 4 * n_embd, has_bias, 0.02, rng));
        c_proj = &this->register_module(
            "c_proj", std::make_unique<Linear<T>>(4 * n_embd, n_embd, has_bias,
                                                  0.02 / std::sqrt(2.0 * double(n_layer)), rng));
    }

    /// x (B, T, C) -> (B, T, C).
    Var<T> forward(const Var<T>& x, const ForwardContext<T>& ctx) const {
        const Var<T> h = c_fc->forward(x); // (B, T, 4C)
        ctx.record(c_fc->path(), h);
        const Var<T> g = ops::gelu(h);
        ctx.record(this->name_of("gelu"), g);
        Var<T> y = c_proj->forward(g); // (B, T, C)
        ctx.record(c_proj->path(), y);
        if (this->training() && dropout > 0.0) {
            if (!ctx.rng)
                throw ConfigError("MLP: training with dropout needs an Rng in the context");
            y = ops::dropout(y, dropout, *ctx.rng, true);
        }
        return y;
    }

    Linear<T>* c_fc;
    Linear<T>* c_proj;
    double dropout;
};

} // namespace ouro::nn
