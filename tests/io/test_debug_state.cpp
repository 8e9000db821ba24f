// io/debug_state.hpp: write_debug_state names every activation, its gradient and every
// parameter's, with the model's own numbers (the step that fills them is train's, see
// tests/examples/test_debug_dump.cpp).
#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/io/debug_state.hpp>
#include <ouro/io/safetensors.hpp>

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using namespace ouro;
using namespace ouro::io;

TEST_SUITE("io") {
    TEST_CASE("debug-state dump") {
        ouro::testing::TempDir dir;
        auto at = [&](const std::string& f) { return (dir / f).string(); };
        Rng rng(4);
        nn::GPT<double> model(ouro::testing::tiny_gpt(), rng);
        const TensorI idx = ouro::testing::token_batch(rng, 13);
        // The train program's step (examples/train/debug_dump.cpp).
        model.zero_grad();
        std::vector<std::pair<std::string, Var<double>>> activations;
        const Var<double> loss_var = model.loss(idx, idx, {.activations = &activations});
        backward(loss_var, BackwardOptions{.retain_graph = true});
        const double loss = loss_var.item();
        write_debug_state<double>(at("dump.safetensors"), model, idx, idx, activations, loss);
        const Safetensors f = Safetensors::read(at("dump.safetensors"));
        CHECK(std::stod(f.metadata("loss")) == doctest::Approx(loss));
        CHECK(f.entry("act.transformer.h.1.attn.c_attn").shape == Shape{2, 8, 24});
        CHECK(f.entry("act.lm_head").shape == Shape{2, 8, 13});
        CHECK(f.contains("grad.transformer.h.0.mlp.gelu"));
        CHECK(f.contains("grad.param.transformer.wte.weight"));
        // Gradients in the file are the model's: the last layer norm's weight gradient.
        ouro::testing::check_close(f.get_double("grad.param.transformer.ln_f.weight"),
                                   model.parameter("transformer.ln_f.weight").grad(), 0.0, 0.0);
        // Every activation has its gradient (the loss's own is 1).
        for (const std::string& name : f.names())
            if (name.rfind("act.", 0) == 0)
                CHECK_MESSAGE(f.contains("grad." + name.substr(4)), name);
        CHECK(f.get_double("grad.loss").item() == 1.0);
    }
}
