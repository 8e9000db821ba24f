// Writes the seed corpora of the fuzz targets into <dir>/<target>/, every file made by the
// library's own writers (checkpoints, exports, tokenizer files, shards) or spelled out here (text,
// JSON, sampler inputs), so that fuzzing starts from inputs that load and mutates from there.
// llama2.c's version 2 (int8) layout has no writer in the library: its seed is a version 1 export
// quantised here. When the shared data folder is beside the repository, llama2.c's own tok512.bin
// is loaded and saved back as one more tokenizer seed.
//   ouro_fuzz_seeds <dir>
#include "llama2c_test_util.hpp"

#include <ouro/core/atomic_file.hpp>
#include <ouro/data/token_shard.hpp>
#include <ouro/data/tokenizer.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/io/gpt2_formats.hpp>
#include <ouro/io/hugging_face.hpp>
#include <ouro/io/llama2c.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <tuple>
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
    nn::GPTConfig c = nn::GPTConfig::gpt2(vocab, 4, 1, 2, 4);
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

std::int32_t i32_at(const std::string& b, std::size_t at) {
    std::int32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return v;
}

// A llama2.c version 1 file in version 2's layout: the same header with version 2 and
// `group` after the classifier flag, the norms as they are, then every matrix value as int8
// (symmetric, one float32 scale per group, as export.py's Q8_0), all the values first.
std::string version2_of(const std::string& v1, std::int32_t group) {
    const std::size_t dim = std::size_t(i32_at(v1, 8)), layers = std::size_t(i32_at(v1, 16));
    const std::size_t norms_end = 256 + 4 * (2 * layers + 1) * dim;
    std::string out = v1.substr(0, 256);
    const std::int32_t version = 2;
    std::memcpy(out.data() + 4, &version, 4);
    std::memcpy(out.data() + 37, &group, 4);
    out += v1.substr(256, norms_end - 256);
    std::vector<float> values((v1.size() - norms_end) / 4);
    std::memcpy(values.data(), v1.data() + norms_end, values.size() * 4);
    std::string scales;
    for (std::size_t g = 0; g < values.size(); g += std::size_t(group)) {
        float top = 0.0f;
        for (std::size_t i = g; i < g + std::size_t(group); ++i)
            top = std::max(top, std::abs(values[i]));
        const float scale = top > 0.0f ? top / 127.0f : 1.0f;
        for (std::size_t i = g; i < g + std::size_t(group); ++i)
            out += char(std::int8_t(std::lround(values[i] / scale)));
        scales.append(reinterpret_cast<const char*>(&scale), 4);
    }
    return out + scales;
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
    // Hugging Face folders of both architectures in hf_folder's layout: uint32 length,
    // config.json, model.safetensors.
    const auto hf_seed = [&](const std::string& name, const nn::GPT<float>& model) {
        const fs::path dir = tmp / ("hf_" + name);
        io::export_hf(dir, model, nullptr);
        const std::string config = file_bytes(dir / "config.json");
        put("hf_folder", name, u32(config.size()) + config + file_bytes(dir / "model.safetensors"));
    };
    hf_seed("gpt2", gpt2);
    nn::GPTConfig untied = tiny(nn::PositionEncoding::learned, true);
    untied.tied_head = false;
    hf_seed("gpt2_untied", nn::GPT<float>(untied, rng));
    hf_seed("llama", nn::GPT<float>(nn::GPTConfig::llama(5, 4, 1, 2, 1, 8, 4), rng));
    io::export_llmc((tmp / "model.bin").string(), gpt2);
    put("llmc_import", "model", file_bytes(tmp / "model.bin"));

    // llama2.c models: legacy and version 1 exports, tied and not, multi-, grouped- and
    // multi-query attention; version 2 quantised from a version 1 export.
    n = 0;
    for (const auto& [heads, kv_heads, tied] :
         {std::tuple{2, 2, true}, std::tuple{2, 1, false}, std::tuple{4, 1, true}}) {
        nn::GPTConfig c = nn::GPTConfig::llama(5, 4, 1, heads, kv_heads, 8, 4);
        c.tied_head = tied;
        const nn::GPT<float> llama(c, rng);
        for (const auto format : {io::Llama2cFormat::legacy, io::Llama2cFormat::version1}) {
            const fs::path p = tmp / "llama.bin";
            io::export_llama2c(llama, p, format);
            const std::string name = std::string(to_string(format)) + std::to_string(n);
            put("llama2c_import", name, file_bytes(p));
            if (format == io::Llama2cFormat::version1)
                put("llama2c_import", "version2_" + std::to_string(n),
                    version2_of(file_bytes(p), n == 2 ? 8 : 4));
        }
        ++n;
    }

    // llama2.c tokenizers, each followed by a text to encode: byte pieces and merges that spell
    // a story, the same without byte pieces (unknown characters become <unk>), and tok512.bin;
    // those with byte pieces also in the target's short form, the standard pieces implied.
    const std::vector<testing::Piece> merges_of_story = {
        {" ", -1},       {"O", -2},    {"n", -3},     {"c", -4},       {"e", -5},
        {"u", -6},       {"p", -7},    {"o", -8},     {"a", -9},       {"t", -10},
        {"i", -11},      {"m", -12},   {"On", 5},     {"ce", 4},       {" On", 3},
        {" Once", 2},    {"up", 4.5f}, {" up", 3.5f}, {"on", 4.2f},    {" upon", 2.5f},
        {" a", 1},       {" t", 0.5f}, {"im", 0.4f},  {" tim", 0.3f},  {" time", 0.2f},
        {"\xc3\xa9", 6}, {"ca", -20},  {"caf", -21},  {"f\xc3\xa9", 1}};
    // The target's layout: uint32 length (top bit: <unk>, BOS, EOS and the byte pieces are
    // implied, and left out of the part), the tokenizer part, the text.
    const std::size_t standard = testing::tokenizer_bin(0, testing::vocabulary({})).size() - 4;
    const auto llama2c_seed = [&](const std::string& name, const std::string& bin,
                                  const std::string& text, bool implied) {
        const fs::path p = tmp / "tokenizer.bin";
        write_file_atomic(p, bin);
        data::Tokenizer::load_llama2c(p).save_llama2c(p);
        std::string part = file_bytes(p);
        if (implied)
            part.erase(4, standard);
        put("llama2c_tokenizer", name,
            u32(part.size() | (implied ? 0x80000000u : 0u)) + part + text);
    };
    const std::string story = "Once upon a time, caf\xc3\xa9 \xe2\x80\x94 \xff end";
    const std::string with_bytes = testing::tokenizer_bin(8, testing::vocabulary(merges_of_story));
    llama2c_seed("bytes", with_bytes, story, false);
    llama2c_seed("bytes_implied", with_bytes, story, true);
    llama2c_seed("no_bytes", testing::tokenizer_bin(8, testing::vocabulary(merges_of_story, false)),
                 story + " <0x41> \n<s>\n", false);
    const fs::path tok512 = fs::path(OURO_SHARED_DATA) / "tinyllamas" / "tok512.bin";
    if (fs::is_regular_file(tok512)) {
        llama2c_seed("tok512", file_bytes(tok512), story, false);
        llama2c_seed("tok512_implied", file_bytes(tok512), story, true);
    }

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
