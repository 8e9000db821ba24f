// Parameter initialisers. Each draws from an explicit Rng, in element order, so a seed fixes the
// whole model.
#pragma once

#include "ouro/core/rng.hpp"
#include "ouro/core/tensor.hpp"

namespace ouro::nn {

/// A tensor of the given shape with N(0, std^2) entries.
template <typename T> Tensor<T> normal(const Shape& shape, double std, Rng& rng) {
    Tensor<T> t = Tensor<T>::uninitialized(shape); // every element is drawn below
    for (T& v : t.values())
        v = T(std * rng.normal());
    return t;
}

/// Where a new module's weights come from: N(0, std^2) draws from an Rng (training from scratch;
/// an Rng converts to an Init, so `Linear<T>(..., rng)` draws), or zeros for a loader that
/// overwrites every weight, which then spends no time drawing millions of normals to throw away.
/// Modules hand their Init to their children, so the draws keep their order.
class Init {
public:
    Init(Rng& rng) : rng_(&rng) {} // NOLINT(google-explicit-constructor): Rng& is the common case
    static Init zeros() { return Init(); }

    template <typename T> Tensor<T> normal(const Shape& shape, double std) const {
        return rng_ ? nn::normal<T>(shape, std, *rng_) : Tensor<T>(shape);
    }

private:
    Init() = default;
    Rng* rng_ = nullptr;
};

} // namespace ouro::nn
