// ForwardContext: what a forward pass may need besides its input: the Rng that dropout draws from,
// and an optional log that collects every named activation (for the debug-state dump and for
// people who compare their own numerics with ouro's).
#pragma once

#include "ouro/autograd/var.hpp"
#include "ouro/core/rng.hpp"

#include <string>
#include <utility>
#include <vector>

namespace ouro::nn {

template <typename T> struct ForwardContext {
    /// Dropout's random numbers; required when a module trains with dropout > 0.
    Rng* rng = nullptr;
    /// When set, modules append (name, activation) pairs: names are module paths with the
    /// output's role, e.g. "transformer.h.0.attn.c_attn" or "transformer.h.0.attn.q".
    std::vector<std::pair<std::string, Var<T>>>* activations = nullptr;

    void record(const std::string& name, const Var<T>& v) const {
        if (activations)
            activations->emplace_back(name, v);
    }
};

} // namespace ouro::nn
