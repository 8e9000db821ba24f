// GPT: the GPT-2 architecture (Radford et al. 2019) as nanoGPT writes it, and the Llama family as
// configuration of it (gpt_config.hpp), with module and parameter names equal to the GPT-2
// checkpoint keys:
//
//   transformer.wte      token embedding (V, C), also the classifier when tied
//   transformer.wpe      learned position embedding (block_size, C), only with learned positions
//   transformer.h.<i>    n_layer pre-norm blocks: ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc,
//                        mlp.c_proj
//   transformer.ln_f     final norm
//   lm_head              the classifier (V, C), only when not tied
//
// forward: idx (B, T) -> wte(idx) [+ wpe(positions)] -> dropout -> blocks -> ln_f -> x W_head^T
// = logits (B, T, V). GPT-2 initialisation: weights N(0, 0.02^2), residual projections (the two
// c_proj) N(0, (0.02 / sqrt(2 n_layer))^2), biases zero, norm weights one.
//
// view() is the typed list of the weights (weights.hpp) that the inference session reads: it is
// the one place that says which tensor plays which part.
#pragma once

#include "ouro/nn/block.hpp"
#include "ouro/nn/embedding.hpp"
#include "ouro/nn/weights.hpp"
#include "ouro/ops/cross_entropy.hpp"

#include <numeric>
#include <string>
#include <vector>

namespace ouro::nn {

template <typename T> class GPT : public Module<T> {
public:
    /// Builds the model, its weights drawn from `init` (an Rng) or zero (`Init::zeros()`, for a
    /// loader that sets every weight). Throws ConfigError for an invalid config.
    GPT(const GPTConfig& cfg, Init init) : Module<T>("GPT"), config(cfg) {
        config.validate();
        transformer =
            &this->register_module("transformer", std::make_unique<ModuleGroup<T>>("transformer"));
        wte = &transformer->add(
            "wte", std::make_unique<Embedding<T>>(config.vocab_size, config.n_embd, 0.02, init));
        if (config.position == PositionEncoding::learned)
            wpe = &transformer->add("wpe", std::make_unique<Embedding<T>>(
                                               config.block_size, config.n_embd, 0.02, init));
        auto& blocks = transformer->add("h", std::make_unique<ModuleGroup<T>>("h"));
        for (std::int64_t i = 0; i < config.n_layer; ++i)
            h.push_back(&blocks.add(std::to_string(i), std::make_unique<Block<T>>(config, init)));
        ln_f = &transformer->add("ln_f", std::make_unique<Norm<T>>(config.n_embd, config.norm,
                                                                   config.bias, config.norm_eps));
        if (!config.tied_head)
            lm_head = &this->register_module(
                "lm_head",
                std::make_unique<Linear<T>>(config.n_embd, config.vocab_size, false, 0.02, init));
    }

    /// The classifier's weight (V, C): wte's when tied, lm_head's otherwise.
    const Var<T>& head_weight() const { return lm_head ? lm_head->weight : wte->weight; }

    /// Every weight by the part it plays (weights.hpp). Valid while the model lives.
    ModelView<T> view() const {
        ModelView<T> v;
        v.config = config;
        v.token_embedding = &wte->weight.value();
        v.position_embedding = wpe ? &wpe->weight.value() : nullptr;
        for (const Block<T>* b : h)
            v.blocks.push_back({norm_view(*b->ln_1), linear_view(*b->attn->c_attn),
                                linear_view(*b->attn->c_proj), norm_view(*b->ln_2),
                                linear_view(*b->mlp->c_fc), linear_view(*b->mlp->c_proj)});
        v.final_norm = norm_view(*ln_f);
        v.head = {&head_weight().value(), nullptr};
        return v;
    }

    /// idx (B, T) token ids -> logits (B, T, V). Rows are at positions position_offset + t.
    /// Throws ShapeError when idx is not (B, T), ConfigError when an id is outside the vocabulary
    /// or, with learned positions, when a position reaches block_size (there is no embedding for
    /// it: crop the context or use RoPE / ALiBi).
    Var<T> forward(const TensorI& idx, const ForwardContext<T>& ctx = {},
                   std::int64_t position_offset = 0) const {
        if (idx.rank() != 2)
            throw ShapeError("GPT: idx must be (B, T), got " + idx.shape().to_string());
        const std::int64_t T_ = idx.dim(1);
        Var<T> x = wte->forward(idx); // (B, T, C)
        ctx.record(wte->path(), x);
        if (wpe) {
            if (position_offset < 0 || position_offset + T_ > config.block_size)
                throw ConfigError("GPT: positions " + std::to_string(position_offset) + ".." +
                                  std::to_string(position_offset + T_ - 1) +
                                  " do not fit the learned position embedding of block_size " +
                                  std::to_string(config.block_size));
            TensorI positions({T_});
            std::iota(positions.values().begin(), positions.values().end(),
                      std::int32_t(position_offset));
            const Var<T> pos = wpe->forward(positions); // (T, C), broadcast over B
            ctx.record(wpe->path(), pos);
            x = ops::add(x, pos);
        }
        if (this->training() && config.dropout > 0.0) {
            if (!ctx.rng)
                throw ConfigError("GPT: training with dropout needs an Rng in the context");
            x = ops::dropout(x, config.dropout, *ctx.rng, true);
        }
        for (const Block<T>* block : h)
            x = block->forward(x, ctx, position_offset);
        x = ln_f->forward(x);
        ctx.record(ln_f->path(), x);
        const Var<T> logits = ops::linear(x, head_weight(), Var<T>()); // (B, T, V)
        ctx.record("lm_head", logits);
        return logits;
    }

    /// Mean cross-entropy of the next-token predictions for idx against targets (B, T); targets
    /// equal to ignore_index do not count.
    Var<T> loss(const TensorI& idx, const TensorI& targets, const ForwardContext<T>& ctx = {},
                int ignore_index = -1) const {
        if (!(targets.shape() == idx.shape()))
            throw ShapeError("GPT: targets must match idx: idx is " + idx.shape().to_string() +
                             ", targets are " + targets.shape().to_string());
        const Var<T> loss = ops::cross_entropy(forward(idx, ctx), targets, ignore_index);
        ctx.record("loss", loss);
        return loss;
    }

    GPTConfig config;
    ModuleGroup<T>* transformer = nullptr;
    Embedding<T>* wte = nullptr;
    Embedding<T>* wpe = nullptr; ///< only with learned positions
    std::vector<Block<T>*> h;
    Norm<T>* ln_f = nullptr;
    Linear<T>* lm_head = nullptr; ///< only when the classifier is not tied

private:
    static NormView<T> norm_view(const Norm<T>& n) {
        return {n.kind, &n.weight.value(), n.bias.defined() ? &n.bias.value() : nullptr, n.eps};
    }
    static LinearView<T> linear_view(const Linear<T>& l) {
        return {&l.weight.value(), l.bias.defined() ? &l.bias.value() : nullptr};
    }
};

} // namespace ouro::nn
