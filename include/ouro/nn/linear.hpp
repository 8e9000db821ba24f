// Linear: y = x W^T + b, PyTorch's nn.Linear layout (weight (out, in), bias (out)), which is also
// nanoGPT's; GPT-2's original Conv1D stores the transpose and is converted on import.
#pragma once

#include "ouro/nn/init.hpp"
#include "ouro/nn/module.hpp"
#include "ouro/ops/matmul.hpp"

namespace ouro::nn {

template <typename T> class Linear : public Module<T> {
public:
    /// weight ~ N(0, init_std^2) (zero with Init::zeros()), bias zero (registered only when
    /// `has_bias`).
    Linear(std::int64_t in_features, std::int64_t out_features, bool has_bias, double init_std,
           Init init)
        : Module<T>("Linear") {
        weight = this->register_parameter("weight",
                                          init.normal<T>({out_features, in_features}, init_std));
        if (has_bias)
            bias = this->register_parameter("bias", Tensor<T>({out_features}));
    }
    /// x (..., in) -> (..., out).
    Var<T> forward(const Var<T>& x) const { return ops::linear(x, weight, bias); }

    Var<T> weight;
    Var<T> bias; ///< undefined when the layer has no bias
};

} // namespace ouro::nn
