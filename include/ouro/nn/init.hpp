// Parameter initialisers. Each draws from an explicit Rng, in element order, so a seed fixes the
// whole model.
#pragma once

#include "ouro/core/rng.hpp"
#include "ouro/core/tensor.hpp"

namespace ouro::nn {

/// A tensor of the given shape with N(0, std^2) entries.
template <typename T> Tensor<T> normal(const Shape& shape, double std, Rng& rng) {
    Tensor<T> t(shape);
    for (T& v : t.values())
        v = T(std * rng.normal());
    return t;
}

} // namespace ouro::nn
