// io/debug_state.hpp: write_debug_state names every activation, its gradient and every
// parameter's, with the model's own numbers (the step that fills them is train's, see
// tests/examples/test_debug_dump.cpp).
#include "io/debug_state_checks.hpp"
#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/io/debug_state.hpp>

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using namespace ouro;
using namespace ouro::io;

TEST_SUITE("io") {
    TEST_CASE_FIXTURE(ouro::testing::DebugDumpFixture, "debug-state dump") {
        // The train program's step (examples/train/debug_dump.cpp).
        model.zero_grad();
        std::vector<std::pair<std::string, Var<double>>> activations;
        const Var<double> loss_var = model.loss(idx, idx, {.activations = &activations});
        backward(loss_var, BackwardOptions{.retain_graph = true});
        const double loss = loss_var.item();
        write_debug_state<double>(at("dump.safetensors"), model, idx, idx, activations, loss);
        ouro::testing::check_debug_state_names(at("dump.safetensors"), model, loss);
    }
}
