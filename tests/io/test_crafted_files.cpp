// Files crafted to break the loaders (the reproducers of a fuzzing audit, written here as code):
// each must be refused with a FormatError or IoError naming the file, before anything large is
// allocated or copied.
#include "test_util.hpp"

#include <ouro/data/sha256.hpp>
#include <ouro/data/tinystories.hpp>
#include <ouro/data/token_shard.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/io/gpt2_formats.hpp>
#include <ouro/io/model_bundle.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <array>
#include <cstring>
#include <functional>
#include <string>

using namespace ouro;
using namespace ouro::io;
using ouro::testing::safetensors_bytes;

namespace {

// The JSON header of an ouro checkpoint with the given config JSON and tensor entries (a list of
// "name":{...} members, or empty).
std::string checkpoint_header(const std::string& config, const std::string& tensors) {
    std::string s = R"({"__metadata__":{"format":"ouro-checkpoint","format_version":"1",)"
                    R"("step":"0","rng_state":"0","config":")";
    for (const char c : config) {
        if (c == '"')
            s += '\\';
        s += c;
    }
    s += "\"}";
    if (!tensors.empty()) {
        s += ',';
        s += tensors;
    }
    s += '}';
    return s;
}

// An llm.c checkpoint header (version 3) with the given maxT, V, L, NH, C and padded V.
std::string llmc_header(std::int32_t maxT, std::int32_t V, std::int32_t L, std::int32_t NH,
                        std::int32_t C, std::int32_t Vp) {
    std::array<std::int32_t, 256> h{};
    h[0] = 20240326;
    h[1] = 3;
    h[2] = maxT;
    h[3] = V;
    h[4] = L;
    h[5] = NH;
    h[6] = C;
    h[7] = Vp;
    return std::string(reinterpret_cast<const char*>(h.data()), sizeof(h));
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
                safetensors_bytes(checkpoint_header(R"({"vocab_size":2,"block_size":1,"n_layer":1,)"
                                                    R"("n_head":1,"n_embd":1})",
                                                    tensor),
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
        SUBCASE(
            "llm.c headers whose sizes overflow int64 are refused before any arithmetic wraps") {
            // The audit's header: one layer of 12884901888 x 1073741824 weights (12 C x C with
            // C = 2^30), whose product used to wrap before the file-size check.
            ouro::testing::write_bytes(at("huge.bin"),
                                       llmc_header(1, 1, 1, 1, 1 << 30, 1) + "xxxx");
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_llmc(at("huge.bin")); },
                at("huge.bin") + ": file is 1028 bytes, but its header describes more than 2^63 "
                                 "bytes (maxT 1, padded V 1, L 1, C 1073741824)");
            // Every field at its largest (2^31 - 1) still cannot wrap.
            const std::int32_t max = 2147483647;
            ouro::testing::write_bytes(at("max.bin"), llmc_header(max, max, max, 1, max - 1, max));
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_llmc(at("max.bin")); },
                at("max.bin") + ": file is 1024 bytes, but its header describes more than 2^63 "
                                "bytes (maxT 2147483647, padded V 2147483647, L 2147483647, C "
                                "2147483646)");
            // Large sizes that fit int64 are compared with the real file size, not allocated.
            ouro::testing::write_bytes(at("big.bin"), llmc_header(1, max, 1, 1, 32768, max));
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_llmc(at("big.bin")); },
                at("big.bin") + ": file is 1024 bytes, but its header describes 281526518285312 "
                                "(70381629571072 "
                                "parameters)");
            // Sizes that fit: compared with the real file size, not allocated.
            ouro::testing::write_bytes(at("small.bin"), llmc_header(4, 5, 1, 1, 2, 8));
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_llmc(at("small.bin")); },
                at("small.bin") + ": file is 1024 bytes, but its header describes 1432 (102 "
                                  "parameters)");
        }
        SUBCASE("JSON numbers out of range in a checkpoint are FormatErrors naming the file") {
            ouro::testing::write_bytes(
                at("header.safetensors"),
                safetensors_bytes(checkpoint_header("{}", R"("w":{"dtype":"F32","shape":[1e400],)"
                                                          R"("data_offsets":[0,4]})"),
                                  4));
            ouro::testing::check_throws_message<FormatError>(
                [&] { Checkpoint::read(at("header.safetensors")); },
                at("header.safetensors") +
                    ": header is not valid JSON: number overflow parsing '1e400'");
            ouro::testing::write_bytes(
                at("config.safetensors"),
                safetensors_bytes(checkpoint_header(R"({"vocab_size":1e400})", ""), 0));
            try {
                Checkpoint::read(at("config.safetensors"));
                FAIL("no exception");
            } catch (const FormatError& e) {
                const std::string what = e.what();
                CHECK(what.rfind(at("config.safetensors") + ": model config is not valid JSON: ",
                                 0) == 0);
                CHECK(what.find("number overflow parsing '1e400'") != std::string::npos);
            }
        }
        SUBCASE("a checkpoint's config is checked against its tensors before a model is built") {
            // The audit's 280-byte file: a huge config and no tensors made `sample` allocate for
            // minutes until std::bad_alloc.
            ouro::testing::write_bytes(
                at("empty.safetensors"),
                safetensors_bytes(checkpoint_header(R"({"vocab_size":50257,"block_size":1024,)"
                                                    R"("n_layer":100000000,"n_head":16,)"
                                                    R"("n_embd":4096})",
                                                    ""),
                                  0));
            ouro::testing::check_throws_message<FormatError>(
                [&] { Checkpoint::read(at("empty.safetensors")); },
                at("empty.safetensors") + ": the config needs 1200000004 weight tensors (n_layer "
                                          "= 100000000), but the file holds 0");

            // Enough tensors to pass the count, but a config whose shapes cannot exist: the
            // position table of 2^62 + 2 rows once wrapped to a small buffer that sampling read
            // past.
            std::string eight;
            for (int i = 0; i < 9; ++i)
                eight += std::string(i ? "," : "") + "\"t" + std::to_string(i) +
                         R"(":{"dtype":"F32","shape":[0],"data_offsets":[0,0]})";
            ouro::testing::write_bytes(
                at("wrap.safetensors"),
                safetensors_bytes(
                    checkpoint_header(R"({"vocab_size":2,"block_size":4611686018427387906,)"
                                      R"("n_layer":1,"n_head":1,"n_embd":2,"bias":false})",
                                      eight),
                    0));
            ouro::testing::check_throws_message<FormatError>(
                [&] { Checkpoint::read(at("wrap.safetensors")); },
                at("wrap.safetensors") + ": the config cannot be built: Shape: "
                                         "(4611686018427387906, 2) has more than 2^48 elements");
        }
        SUBCASE("a checkpoint's tensors must match its config: present, shaped, float") {
            const nn::GPTConfig c = nn::GPTConfig::gpt2(5, 4, 1, 1, 2);
            Rng rng(3);
            const nn::GPT<float> model(c, rng);
            // Writes the model's checkpoint with the tensor `changed` replaced by what `replace`
            // adds under its name (or left out when `replace` is empty).
            using Replace = std::function<void(SafetensorsWriter&, const std::string&)>;
            const auto write = [&](const std::string& file, const std::string& changed,
                                   const Replace& replace) {
                SafetensorsWriter w;
                w.set_metadata("format", "ouro-checkpoint");
                w.set_metadata("format_version", "1");
                w.set_metadata("config", config_to_json(c));
                w.set_metadata("step", "0");
                w.set_metadata("rng_state", "0");
                for (const auto& [name, p] : model.named_parameters()) {
                    if (name != changed)
                        w.add(name, p.value());
                    else if (replace)
                        replace(w, name);
                }
                w.write(at(file));
            };
            write("shape.safetensors", "transformer.wpe.weight",
                  [](SafetensorsWriter& w, const std::string& name) {
                      w.add(name, TensorF({3, 2}));
                  });
            ouro::testing::check_throws_message<FormatError>(
                [&] { Checkpoint::read(at("shape.safetensors")); },
                at("shape.safetensors") +
                    ": tensor 'transformer.wpe.weight' is (3, 2), but the config needs (4, 2)");
            write("missing.safetensors", "transformer.ln_f.bias", nullptr);
            ouro::testing::check_throws_message<FormatError>(
                [&] { Checkpoint::read(at("missing.safetensors")); },
                at("missing.safetensors") + ": the config needs 16 weight tensors (n_layer = 1), "
                                            "but the file holds 15");
            // Present in number, but one name differs.
            const TensorF extra({2});
            write("renamed.safetensors", "transformer.ln_f.bias", nullptr);
            {
                Safetensors f = Safetensors::read(at("renamed.safetensors"));
                SafetensorsWriter w;
                for (const auto& [k, v] : f.metadata())
                    w.set_metadata(k, v);
                for (const std::string& name : f.names())
                    w.add(name, f.get_float(name));
                w.add("transformer.ln_f.beta", extra);
                w.write(at("renamed.safetensors"));
            }
            ouro::testing::check_throws_message<FormatError>(
                [&] { Checkpoint::read(at("renamed.safetensors")); },
                at("renamed.safetensors") +
                    ": no tensor 'transformer.ln_f.bias', which the config needs as (2)");
            // Weights stored as integers.
            write("ints.safetensors", "transformer.wte.weight",
                  [](SafetensorsWriter& w, const std::string& name) {
                      w.add(name, TensorI({5, 2}));
                  });
            ouro::testing::check_throws_message<FormatError>(
                [&] { Checkpoint::read(at("ints.safetensors")); },
                at("ints.safetensors") + ": tensor 'transformer.wte.weight' is I32, but weights "
                                         "must be F32, F64, F16 or BF16");
            // Optimizer state announced but absent.
            {
                Safetensors f = Safetensors::read(at("shape.safetensors"));
                SafetensorsWriter w;
                for (const auto& [k, v] : f.metadata())
                    w.set_metadata(k, v);
                w.set_metadata("optimizer_steps", "1");
                for (const auto& [name, p] : model.named_parameters())
                    w.add(name, p.value());
                w.write(at("moments.safetensors"));
            }
            const Checkpoint announced = Checkpoint::read(at("moments.safetensors"));
            CHECK(announced.has_optimizer);
            auto built = announced.build_model<float>();
            optim::AdamW<float> opt(built->named_parameters(), {});
            ouro::testing::check_throws_message<FormatError>(
                [&] { announced.load_optimizer(opt); },
                at("moments.safetensors") +
                    ": no tensor named 'optimizer.exp_avg.transformer.wte.weight'");
            // An optimizer over some of the parameters is legitimate: its checkpoint still reads.
            auto some = model.named_parameters();
            some.resize(3);
            optim::AdamW<float> partial(some, {});
            save_checkpoint(at("partial.safetensors"), model, &partial, {});
            const Checkpoint part = Checkpoint::read(at("partial.safetensors"));
            optim::AdamW<float> again(some, {});
            part.load_optimizer(again);
            CHECK(again.steps() == 0);
        }
        SUBCASE("a Hugging Face file is checked tensor by tensor before the model is built") {
            // Width 4096 from wte, one block: the model would be 200 million floats.
            SafetensorsWriter w;
            w.add("wte.weight", TensorF({1, 4096}));
            w.add("wpe.weight", TensorF({1, 4096}));
            w.add("h.0.ln_1.weight", TensorF({4096}));
            w.write(at("hf.safetensors"));
            ouro::testing::check_throws_message<FormatError>(
                [&] { import_hf_gpt2(at("hf.safetensors"), 1); },
                at("hf.safetensors") +
                    ": the config needs 16 weight tensors (n_layer = 1), but the file holds 3");
        }
        SUBCASE("every loader of user files refuses directories, FIFOs and devices") {
            // Each call used to block on the FIFO, read /dev/zero until memory ran out, or fail
            // midway with "Is a directory".
            const auto fifo = dir / "fifo";
            REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
            const std::string f = fifo.string();
            const auto refused = [&](const char* what, auto&& load) {
                ouro::testing::check_throws_message<IoError>(
                    load, std::string(what) + ": " + f + " is not a regular file (it is a FIFO)");
            };
            refused("Safetensors::read", [&] { Safetensors::read(f); });
            refused("Safetensors::read", [&] { Checkpoint::read(f); });
            refused("Safetensors::read", [&] { import_hf_gpt2(f, 1); });
            refused("import_llmc", [&] { import_llmc(f); });
            refused("TokenShard", [&] { data::TokenShard shard(fifo); });
            refused("read_stories_txt", [&] { data::read_stories(fifo); });
            refused("read_stories_json", [&] { data::read_stories_json(fifo); });
            refused("StoryReader", [&] { data::StoryReader reader(fifo); });
            refused("sha256", [&] { data::sha256_file(fifo); });
            // Tokenizer files and the model bundle: a folder whose vocab.json is a FIFO.
            std::filesystem::create_directories(dir / "tok");
            REQUIRE(::mkfifo((dir / "tok" / "vocab.json").c_str(), 0600) == 0);
            ouro::testing::write_bytes(dir / "tok" / "merges.txt", "");
            const std::string vocab = (dir / "tok" / "vocab.json").string();
            ouro::testing::check_throws_message<IoError>(
                [&] { data::Tokenizer::load(dir / "tok"); },
                "Tokenizer::load: " + vocab + " is not a regular file (it is a FIFO)");
            ouro::testing::check_throws_message<IoError>(
                [&] { load_model_bundle(fifo, dir / "tok"); },
                "model: " + f + " is not a regular file (it is a FIFO)");
            // A directory and a device, through the same check.
            ouro::testing::check_throws_message<IoError>(
                [&] { Checkpoint::read(dir.path().string()); },
                "Safetensors::read: " + dir.path().string() +
                    " is not a regular file (it is a directory)");
            if (std::filesystem::exists("/dev/zero"))
                CHECK_THROWS_WITH_AS(import_llmc("/dev/zero"),
                                     "import_llmc: /dev/zero is not a regular file (it is a "
                                     "character device)",
                                     IoError);
        }
    }
}
