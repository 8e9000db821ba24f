// Embedding: a (V, C) table of vectors looked up by integer id.
#pragma once

#include "ouro/nn/init.hpp"
#include "ouro/nn/module.hpp"
#include "ouro/ops/embedding.hpp"

namespace ouro::nn {

template <typename T> class Embedding : public Module<T> {
public:
    Embedding(std::int64_t num_embeddings, std::int64_t dim, double init_std, Init init)
        : Module<T>("Embedding") {
        weight =
            this->register_parameter("weight", init.normal<T>({num_embeddings, dim}, init_std));
    }
    /// ids (...) -> (..., C). Throws ConfigError for an id outside [0, V).
    Var<T> forward(const TensorI& ids) const { return ops::embedding(ids, weight); }

    Var<T> weight;
};

} // namespace ouro::nn
