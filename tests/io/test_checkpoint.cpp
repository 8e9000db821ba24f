#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/core/atomic_file.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/io/debug_state.hpp>
#include <ouro/io/gpt2_formats.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace ouro;
using namespace ouro::io;
using ouro::testing::bitwise_equal;

namespace {

namespace fs = std::filesystem;

nn::GPTConfig tiny() {
    nn::GPTConfig c;
    c.vocab_size = 13;
    c.block_size = 8;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 8;
    return c;
}

TensorI batch(Rng& rng, std::int64_t V) {
    TensorI idx({2, 8});
    for (auto& v : idx.values())
        v = std::int32_t(rng.below(std::uint64_t(V)));
    return idx;
}

} // namespace

TEST_SUITE("io") {
    TEST_CASE("checkpoint") {
        ouro::testing::TempDir dir;
        auto at = [&](const std::string& f) { return (dir / f).string(); };
        Rng rng(5);
        nn::GPT<float> model(tiny(), rng);
        optim::AdamW<float> opt(model.named_parameters(), {.weight_decay = 0.1});
        const TensorI idx = batch(rng, 13);
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

    TEST_CASE("GPT-2 formats") {
        ouro::testing::TempDir dir;
        auto at = [&](const std::string& f) { return (dir / f).string(); };
        Rng rng(8);
        nn::GPT<float> model(tiny(), rng);
        const TensorI idx = batch(rng, 13);
        const TensorF logits = model.forward(idx).value();

        SUBCASE("Hugging Face export and import give the same logits") {
            export_hf_gpt2(at("hf"), model);
            const Safetensors f = Safetensors::read(at("hf/model.safetensors"));
            CHECK(f.metadata("format") == "pt");
            // save_pretrained's keys for GPT2LMHeadModel; Conv1D weights are (in, out).
            CHECK(f.entry("transformer.h.0.attn.c_attn.weight").shape == Shape{8, 24});
            CHECK(f.contains("transformer.wte.weight"));
            CHECK_FALSE(f.contains("lm_head.weight")); // tied
            CHECK(fs::exists(dir.path() / "hf/config.json"));
            const auto back = import_hf_gpt2(at("hf/model.safetensors"), 2);
            CHECK(bitwise_equal(back->forward(idx).value(), logits));
        }
        SUBCASE("an llm.c file written by hand loads and gives the same logits") {
            // Written here from llm.c's documented layout, independently of export_llmc.
            const nn::GPTConfig c = tiny();
            const std::int64_t C = c.n_embd, L = c.n_layer, V = c.vocab_size, Vp = 128;
            std::array<std::int32_t, 256> header{};
            header[0] = 20240326;
            header[1] = 3;
            header[2] = 8;
            header[3] = std::int32_t(V);
            header[4] = std::int32_t(L);
            header[5] = 2;
            header[6] = std::int32_t(C);
            header[7] = std::int32_t(Vp);
            std::string bytes(reinterpret_cast<const char*>(header.data()), 1024);
            auto put = [&](const std::string& name) {
                const TensorF& t = model.parameter(name).value();
                bytes.append(reinterpret_cast<const char*>(t.data()), std::size_t(t.numel()) * 4);
            };
            put("transformer.wte.weight");
            bytes.append(std::size_t((Vp - V) * C) * 4, '\0');
            put("transformer.wpe.weight");
            for (const char* s :
                 {"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                  "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
                  "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"})
                for (int l = 0; l < L; ++l)
                    put("transformer.h." + std::to_string(l) + "." + s);
            put("transformer.ln_f.weight");
            put("transformer.ln_f.bias");
            ouro::testing::write_bytes(at("model.bin"), bytes);

            const auto loaded = import_llmc(at("model.bin"));
            CHECK(loaded->config.vocab_size == V);
            CHECK(bitwise_equal(loaded->forward(idx).value(), logits));
            // export_llmc writes the same bytes.
            export_llmc(at("exported.bin"), model);
            CHECK(read_file(at("exported.bin"), "test") == bytes);

            std::string bad = bytes;
            bad[0] = 1;
            ouro::testing::write_bytes(at("magic.bin"), bad);
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_llmc(at("magic.bin")); },
                at("magic.bin") + ": bad magic number 20240129 (llm.c checkpoints start with "
                                  "20240326)");
            ouro::testing::write_bytes(at("short.bin"), bytes.substr(0, bytes.size() - 4));
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_llmc(at("short.bin")); },
                at("short.bin") + ": file is " + std::to_string(bytes.size() - 4) +
                    " bytes, but its header describes " + std::to_string(bytes.size()) + " (" +
                    std::to_string((bytes.size() - 1024) / 4) + " parameters)");
        }
        SUBCASE("only GPT-2 shaped models can be exported") {
            nn::GPTConfig c = tiny();
            c.position = nn::PositionEncoding::rope;
            nn::GPT<float> rope(c, rng);
            CHECK_THROWS_WITH_AS(
                export_llmc(at("x.bin"), rope),
                "export_llmc: only GPT-2 shaped models (learned positions, biases, LayerNorm, "
                "GELU over 4 C, n_kv_head = n_head, tied head) can be written in this format; "
                "this one has position 'rope', bias on, norm 'layernorm', mlp 'gelu' over 32, 2 "
                "key/value heads of 2, head tied",
                ConfigError);
        }
    }
}

TEST_SUITE("io") {
    TEST_CASE("debug-state dump") {
        ouro::testing::TempDir dir;
        auto at = [&](const std::string& f) { return (dir / f).string(); };
        Rng rng(4);
        nn::GPT<double> model(tiny(), rng);
        const TensorI idx = batch(rng, 13);
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
