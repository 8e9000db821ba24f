// Writes the seed corpora of the fuzz targets into <dir>/<target>/, every file made by the
// library's own writers (checkpoints, exports, tokenizer files, shards) or spelled out here (text,
// JSON, sampler inputs), so that fuzzing starts from inputs that load and mutates from there.
//   ouro_fuzz_seeds <dir>
#include <ouro/core/atomic_file.hpp>
#include <ouro/data/token_shard.hpp>
#include <ouro/data/tokenizer.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/io/gpt2_formats.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace ouro;
namespace fs = std::filesystem;

namespace {

fs::path root;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
    fs::create_directories(root / target);
    write_file_atomic(root / target / name, bytes);
}

std::string file_bytes(const fs::path& p) {
    return read_file(p, "ouro_fuzz_seeds");
}

nn::GPTConfig tiny(nn::PositionEncoding position, bool bias, std::int64_t vocab = 11) {
    nn::GPTConfig c;
    c.vocab_size = vocab;
    c.block_size = 4;
    c.n_layer = 1;
    c.n_head = 2;
    c.n_embd = 4;
    c.position = position;
    c.bias = bias;
    return c;
}

std::string u32(std::size_t v) {
    std::string s(4, '\0');
    const auto x = std::uint32_t(v);
    std::memcpy(s.data(), &x, 4);
    return s;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: ouro_fuzz_seeds <dir>\n");
        return 2;
    }
    root = argv[1];
    const fs::path tmp = root / ".work";
    fs::create_directories(tmp);
    Rng rng(1);

    // safetensors: every dtype, metadata, an empty tensor.
    io::SafetensorsWriter w;
    w.add("a", TensorF({2, 3}, {1, 2, 3, 4, 5, 6}));
    w.add("b", TensorF({3}, {0.5f, -1.0f, 2.0f}), io::DType::F16);
    w.add("c", TensorF({2}, {1.0f, -3.0f}), io::DType::BF16);
    w.add("d", TensorD({2}, {0.1, 1e300}));
    w.add("e", TensorI({2, 2}, {1, -2, 3, 4}));
    w.add("f", TensorF({0, 4}));
    w.set_metadata("format", "pt");
    put("safetensors", "mixed", w.serialize());

    // Checkpoints of each position encoding, with and without bias and optimizer state, and
    // 16-bit weights; the same files serve the safetensors target.
    int n = 0;
    for (const auto position :
         {nn::PositionEncoding::learned, nn::PositionEncoding::rope, nn::PositionEncoding::alibi})
        for (const bool bias : {true, false}) {
            nn::GPT<float> model(tiny(position, bias), rng);
            optim::AdamW<float> opt(model.named_parameters(), {});
            io::TrainingState state{.step = 3, .rng_state = 7, .data_position = "{}"};
            const fs::path p = tmp / "ck.safetensors";
            io::save_checkpoint(p.string(), model, n % 2 ? &opt : nullptr, state,
                                n % 3 == 2 ? io::DType::F16 : io::DType::F32);
            put("checkpoint", "ck" + std::to_string(n), file_bytes(p));
            put("safetensors", "ck" + std::to_string(n), file_bytes(p));
            ++n;
        }

    // Hugging Face and llm.c exports of a GPT-2 shaped model.
    nn::GPT<float> gpt2(tiny(nn::PositionEncoding::learned, true), rng);
    io::export_hf_gpt2((tmp / "hf").string(), gpt2);
    put("hf_import", "model", file_bytes(tmp / "hf" / "model.safetensors"));
    io::export_llmc((tmp / "model.bin").string(), gpt2);
    put("llmc_import", "model", file_bytes(tmp / "model.bin"));

    // Tokenizer files: vocab.json, a NUL, merges.txt.
    const std::vector<std::string> corpus = {"Once upon a time there was a cat. The cat sat.",
                                             "A dog and a cat played in the sun. The end."};
    const data::Tokenizer tok = data::Tokenizer::train(corpus, {.vocab_size = 280});
    tok.save(tmp / "tok");
    const std::string vocab = file_bytes(tmp / "tok" / "vocab.json");
    const std::string merges = file_bytes(tmp / "tok" / "merges.txt");
    put("tokenizer_files", "trained", vocab + std::string(1, '\0') + merges);

    // A bundle: a checkpoint with the tokenizer's vocabulary, then the tokenizer files.
    nn::GPT<float> model(tiny(nn::PositionEncoding::rope, false, tok.vocab_size()), rng);
    io::save_checkpoint((tmp / "bundle.safetensors").string(), model, nullptr, {});
    const std::string ck = file_bytes(tmp / "bundle.safetensors");
    put("bundle", "trained", u32(ck.size()) + u32(vocab.size()) + ck + vocab + merges);

    // Text for the tokenizer.
    put("tokenizer_encode", "story", "Once upon a time, there was a little girl named Lily.");
    put("tokenizer_encode", "bytes", std::string("caf\xc3\xa9 \xff\xfe<|endoftext|>\r\n\t 12 3"));

    // Token shards.
    const fs::path shard = tmp / "shard.bin";
    data::write_shard(shard, tok.encode(corpus[0] + corpus[1]));
    put("token_shard", "corpus", file_bytes(shard));
    data::write_shard(shard, {});
    put("token_shard", "empty", file_bytes(shard));

    // TinyStories text and JSON.
    put("tinystories", "text",
        "One day Tom ran.\n<|endoftext|>\n  Lily sang.\r\n\nThe end.\n <|endoftext|> \nCut");
    put("tinystories", "json",
        R"([{"story": "Once upon a time.", "summary": "x"}, {"story": "  Tom ran. "}, {"story": ""}])");

    // Sampler inputs: arbitrary bytes that FuzzedDataProvider turns into settings and logits.
    for (int i = 0; i < 4; ++i) {
        std::string b(400 + 200 * std::size_t(i), '\0');
        for (char& c : b)
            c = char(rng.below(256));
        put("sampler", "random" + std::to_string(i), b);
    }

    fs::remove_all(tmp);
    std::printf("seed corpora written to %s\n", root.string().c_str());
    return 0;
}
