#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/core/atomic_file.hpp>
#include <ouro/io/checkpoint.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace ouro;
using namespace ouro::io;
using ouro::testing::bitwise_equal;

namespace fs = std::filesystem;

TEST_SUITE("io") {
    TEST_CASE("checkpoint") {
        ouro::testing::TempDir dir;
        auto at = [&](const std::string& f) { return (dir / f).string(); };
        Rng rng(5);
        nn::GPT<float> model(ouro::testing::tiny_gpt(), rng);
        optim::AdamW<float> opt(model.named_parameters(), {.weight_decay = 0.1});
        const TensorI idx = ouro::testing::token_batch(rng, 13);
        backward(model.loss(idx, idx));
        opt.step(1e-2);

        SUBCASE("round trip of weights, optimizer state and training state") {
            const TrainingState state{
                .step = 7,
                .rng_state = 0xfedcba9876543210ULL,
                .data_position = R"({"offset":12})",
                .tokenizer = "bpe-512",
                .metadata = {{"train_config", R"({"lr":0.01})"}, {"notes", "second run"}}};
            save_checkpoint(at("ck.safetensors"), model, &opt, state);
            const Checkpoint ck = Checkpoint::read(at("ck.safetensors"));
            CHECK(ck.config.n_embd == 8);
            CHECK(ck.state.step == 7);
            CHECK(ck.state.rng_state == 0xfedcba9876543210ULL);
            CHECK(ck.state.data_position == R"({"offset":12})");
            CHECK(ck.state.tokenizer == "bpe-512");
            CHECK(ck.state.metadata == state.metadata);
            CHECK(ck.state.metadata_value("train_config") == R"({"lr":0.01})");
            CHECK(ck.state.metadata_value("absent") == "");
            CHECK(ck.has_optimizer);
            const auto loaded = ck.build_model<float>();
            for (auto& [name, p] : model.named_parameters())
                CHECK(bitwise_equal(loaded->parameter(name).value(), p.value()));
            optim::AdamW<float> opt2(loaded->named_parameters(), {.weight_decay = 0.1});
            ck.load_optimizer(opt2);
            CHECK(opt2.steps() == 1);
            CHECK(bitwise_equal(opt2.exp_avg_sq(3), opt.exp_avg_sq(3)));
        }
        SUBCASE("metadata cannot take the format's own keys") {
            for (const std::string_view key : checkpoint_metadata_keys()) {
                TrainingState state;
                state.metadata[std::string(key)] = "x";
                CHECK_THROWS_WITH_AS(save_checkpoint(at("own.safetensors"), model, &opt, state),
                                     ("save_checkpoint: metadata key '" + std::string(key) +
                                      "' is one of the checkpoint format's own keys")
                                         .c_str(),
                                     ConfigError);
            }
            CHECK(checkpoint_metadata_keys().size() == 9);
            CHECK_FALSE(std::filesystem::exists(at("own.safetensors")));
        }
        SUBCASE("16-bit weights round to within half precision") {
            save_checkpoint(at("half.safetensors"), model, nullptr, {}, DType::F16);
            const Checkpoint ck = Checkpoint::read(at("half.safetensors"));
            CHECK_FALSE(ck.has_optimizer);
            const auto loaded = ck.build_model<float>();
            const TensorF& a = loaded->parameter("transformer.wte.weight").value();
            const TensorF& b = model.parameter("transformer.wte.weight").value();
            ouro::testing::check_close(a, b, 1e-4, 1e-3);
            ouro::testing::check_throws_message<FormatError>(
                [&] { ck.load_optimizer(opt); },
                at("half.safetensors") + ": checkpoint has no optimizer state (weights only)");
        }
        SUBCASE("corrupted, truncated and foreign files are refused with the file's name") {
            save_checkpoint(at("ck.safetensors"), model, &opt, {});
            const std::string good = read_file(at("ck.safetensors"), "test");

            ouro::testing::write_bytes(at("cut.safetensors"), good.substr(0, good.size() / 2));
            CHECK_THROWS_AS(Checkpoint::read(at("cut.safetensors")), FormatError);
            try {
                Checkpoint::read(at("cut.safetensors"));
            } catch (const FormatError& e) {
                CHECK(std::string(e.what()).rfind(at("cut.safetensors: tensor '"), 0) == 0);
                CHECK(std::string(e.what()).find("run past the end of the data") !=
                      std::string::npos);
            }

            std::string garbled = good;
            garbled[10] = '#'; // inside the JSON header
            ouro::testing::write_bytes(at("garbled.safetensors"), garbled);
            CHECK_THROWS_AS(Checkpoint::read(at("garbled.safetensors")), FormatError);

            SafetensorsWriter plain;
            plain.add("x", TensorF({1}));
            plain.write(at("plain.safetensors"));
            ouro::testing::check_throws_message<FormatError>(
                [&] { Checkpoint::read(at("plain.safetensors")); },
                at("plain.safetensors") +
                    ": not an ouro checkpoint (metadata 'format' is missing)");

            SafetensorsWriter bad_config;
            bad_config.set_metadata("format", "ouro-checkpoint");
            bad_config.set_metadata("format_version", "1");
            bad_config.set_metadata(
                "config", R"({"vocab_size":13,"block_size":8,"n_layer":2,"n_head":3,"n_embd":8})");
            bad_config.write(at("bad.safetensors"));
            ouro::testing::check_throws_message<FormatError>(
                [&] { Checkpoint::read(at("bad.safetensors")); },
                at("bad.safetensors") + ": GPTConfig: n_embd = 8 is not a multiple of n_head = 3");
            CHECK_THROWS_AS(Checkpoint::read(at("missing.safetensors")), IoError);
        }
        SUBCASE("a crash during a write leaves the previous file intact") {
            TrainingState one;
            one.step = 1;
            save_checkpoint(at("ck.safetensors"), model, &opt, one);
            // The writer dies after half the bytes (an exception stands in for the crash).
            const std::string bytes = read_file(at("ck.safetensors"), "test");
            CHECK_THROWS_AS(
                [&] {
                    AtomicFile f(at("ck.safetensors"));
                    f.write(bytes.substr(0, bytes.size() / 2));
                    throw IoError("disk full (simulated)");
                }(),
                IoError);
            CHECK(Checkpoint::read(at("ck.safetensors")).state.step == 1);
            int files = 0;
            for (auto& e : fs::directory_iterator(dir.path()))
                files += e.is_regular_file();
            CHECK(files == 1);
        }
    }

    TEST_CASE("checkpoint: files written before the metadata map") {
        // The bundled model was written when the settings were a field of their own
        // (TrainingState::train_config); its "train_config" key reads back as an entry.
        const Checkpoint ck = Checkpoint::read(OURO_TEST_BUNDLED_MODEL);
        CHECK(ck.state.step == 1200);
        CHECK(ck.state.tokenizer.rfind("bpe:4096:", 0) == 0);
        REQUIRE(ck.state.metadata.size() == 1);
        const std::string settings = ck.state.metadata_value("train_config");
        CHECK(settings.rfind(R"({"data_dir":"data4096",)", 0) == 0);
        const auto model = ck.build_model<float>();
        CHECK(model->config.n_layer == 4);
        CHECK(model->config.n_embd == 192);
    }
}
