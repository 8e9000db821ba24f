// Norm: the normalisation of a block's input and of the final hidden state, over the last
// dimension. LayerNorm (Ba et al. 2016; GPT-2) centres and scales, with a weight and an optional
// bias; RMSNorm (Zhang & Sennrich 2019; Llama) only scales by the root mean square, with a weight.
// Weight one and bias zero at start. The module's type name says which ("LayerNorm", "RMSNorm").
#pragma once

#include "ouro/nn/gpt_config.hpp"
#include "ouro/nn/module.hpp"
#include "ouro/ops/layernorm.hpp"
#include "ouro/ops/rmsnorm.hpp"

namespace ouro::nn {

template <typename T> class Norm : public Module<T> {
public:
    /// With NormKind::rmsnorm there is never a bias.
    Norm(std::int64_t channels, NormKind norm_kind, bool has_bias, double epsilon = 1e-5)
        : Module<T>(norm_kind == NormKind::rmsnorm ? "RMSNorm" : "LayerNorm"), kind(norm_kind),
          eps(epsilon) {
        weight = this->register_parameter("weight", Tensor<T>({channels}, T(1)));
        if (has_bias && kind == NormKind::layernorm)
            bias = this->register_parameter("bias", Tensor<T>({channels}));
    }
    /// x (..., C) -> (..., C).
    Var<T> forward(const Var<T>& x) const {
        return kind == NormKind::rmsnorm ? ops::rmsnorm(x, weight, eps)
                                         : ops::layernorm(x, weight, bias, eps);
    }

    NormKind kind;
    Var<T> weight;
    Var<T> bias; ///< undefined without a bias (always for RMSNorm)
    double eps;
};

} // namespace ouro::nn
