// The training step the benchmarks time: a GPT of one of PERF.md's configs with AdamW (weight
// decay 0.1) on a fixed random batch, shared by ouro_bench_train and ouro_profile_train.
#pragma once

#include <ouro/autograd/backward.hpp>
#include <ouro/nn/gpt.hpp>
#include <ouro/optim/adamw.hpp>
#include <ouro/optim/clip.hpp>

#include <memory>

namespace ouro::bench {

struct TrainSetup {
    nn::GPTConfig config;
    std::int64_t B;
    std::unique_ptr<nn::GPT<float>> model;
    std::unique_ptr<optim::AdamW<float>> opt;
    TensorI x, y;

    TrainSetup(const nn::GPTConfig& c, std::int64_t batch) : config(c), B(batch) {
        Rng rng(1);
        model = std::make_unique<nn::GPT<float>>(c, rng);
        opt = std::make_unique<optim::AdamW<float>>(model->named_parameters(),
                                                    optim::AdamWConfig{.weight_decay = 0.1});
        x = TensorI({B, c.block_size});
        y = TensorI({B, c.block_size});
        for (auto& v : x.values())
            v = std::int32_t(rng.below(std::uint64_t(c.vocab_size)));
        for (auto& v : y.values())
            v = std::int32_t(rng.below(std::uint64_t(c.vocab_size)));
    }
    /// One optimizer step: zero the gradients, forward, backward, clip to norm 1, AdamW.
    float step() {
        model->zero_grad();
        const VarF loss = model->loss(x, y);
        backward(loss);
        optim::clip_grad_norm(model->parameters(), 1.0);
        opt->step(1e-4);
        return loss.item();
    }
    /// PERF.md's count: 6 N + 12 L C T flops per token (N parameters).
    double flops_per_token() const {
        const double N = double(model->num_parameters());
        return 6.0 * N + 12.0 * double(config.n_layer * config.n_embd * config.block_size);
    }
};

} // namespace ouro::bench
