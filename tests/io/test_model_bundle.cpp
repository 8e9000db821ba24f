// Finding and opening a model with its tokenizer (model_bundle.hpp) when the tokenizer is a
// llama2.c tokenizer.bin in a folder: beside an ouro checkpoint, or in the data folder a training
// run records; the identity a checkpoint records matches whether the folder or the file is given.
// Then the other formats: Hugging Face folders, llm.c files and sampling bundles' folders.
#include "data/llama2c_test_util.hpp"
#include "test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/io/gpt2_formats.hpp>
#include <ouro/io/hugging_face.hpp>
#include <ouro/io/llama2c.hpp>
#include <ouro/io/model_bundle.hpp>

#include <doctest/doctest.h>

#include <filesystem>

using namespace ouro;
using namespace ouro::io;
using ouro::testing::TempDir;
using ouro::testing::tokenizer_bin;
using ouro::testing::vocabulary;
using ouro::testing::write_bytes;

namespace {

namespace fs = std::filesystem;

// A llama2.c tokenizer of 6 tokens (<unk>, BOS, EOS, "a", "b", "ab") and a Llama of that
// vocabulary.
void write_tokenizer(const fs::path& p) {
    write_bytes(p, tokenizer_bin(8, vocabulary({{"a", -1}, {"b", -2}, {"ab", -3}}, false)));
}

std::unique_ptr<nn::GPT<float>> tiny_llama() {
    Rng rng(5);
    return std::make_unique<nn::GPT<float>>(nn::GPTConfig::llama(6, 8, 1, 2, 1, 8, 8), rng);
}

// An ouro checkpoint of tiny_llama() that records `tokenizer` and the data folder `data_dir`.
void write_checkpoint(const fs::path& p, const std::string& tokenizer, const fs::path& data_dir) {
    TrainingState state;
    state.tokenizer = tokenizer;
    state.metadata["train_config"] = R"({"data_dir": ")" + data_dir.string() + R"("})";
    save_checkpoint(p.string(), *tiny_llama(), nullptr, state);
}

} // namespace

TEST_SUITE("io") {
    TEST_CASE("find_tokenizer and load_model_bundle: tokenizer.bin in a folder") {
        TempDir dir;
        const fs::path data = dir / "data", run = dir / "run";
        fs::create_directories(data);
        fs::create_directories(run);
        write_tokenizer(data / "tokenizer.bin");
        const data::Tokenizer tok = data::Tokenizer::load_any(data);
        const std::string identity = data::tokenizer_identity(tok, data);
        const fs::path ckpt = run / "ckpt.safetensors";

        SUBCASE("the data folder a run records") {
            write_checkpoint(ckpt, identity, data);
            CHECK(find_tokenizer(ckpt) == data);
            const ModelBundle b = load_model_bundle(ckpt, find_tokenizer(ckpt));
            CHECK(b.tokenizer.kind() == data::TokenizerKind::llama2c);
            CHECK(b.config.vocab_size == 6);
            // The file itself is the same tokenizer.
            CHECK_NOTHROW(load_model_bundle(ckpt, data / "tokenizer.bin"));
        }
        SUBCASE("a tokenizer.bin beside the checkpoint") {
            write_checkpoint(ckpt, identity, dir / "gone");
            write_tokenizer(run / "tokenizer.bin");
            CHECK(find_tokenizer(ckpt) == run);
            CHECK_NOTHROW(load_model_bundle(ckpt, run));
        }
        SUBCASE("another tokenizer of the same size is refused") {
            write_checkpoint(ckpt, identity, data);
            const fs::path other = dir / "other";
            fs::create_directories(other);
            write_bytes(other / "tokenizer.bin",
                        tokenizer_bin(8, vocabulary({{"a", -1}, {"c", -2}, {"ac", -3}}, false)));
            CHECK_THROWS_AS(load_model_bundle(ckpt, other), FormatError);
        }
        SUBCASE("none: the message says where it looked") {
            write_checkpoint(ckpt, identity, dir / "gone");
            CHECK_THROWS_WITH_AS(find_tokenizer(ckpt),
                                 ("no tokenizer for " + ckpt.string() + ": looked for " +
                                  (run / "vocab.json").string() +
                                  " or tokenizer.bin and the data folder it records (" +
                                  (dir / "gone" / "vocab.json").string() +
                                  " or tokenizer.bin); pass --tokenizer")
                                     .c_str(),
                                 ConfigError);
        }
        SUBCASE("a llama2.c model: the tokenizer.bin file beside it") {
            export_llama2c(*tiny_llama(), run / "model.bin");
            write_tokenizer(run / "tokenizer.bin");
            CHECK(find_tokenizer(run / "model.bin") == run / "tokenizer.bin");
            CHECK_NOTHROW(load_model_bundle(run / "model.bin", run / "tokenizer.bin"));
        }
    }

    TEST_CASE("detect_model_format, find_tokenizer and load_model_bundle: every format") {
        TempDir dir;
        std::vector<std::string> texts(10, "a cat and a rat ran at a mat");
        data::TrainOptions options;
        options.vocab_size = 270;
        const data::Tokenizer bpe = data::Tokenizer::train(texts, options);
        const nn::GPTConfig c = nn::GPTConfig::gpt2(bpe.vocab_size(), 8, 1, 2, 8);
        Rng rng(3);
        const nn::GPT<float> gpt(c, rng);
        auto same = [&](const nn::GPT<float>& m) {
            for (std::size_t i = 0; i < gpt.named_parameters().size(); ++i)
                CHECK(ouro::testing::bitwise_equal(m.named_parameters()[i].second.value(),
                                                   gpt.named_parameters()[i].second.value()));
        };

        SUBCASE("a Hugging Face folder holds its tokenizer") {
            export_hf(dir / "hf", gpt, &bpe);
            CHECK(detect_model_format(dir / "hf") == ModelFormat::hugging_face);
            CHECK(find_tokenizer(dir / "hf") == dir / "hf");
            const ModelBundle b = load_model_bundle(dir / "hf", dir / "hf");
            CHECK(b.format == ModelFormat::hugging_face);
            same(*b.model);
            fs::remove(dir / "hf" / "vocab.json");
            CHECK_THROWS_WITH_AS(find_tokenizer(dir / "hf"),
                                 ("no tokenizer for " + (dir / "hf").string() + ": looked for " +
                                  (dir / "hf" / "vocab.json").string() +
                                  " or tokenizer.bin (a tokenizer.json alone is not read); pass "
                                  "--tokenizer")
                                     .c_str(),
                                 ConfigError);
        }
        SUBCASE("an llm.c file with vocab.json beside it") {
            fs::create_directories(dir / "llmc");
            export_llmc((dir / "llmc" / "model.bin").string(), gpt);
            CHECK(detect_model_format(dir / "llmc" / "model.bin") == ModelFormat::llmc);
            CHECK_THROWS_WITH_AS(find_tokenizer(dir / "llmc" / "model.bin"),
                                 ("no tokenizer for " + (dir / "llmc" / "model.bin").string() +
                                  ": looked for " + (dir / "llmc" / "vocab.json").string() +
                                  "; pass --tokenizer (a folder with GPT-2's vocab.json and "
                                  "merges.txt)")
                                     .c_str(),
                                 ConfigError);
            bpe.save(dir / "llmc");
            CHECK(find_tokenizer(dir / "llmc" / "model.bin") == dir / "llmc");
            same(*load_model_bundle(dir / "llmc" / "model.bin", dir / "llmc").model);
        }
        SUBCASE("a bundle's folder is the checkpoint inside it") {
            fs::create_directories(dir / "bundle");
            bpe.save(dir / "bundle");
            TrainingState state;
            state.tokenizer = data::tokenizer_identity(bpe, dir / "bundle");
            save_checkpoint((dir / "bundle" / "model.safetensors").string(), gpt, nullptr, state);
            CHECK(detect_model_format(dir / "bundle") == ModelFormat::ouro_checkpoint);
            CHECK(find_tokenizer(dir / "bundle") == dir / "bundle");
            same(*load_model(dir / "bundle").model);
            CHECK_THROWS_WITH_AS(detect_model_format(dir.path()),
                                 (dir.path().string() +
                                  ": a folder that holds neither config.json (a Hugging Face "
                                  "folder) nor model.safetensors (a sampling bundle)")
                                     .c_str(),
                                 FormatError);
        }
    }

    TEST_CASE("find_tokenizer: beside the model first, then the data folder it records") {
        TempDir dir;
        const fs::path data = dir / "data", run = dir / "run", ckpt = run / "ckpt.safetensors";
        fs::create_directories(data);
        fs::create_directories(run);
        // Only the files' presence decides where find_tokenizer looks (load_any reads them).
        write_bytes(data / "vocab.json", "{}");

        SUBCASE("vocab.json beside the checkpoint comes before the recorded data folder") {
            write_checkpoint(ckpt, "", data);
            CHECK(find_tokenizer(ckpt) == data);
            write_bytes(run / "vocab.json", "{}");
            CHECK(find_tokenizer(ckpt) == run);
        }
        SUBCASE("a checkpoint that records no data folder: the message says so") {
            TrainingState state;
            save_checkpoint(ckpt.string(), *tiny_llama(), nullptr, state);
            CHECK_THROWS_WITH_AS(find_tokenizer(ckpt),
                                 ("no tokenizer for " + ckpt.string() + ": looked for " +
                                  (run / "vocab.json").string() +
                                  " or tokenizer.bin and the data folder it records (none "
                                  "recorded); pass --tokenizer")
                                     .c_str(),
                                 ConfigError);
        }
        SUBCASE("a llama2.c model without tokenizer.bin beside it") {
            export_llama2c(*tiny_llama(), run / "model.bin");
            CHECK_THROWS_WITH_AS(find_tokenizer(run / "model.bin"),
                                 ("no tokenizer for " + (run / "model.bin").string() +
                                  ": looked for " + (run / "tokenizer.bin").string() +
                                  "; pass --tokenizer (the llama2.c tokenizer.bin of the model)")
                                     .c_str(),
                                 ConfigError);
        }
        SUBCASE("a missing model gives its folder, for the loader to report the model") {
            CHECK(find_tokenizer(run / "missing.safetensors") == run);
            CHECK(find_tokenizer("missing.safetensors") == ".");
        }
    }
}
