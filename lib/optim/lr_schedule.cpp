// Warmup + cosine learning-rate schedule.
#include "ouro/optim/lr_schedule.hpp"

#include "ouro/core/error.hpp"

#include <cmath>
#include <numbers>
#include <string>

namespace ouro::optim {

double WarmupCosine::at(std::int64_t step) const {
    if (step < warmup_steps)
        return max_lr * double(step + 1) / double(warmup_steps + 1);
    if (step > decay_steps || decay_steps == warmup_steps)
        return min_lr;
    const double r = double(step - warmup_steps) / double(decay_steps - warmup_steps);
    return min_lr + 0.5 * (1.0 + std::cos(std::numbers::pi * r)) * (max_lr - min_lr);
}

void WarmupCosine::validate() const {
    if (!(min_lr >= 0.0) || !(max_lr >= min_lr))
        throw ConfigError("WarmupCosine: need 0 <= min_lr <= max_lr, got min_lr " +
                          std::to_string(min_lr) + ", max_lr " + std::to_string(max_lr));
    if (warmup_steps < 0 || decay_steps < warmup_steps)
        throw ConfigError("WarmupCosine: need 0 <= warmup_steps <= decay_steps, got " +
                          std::to_string(warmup_steps) + " and " + std::to_string(decay_steps));
}

} // namespace ouro::optim
