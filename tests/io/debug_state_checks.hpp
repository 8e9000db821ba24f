// What a debug-state dump must hold, shared by io/debug_state.hpp's test (write_debug_state) and
// the test of train's --dump-debug-state step (tests/examples/test_debug_dump.cpp).
#pragma once

#include "test_util.hpp"

#include <ouro/io/safetensors.hpp>
#include <ouro/nn/gpt.hpp>

#include <doctest/doctest.h>

#include <string>

namespace ouro::testing {

/// The tiny GPT (double) and the (2, 8) token batch that both tests dump, and a temporary folder.
struct DebugDumpFixture {
    TempDir dir;
    Rng rng{4};
    nn::GPT<double> model{tiny_gpt(), rng};
    const TensorI idx = token_batch(rng, 13);

    std::string at(const std::string& file) const { return (dir / file).string(); }
};

/// The dump at `path` records `loss`, names every activation, its gradient and every parameter's
/// gradient, and its gradients are the model's.
inline void check_debug_state_names(const std::string& path, const nn::GPT<double>& model,
                                    double loss) {
    const io::Safetensors f = io::Safetensors::read(path);
    CHECK(std::stod(f.metadata("loss")) == doctest::Approx(loss));
    CHECK(f.entry("act.transformer.h.1.attn.c_attn").shape == Shape{2, 8, 24});
    CHECK(f.entry("act.lm_head").shape == Shape{2, 8, 13});
    CHECK(f.contains("grad.transformer.h.0.mlp.gelu"));
    CHECK(f.contains("grad.param.transformer.wte.weight"));
    // Gradients in the file are the model's: the last layer norm's weight gradient.
    check_close(f.get_double("grad.param.transformer.ln_f.weight"),
                model.parameter("transformer.ln_f.weight").grad(), 0.0, 0.0);
    // Every activation has its gradient (the loss's own is 1).
    for (const std::string& name : f.names())
        if (name.rfind("act.", 0) == 0)
            CHECK_MESSAGE(f.contains("grad." + name.substr(4)), name);
    CHECK(f.get_double("grad.loss").item() == 1.0);
}

} // namespace ouro::testing
