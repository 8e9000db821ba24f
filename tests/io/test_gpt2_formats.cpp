// io/gpt2_formats.hpp: Hugging Face GPT-2 safetensors and llm.c checkpoints (float32 and
// bfloat16), each checked against files written by hand from the format's documentation, and the
// messages for models and files they cannot hold.
#include "test_util.hpp"

#include <ouro/core/atomic_file.hpp>
#include <ouro/io/gpt2_formats.hpp>
#include <ouro/io/safetensors.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>

using namespace ouro;
using namespace ouro::io;
using ouro::testing::bitwise_equal;

namespace fs = std::filesystem;

namespace {

// An llm.c checkpoint for config c written here from llm.c's documented layout, independently of
// export_llmc: the 256-int header (version 3 is float32, 5 bfloat16; the vocabulary padded to
// Vp rows), then every parameter in llm.c's order as put(name) gives its bytes.
template <typename Put>
std::string handmade_llmc(const nn::GPTConfig& c, int version, std::int64_t Vp, Put&& put) {
    const std::int64_t C = c.n_embd, V = c.vocab_size;
    std::array<std::int32_t, 256> header{};
    const std::array<std::int64_t, 8> fields = {
        20240326, version, c.block_size, V, c.n_layer, c.n_head, C, Vp};
    std::copy(fields.begin(), fields.end(), header.begin());
    std::string bytes(reinterpret_cast<const char*>(header.data()), 1024);
    bytes += put("transformer.wte.weight");
    bytes.append(std::size_t((Vp - V) * C) * (version == 3 ? 4 : 2), '\0');
    bytes += put("transformer.wpe.weight");
    for (const char* s :
         {"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
          "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight",
          "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"})
        for (int l = 0; l < c.n_layer; ++l)
            bytes += put("transformer.h." + std::to_string(l) + "." + s);
    bytes += put("transformer.ln_f.weight");
    bytes += put("transformer.ln_f.bias");
    return bytes;
}

} // namespace

TEST_SUITE("io") {
    TEST_CASE("GPT-2 formats") {
        ouro::testing::TempDir dir;
        auto at = [&](const std::string& f) { return (dir / f).string(); };
        Rng rng(8);
        nn::GPT<float> model(ouro::testing::tiny_gpt(), rng);
        const TensorI idx = ouro::testing::token_batch(rng, 13);
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
            const nn::GPTConfig c = ouro::testing::tiny_gpt();
            const std::string bytes = handmade_llmc(c, 3, 128, [&](const std::string& name) {
                const TensorF& t = model.parameter(name).value();
                return std::string(reinterpret_cast<const char*>(t.data()),
                                   std::size_t(t.numel()) * 4);
            });
            ouro::testing::write_bytes(at("model.bin"), bytes);

            const auto loaded = import_llmc(at("model.bin"));
            CHECK(loaded->config.vocab_size == c.vocab_size);
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
            nn::GPTConfig c = ouro::testing::tiny_gpt();
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
        SUBCASE("an llm.c bfloat16 file (version 5) loads the upper halves of the floats") {
            // Written by hand: every weight's upper 16 bits, version 5. The model whose weights
            // are those bfloat16 values exactly must come back bit for bit.
            const nn::GPTConfig c = ouro::testing::tiny_gpt();
            nn::GPT<float> rounded(c, nn::Init::zeros());
            const std::string bytes = handmade_llmc(c, 5, 16, [&](const std::string& name) {
                const TensorF& t = model.parameter(name).value();
                Var<float> dst = rounded.parameter(name);
                std::string out;
                for (std::int64_t i = 0; i < t.numel(); ++i) {
                    std::uint32_t u;
                    std::memcpy(&u, &t[i], 4);
                    const auto upper = std::uint16_t(u >> 16);
                    out.append(reinterpret_cast<const char*>(&upper), 2);
                    u = std::uint32_t(upper) << 16;
                    std::memcpy(&dst.value()[i], &u, 4);
                }
                return out;
            });
            ouro::testing::write_bytes(at("bf16.bin"), bytes);
            const auto loaded = import_llmc(at("bf16.bin"));
            // (A named pair, not a structured binding: clang 14 cannot capture a binding in
            // the lambda that CHECK_MESSAGE expands to.)
            for (const auto& named : rounded.named_parameters())
                CHECK_MESSAGE(
                    bitwise_equal(loaded->parameter(named.first).value(), named.second.value()),
                    named.first);
        }
        SUBCASE("an llm.c header is checked before anything is read") {
            std::array<std::int32_t, 256> header{};
            header[0] = 20240326;
            header[1] = 4;
            ouro::testing::write_bytes(
                at("v4.bin"), std::string(reinterpret_cast<const char*>(header.data()), 1024));
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_llmc(at("v4.bin")); },
                at("v4.bin") + ": unsupported llm.c version 4 (3 = float32 and 5 = bfloat16 are "
                               "supported)");
            header[1] = 3;
            for (int i = 2; i <= 7; ++i)
                header[std::size_t(i)] = 8;
            header[6] = 0;
            ouro::testing::write_bytes(
                at("c0.bin"), std::string(reinterpret_cast<const char*>(header.data()), 1024));
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_llmc(at("c0.bin")); },
                at("c0.bin") + ": header field 6 is 0, must be positive");
            header[6] = 8;
            header[3] = 13; // V 13 > padded V 8
            ouro::testing::write_bytes(
                at("vp.bin"), std::string(reinterpret_cast<const char*>(header.data()), 1024));
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_llmc(at("vp.bin")); },
                at("vp.bin") + ": padded vocabulary 8 is smaller than the vocabulary 13");
            ouro::testing::write_bytes(at("tiny.bin"), "abc");
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_llmc(at("tiny.bin")); },
                at("tiny.bin") + ": file is 3 bytes, shorter than llm.c's 1024-byte header");
        }
        SUBCASE("a Hugging Face file without blocks, or with mismatched embeddings, is refused") {
            SafetensorsWriter w;
            w.add("wte.weight", TensorF({13, 8}));
            w.add("wpe.weight", TensorF({8, 8}));
            w.write(at("noblocks.safetensors"));
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_hf_gpt2(at("noblocks.safetensors"), 2); },
                at("noblocks.safetensors") + ": no transformer blocks (h.0.ln_1.weight)");
            SafetensorsWriter m;
            m.add("wte.weight", TensorF({13, 8}));
            m.add("wpe.weight", TensorF({8, 6}));
            m.write(at("mismatch.safetensors"));
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_hf_gpt2(at("mismatch.safetensors"), 2); },
                at("mismatch.safetensors") +
                    ": wte (13, 8) and wpe (8, 6) are not (V, C) and (T, C)");
            // The head count is the caller's; one that does not divide C is the file's error.
            export_hf_gpt2(at("hf3"), model);
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_hf_gpt2(at("hf3/model.safetensors"), 3); },
                at("hf3/model.safetensors") +
                    ": GPTConfig: n_embd = 8 is not a multiple of n_head = 3");
        }
        SUBCASE("export_hf_gpt2 refuses other architectures; export_llmc llm.c's other epsilons") {
            nn::GPTConfig c = ouro::testing::tiny_gpt();
            c.tied_head = false;
            c.bias = false;
            nn::GPT<float> untied(c, rng);
            CHECK_THROWS_WITH_AS(
                export_hf_gpt2(at("x"), untied),
                "export_hf_gpt2: only GPT-2 shaped models (learned positions, biases, LayerNorm, "
                "GELU over 4 C, n_kv_head = n_head, tied head) can be written in this format; "
                "this one has position 'learned', bias off, norm 'layernorm', mlp 'gelu' over 32, "
                "2 "
                "key/value heads of 2, head separate",
                ConfigError);
            CHECK_FALSE(fs::exists(dir.path() / "x" / "model.safetensors"));
            nn::GPTConfig e = ouro::testing::tiny_gpt();
            e.norm_eps = 1e-6;
            nn::GPT<float> eps(e, rng);
            CHECK_THROWS_WITH_AS(export_llmc(at("eps.bin"), eps),
                                 "export_llmc: llm.c's layer norm epsilon is 1e-5, this model's is "
                                 "0.000001",
                                 ConfigError);
            CHECK_NOTHROW(export_hf_gpt2(at("eps_hf"), eps)); // Hugging Face records its epsilon
        }
    }
}
