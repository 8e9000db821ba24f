// Parameter initialisers. Each draws from an explicit Rng, in element order, so a seed fixes the
// whole model.
#pragma once

#include "ouro/core/rng.hpp"
#include "ouro/core/tensor.hpp"

#include <algorithm>

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
        if (rng_)
            return nn::normal<T>(shape, std, *rng_);
        // Zeros written on the calling thread: a loader builds a model once, and a team of
        // threads for its largest weights would wait at a busy core for a descheduled thread.
        Tensor<T> t = Tensor<T>::uninitialized(shape);
        std::fill(t.values().begin(), t.values().end(), T(0));
        return t;
    }

private:
    Init() = default;
    Rng* rng_ = nullptr;
};

} // namespace ouro::nn
