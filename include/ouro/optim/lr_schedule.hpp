// Learning-rate schedule: linear warmup, then cosine decay to a floor (as nanoGPT's get_lr).
#pragma once

#include <cstdint>

namespace ouro::optim {

struct WarmupCosine {
    double max_lr = 6e-4;
    double min_lr = 6e-5;
    std::int64_t warmup_steps = 100; ///< steps 0 .. warmup-1 rise linearly to max_lr
    std::int64_t decay_steps = 5000; ///< the cosine reaches min_lr here and stays

    /// The learning rate for (0-based) step `step`:
    ///   step < warmup:       max_lr * (step + 1) / (warmup + 1)
    ///   step > decay_steps:  min_lr
    ///   otherwise:           min_lr + 0.5 (1 + cos(pi r)) (max_lr - min_lr),
    ///                        r = (step - warmup) / (decay_steps - warmup)
    double at(std::int64_t step) const;
    /// Throws ConfigError when min_lr > max_lr, a rate is negative or decay_steps < warmup.
    void validate() const;
};

} // namespace ouro::optim
