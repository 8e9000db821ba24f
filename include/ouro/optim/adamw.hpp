// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019), step for step as PyTorch's
// torch.optim.AdamW computes it, so that training matches PyTorch number for number:
//   p <- p * (1 - lr * wd)
//   m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
//   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Parameters are split into two groups by name: with weight decay (matrices of Linear layers) and
// without (biases, LayerNorm weights and embeddings, by default; the rule is configurable).
#pragma once

#include "ouro/autograd/var.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ouro::optim {

struct AdamWConfig {
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.01; ///< applied only to parameters the decay rule selects
};

/// Whether a named parameter gets weight decay. The default: tensors of rank >= 2 except
/// embeddings (names containing "wte" or "wpe"); so no decay on biases, LayerNorm and embeddings.
using DecayRule = std::function<bool(const std::string& name, const Shape& shape)>;
bool default_decay_rule(const std::string& name, const Shape& shape);

template <typename T> class AdamW {
public:
    /// Throws ConfigError for betas outside [0, 1), eps <= 0 or negative weight decay.
    AdamW(std::vector<std::pair<std::string, Var<T>>> named_parameters, const AdamWConfig& config,
          DecayRule decay_rule = default_decay_rule);

    /// One update of every parameter that has a gradient, at learning rate `lr`.
    void step(double lr);
    /// Zeroes every parameter's gradient.
    void zero_grad();

    /// Number of steps taken (PyTorch's `step` state).
    std::int64_t steps() const { return steps_; }
    void set_steps(std::int64_t steps) { steps_ = steps; }
    const AdamWConfig& config() const { return config_; }
    /// Whether parameter i is in the weight-decay group.
    bool decays(std::size_t i) const { return decay_[i]; }

    const std::vector<std::pair<std::string, Var<T>>>& parameters() const { return params_; }
    /// First and second moment of parameter i (for checkpoints).
    Tensor<T>& exp_avg(std::size_t i) { return m_[i]; }
    Tensor<T>& exp_avg_sq(std::size_t i) { return v_[i]; }
    const Tensor<T>& exp_avg(std::size_t i) const { return m_[i]; }
    const Tensor<T>& exp_avg_sq(std::size_t i) const { return v_[i]; }

private:
    std::vector<std::pair<std::string, Var<T>>> params_;
    std::vector<Tensor<T>> m_, v_;
    std::vector<bool> decay_;
    AdamWConfig config_;
    std::int64_t steps_ = 0;
};

} // namespace ouro::optim
