// train's --dump-debug-state step (examples/train/debug_dump.hpp): the dump names every
// activation, its gradient and every parameter's, holds the model's own numbers, zeroes the
// gradients first, and passes on the errors of GPT::loss and of writing.
#include "io/debug_state_checks.hpp"
#include "test_util.hpp"

#include "train/debug_dump.hpp"

#include <ouro/io/safetensors.hpp>

#include <doctest/doctest.h>

#include <filesystem>

using namespace ouro;
using namespace ouro::io;
using ouro::testing::bitwise_equal;
using ouro::train::dump_debug_state;

namespace fs = std::filesystem;

TEST_SUITE("examples") {
    TEST_CASE_FIXTURE(ouro::testing::DebugDumpFixture, "dump_debug_state") {
        SUBCASE("names every activation, its gradient and every parameter's") {
            const double loss = dump_debug_state(at("dump.safetensors"), model, idx, idx);
            ouro::testing::check_debug_state_names(at("dump.safetensors"), model, loss);
        }
        SUBCASE("forward matches reference: the file holds the model's own numbers") {
            dump_debug_state(at("dump.safetensors"), model, idx, idx);
            const Safetensors f = Safetensors::read(at("dump.safetensors"));
            ouro::testing::check_close(f.get_double("act.lm_head"), model.forward(idx).value(), 0.0,
                                       0.0);
            CHECK(f.get_double("act.loss").item() == model.loss(idx, idx).item());
            for (auto& [name, p] : model.named_parameters())
                ouro::testing::check_close(f.get_double("param." + name), p.value(), 0.0, 0.0);
            const TensorI stored = f.get_int("input.idx");
            CHECK(bitwise_equal(stored, idx));
            CHECK(f.metadata("config").find("\"n_layer\":2") != std::string::npos);
        }
        SUBCASE("gradients are this step's: zeroed first, not accumulated") {
            const double first = dump_debug_state(at("a.safetensors"), model, idx, idx);
            const TensorD g1 = model.parameter("transformer.wte.weight").grad();
            const double second = dump_debug_state(at("b.safetensors"), model, idx, idx);
            CHECK(first == second);
            ouro::testing::check_close(model.parameter("transformer.wte.weight").grad(), g1, 0.0,
                                       0.0);
            CHECK(bitwise_equal(Safetensors::read(at("a.safetensors")).get_double("grad.lm_head"),
                                Safetensors::read(at("b.safetensors")).get_double("grad.lm_head")));
        }
        SUBCASE("rejects what GPT::loss rejects, and a path it cannot write") {
            CHECK_THROWS_WITH_AS(
                dump_debug_state(at("bad.safetensors"), model, idx, TensorI({2, 7})),
                "GPT: targets must match idx: idx is (2, 8), targets are (2, 7)", ShapeError);
            CHECK_FALSE(fs::exists(dir.path() / "bad.safetensors"));
            ouro::testing::check_throws_message<IoError>(
                [&] { dump_debug_state(at("missing/dump.safetensors"), model, idx, idx); },
                "cannot create a temporary file for " + at("missing/dump.safetensors") +
                    ": No such file or directory");
        }
    }
}
