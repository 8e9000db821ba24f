// LayerNorm over the last dimension (Ba et al. 2016), weight one and bias zero at start.
#pragma once

#include "ouro/nn/module.hpp"
#include "ouro/ops/layernorm.hpp"

namespace ouro::nn {

template <typename T> class LayerNorm : public Module<T> {
public:
    LayerNorm(std::int64_t channels, bool has_bias, double epsilon = 1e-5)
        : Module<T>("LayerNorm"), eps(epsilon) {
        weight = this->register_parameter("weight", Tensor<T>({channels}, T(1)));
        if (has_bias)
            bias = this->register_parameter("bias", Tensor<T>({channels}));
    }
    /// x (..., C) -> (..., C).
    Var<T> forward(const Var<T>& x) const { return ops::layernorm(x, weight, bias, eps); }

    Var<T> weight;
    Var<T> bias; ///< undefined when the layer has no bias
    double eps;
};

} // namespace ouro::nn
