// llama2.c model files: round trips of both float layouts, the int8 layout written by hand, the
// real stories260K and BabyLlama files, format detection and the errors of bad headers.
#include "test_util.hpp"

#include <ouro/io/llama2c.hpp>
#include <ouro/io/model_bundle.hpp>
#include <ouro/io/safetensors.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

using namespace ouro;
using namespace ouro::io;
using ouro::testing::bitwise_equal;

namespace {

namespace fs = std::filesystem;

std::unique_ptr<nn::GPT<float>> tiny_llama(bool tied, std::uint64_t seed) {
    nn::GPTConfig c = nn::GPTConfig::llama(11, 8, 2, 4, 2, 16, 8);
    c.tied_head = tied;
    Rng rng(seed);
    return std::make_unique<nn::GPT<float>>(c, rng);
}

void write_bytes(const fs::path& p, const std::vector<char>& bytes) {
    std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

template <typename V> void put(std::vector<char>& out, V v) {
    const char* b = reinterpret_cast<const char*>(&v);
    out.insert(out.end(), b, b + sizeof(V));
}

} // namespace

TEST_SUITE("io") {
    TEST_CASE("llama2.c models") {
        ouro::testing::TempDir dir;
        SUBCASE("legacy and version 1 round trips keep every weight, tied or not") {
            for (const bool tied : {true, false})
                for (const Llama2cFormat f : {Llama2cFormat::legacy, Llama2cFormat::version1}) {
                    CAPTURE(tied);
                    CAPTURE(std::string(to_string(f)));
                    const auto model = tiny_llama(tied, 3);
                    const fs::path p = dir / "m.bin";
                    export_llama2c(*model, p, f);
                    // Sizes: the fields fix them exactly (legacy adds the RoPE tables).
                    const std::int64_t D = 16, KV = 8, H = 48, L = 2, V = 11, T = 8, HS = 4;
                    const std::int64_t matrices =
                        V * D * (tied ? 1 : 2) + L * (2 * D * D + 2 * KV * D + 3 * H * D);
                    const std::int64_t norms = (2 * L + 1) * D;
                    const std::int64_t expected = f == Llama2cFormat::legacy
                                                      ? 28 + 4 * (matrices + norms + T * HS)
                                                      : 256 + 4 * (matrices + norms);
                    CHECK(std::int64_t(fs::file_size(p)) == expected);
                    CHECK(is_llama2c_model(p));
                    CHECK(detect_model_format(p) == ModelFormat::llama2c);
                    const Llama2cModel back = import_llama2c(p);
                    CHECK(back.format == f);
                    CHECK(back.model->config.tied_head == tied);
                    CHECK(back.model->config.kv_heads() == 2);
                    CHECK(back.model->config.hidden_size() == 48);
                    for (auto& [name, param] : model->named_parameters())
                        CHECK(bitwise_equal(back.model->parameter(name).value(), param.value()));
                }
        }
        SUBCASE("version 2: int8 groups are dequantised with their scales") {
            const auto model = tiny_llama(true, 4);
            const fs::path p1 = dir / "v1.bin";
            export_llama2c(*model, p1, Llama2cFormat::version1);
            // A version 2 file by export.py's layout: header, norms, all int8 values, all scales.
            // Every matrix value is q x scale with q = (i % 255) - 127 and scale 1/64 per group of
            // 8 (so the float values are exact).
            const std::int64_t D = 16, KV = 8, H = 48, L = 2, V = 11, group = 8;
            std::vector<char> b;
            put(b, std::uint32_t(0x616b3432));
            put(b, std::int32_t(2));
            for (const std::int64_t v :
                 {D, H, L, std::int64_t(4), std::int64_t(2), V, std::int64_t(8)})
                put(b, std::int32_t(v));
            b.push_back(1); // shared classifier
            put(b, std::int32_t(group));
            b.resize(256, 0);
            for (std::int64_t i = 0; i < (2 * L + 1) * D; ++i)
                put(b, float(1.0f + 0.25f * float(i % 4)));
            std::vector<std::int64_t> sizes{V * D};
            for (const std::int64_t n : {D * D, KV * D, KV * D, D * D, H * D, D * H, H * D})
                for (std::int64_t l = 0; l < L; ++l)
                    sizes.push_back(n);
            std::int64_t total = 0;
            for (const std::int64_t n : sizes) {
                for (std::int64_t i = 0; i < n; ++i)
                    b.push_back(char(std::int8_t(i % 255 - 127)));
                total += n;
            }
            for (std::int64_t i = 0; i < total / group; ++i)
                put(b, 1.0f / 64.0f);
            const fs::path p2 = dir / "v2.bin";
            write_bytes(p2, b);
            const Llama2cModel m = import_llama2c(p2);
            CHECK(m.format == Llama2cFormat::version2);
            const TensorF& wte = m.model->wte->weight.value();
            CHECK(wte[0] == -127.0f / 64.0f);
            CHECK(wte[130] == float(130 - 127) / 64.0f);
            // wk of layer 1 is rows D + 0 .. D + KV of its c_attn: its first value has i = 0.
            const TensorF& qkv1 = m.model->h[1]->attn->c_attn->weight.value();
            CHECK(qkv1[D * D] == -127.0f / 64.0f);
            CHECK(m.model->h[0]->ln_2->weight.value()[1] == 1.25f);
        }
        SUBCASE("the real stories260K and BabyLlama load") {
            const fs::path s260 = ouro::testing::shared_data("tinyllamas/stories260K.bin");
            const fs::path baby =
                ouro::testing::shared_data("tinyllamas/babyllama/model5000_tok105.bin");
            if (s260.empty() || baby.empty()) {
                MESSAGE("skipped: the tinyllamas models are not under the shared data folder");
                return;
            }
            const Llama2cModel m = import_llama2c(s260);
            const nn::GPTConfig& c = m.model->config;
            CHECK(m.format == Llama2cFormat::legacy);
            CHECK(c.n_embd == 64);
            CHECK(c.n_layer == 5);
            CHECK(c.n_head == 8);
            CHECK(c.kv_heads() == 4);
            CHECK(c.hidden_size() == 172);
            CHECK(c.vocab_size == 512);
            CHECK(c.block_size == 512);
            const Llama2cModel b = import_llama2c(baby);
            CHECK(b.model->config.vocab_size == 105);
            CHECK(b.model->config.n_embd == 128);
            CHECK(b.model->config.hidden_size() == 352);
            // Writing it back in the legacy layout gives run.c's file byte for byte.
            const fs::path again = dir / "again.bin";
            export_llama2c(*m.model, again, Llama2cFormat::legacy);
            std::ifstream x(s260, std::ios::binary), y(again, std::ios::binary);
            const std::string a((std::istreambuf_iterator<char>(x)), {}),
                bb((std::istreambuf_iterator<char>(y)), {});
            CHECK(a.size() == bb.size());
            // The RoPE tables are recomputed (run.c never reads them); everything else is equal.
            CHECK(c.tied_head);
            const std::size_t tables = 28 + 4 * std::size_t(m.model->num_parameters());
            CHECK(std::memcmp(a.data(), bb.data(), std::min(tables, a.size())) == 0);
        }
        SUBCASE("bad files: errors name the file and the field") {
            const fs::path p = dir / "bad.bin";
            std::vector<char> b;
            for (const std::int32_t v : {64, 172, 5, 8, 3, 512, 512})
                put(b, v);
            b.resize(1000, 0);
            write_bytes(p, b);
            CHECK_FALSE(is_llama2c_model(p));
            CHECK_THROWS_WITH_AS(import_llama2c(p),
                                 (p.string() + ": not a llama2.c model: header field n_kv_heads = "
                                               "3 does not divide n_heads = 8")
                                     .c_str(),
                                 FormatError);
            b.clear();
            for (const std::int32_t v : {64, 172, 5, 8, 4, 512, 512})
                put(b, v);
            b.resize(1000, 0);
            write_bytes(p, b);
            CHECK_THROWS_WITH_AS(
                import_llama2c(p),
                (p.string() + ": not a llama2.c model: 1000 bytes, but a legacy header with dim "
                              "64, hidden_dim 172, n_layers 5, n_heads 8, n_kv_heads 4, "
                              "vocab_size 512, seq_len 512 needs 1056540")
                    .c_str(),
                FormatError);
            CHECK_THROWS_WITH_AS(import_llama2c(dir / "missing.bin"),
                                 ("llama2.c model: cannot open " + (dir / "missing.bin").string() +
                                  ": No such file or directory")
                                     .c_str(),
                                 IoError);
            CHECK_THROWS_WITH_AS(import_llama2c(dir.path()),
                                 ("llama2.c model: " + dir.path().string() +
                                  " is not a regular file (it is a directory)")
                                     .c_str(),
                                 IoError);
            CHECK_THROWS_WITH_AS(detect_model_format(p),
                                 (p.string() + ": not a model file: neither an ouro checkpoint "
                                               "(safetensors), a llama2.c model nor an llm.c "
                                               "model")
                                     .c_str(),
                                 FormatError);
        }
        SUBCASE("a GPT-2 block cannot be written for run.c") {
            nn::GPTConfig c = nn::GPTConfig::xs();
            Rng rng(1);
            const nn::GPT<float> gpt(c, rng);
            CHECK_THROWS_WITH_AS(
                export_llama2c(gpt, dir / "x.bin"),
                "export_llama2c: llama2.c cannot represent a model with LayerNorm (it needs "
                "rmsnorm)",
                ConfigError);
        }
    }
}
