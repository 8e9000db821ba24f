// Files crafted to break the loaders (the reproducers of a fuzzing audit, written here as code):
// each must be refused with a FormatError or IoError naming the file, before anything large is
// allocated or copied.
#include "test_util.hpp"

#include <ouro/io/checkpoint.hpp>
#include <ouro/io/gpt2_formats.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <string>

using namespace ouro;
using namespace ouro::io;

namespace {

// A safetensors file: the 8-byte length, `json`, then `data_bytes` zero bytes.
std::string safetensors_bytes(const std::string& json, std::size_t data_bytes) {
    std::string out(8, '\0');
    const std::uint64_t n = json.size();
    std::memcpy(out.data(), &n, 8);
    return out + json + std::string(data_bytes, '\0');
}

// The metadata of an ouro checkpoint with the given config JSON.
std::string checkpoint_metadata(const std::string& config) {
    std::string escaped;
    for (const char c : config)
        escaped += c == '"' ? std::string("\\\"") : std::string(1, c);
    return R"("__metadata__":{"format":"ouro-checkpoint","format_version":"1","step":"0",)"
           R"("rng_state":"0","config":")" +
           escaped + "\"}";
}

} // namespace

TEST_SUITE("io") {
    TEST_CASE("crafted files") {
        ouro::testing::TempDir dir;
        auto at = [&](const std::string& f) { return (dir / f).string(); };

        SUBCASE("reversed data_offsets in a checkpoint or a Hugging Face file") {
            const std::string tensor =
                R"("transformer.wte.weight":{"dtype":"F32","shape":[2],"data_offsets":[16,8]})";
            ouro::testing::write_bytes(
                at("ck.safetensors"),
                safetensors_bytes("{" +
                                      checkpoint_metadata(R"({"vocab_size":2,"block_size":1,)"
                                                          R"("n_layer":1,"n_head":1,"n_embd":1})") +
                                      "," + tensor + "}",
                                  16));
            ouro::testing::check_throws_message<FormatError>(
                [&] { Checkpoint::read(at("ck.safetensors")); },
                at("ck.safetensors") +
                    ": tensor 'transformer.wte.weight' data_offsets [16,8] end before they begin");
            ouro::testing::write_bytes(
                at("model.safetensors"),
                safetensors_bytes(
                    R"({"wte.weight":{"dtype":"F32","shape":[2],"data_offsets":[16,8]}})", 16));
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_hf_gpt2(at("model.safetensors"), 1); },
                at("model.safetensors") +
                    ": tensor 'wte.weight' data_offsets [16,8] end before they begin");
        }
    }
}
