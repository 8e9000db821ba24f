// Block: one pre-norm transformer block (GPT-2, and Llama with RMSNorm and SwiGLU),
//   x = x + attn(ln_1(x));  x = x + mlp(ln_2(x)).
#pragma once

#include "ouro/nn/causal_self_attention.hpp"
#include "ouro/nn/mlp.hpp"
#include "ouro/nn/norm.hpp"
#include "ouro/ops/elementwise.hpp"

namespace ouro::nn {

template <typename T> class Block : public Module<T> {
public:
    Block(const GPTConfig& config, Init init) : Module<T>("Block") {
        ln_1 =
            &this->register_module("ln_1", std::make_unique<Norm<T>>(config.n_embd, config.norm,
                                                                     config.bias, config.norm_eps));
        attn =
            &this->register_module("attn", std::make_unique<CausalSelfAttention<T>>(config, init));
        ln_2 =
            &this->register_module("ln_2", std::make_unique<Norm<T>>(config.n_embd, config.norm,
                                                                     config.bias, config.norm_eps));
        mlp = &this->register_module("mlp", std::make_unique<MLP<T>>(config, init));
    }

    /// x (B, T, C) -> (B, T, C).
    Var<T> forward(const Var<T>& x, const ForwardContext<T>& ctx,
                   std::int64_t position_offset = 0) const {
        const Var<T> a = ln_1->forward(x);
        ctx.record(ln_1->path(), a);
        const Var<T> h = ops::add(x, attn->forward(a, ctx, position_offset));
        ctx.record(this->name_of("residual_1"), h);
        const Var<T> b = ln_2->forward(h);
        ctx.record(ln_2->path(), b);
        const Var<T> out = ops::add(h, mlp->forward(b, ctx));
        ctx.record(this->name_of("residual_2"), out);
        return out;
    }

    Norm<T>* ln_1;
    CausalSelfAttention<T>* attn;
    Norm<T>* ln_2;
    MLP<T>* mlp;
};

} // namespace ouro::nn
