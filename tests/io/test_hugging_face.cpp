// Hugging Face folders (hugging_face.hpp): the RoPE row permutation, export and import of
// GPT2LMHeadModel and LlamaForCausalLM folders (weights back bit for bit, the tensors where and how
// transformers expects them, config.json's fields), the refusals, and tokenizer.json checked
// against the files it mirrors and, for llama2.c's tokenizers, against run.c's encoding through a
// second implementation of HF's BPE written here.
#include "data/llama2c_test_util.hpp"
#include "test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/io/hugging_face.hpp>
#include <ouro/io/safetensors.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <climits>
#include <fstream>
#include <map>

using namespace ouro;
using namespace ouro::io;
using ouro::testing::TempDir;

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

nn::GPTConfig gpt2_config(bool tied, std::int64_t mlp_hidden) {
    nn::GPTConfig c = nn::GPTConfig::gpt2(40, 12, 2, 2, 16);
    c.norm_eps = 1e-6;
    c.tied_head = tied;
    c.mlp_hidden = mlp_hidden;
    return c;
}

nn::GPTConfig llama_config(ops::RopeLayout layout, bool bias) {
    nn::GPTConfig c = nn::GPTConfig::llama(40, 12, 2, 4, 2, 16, 8); // head size 4, GQA
    c.rope_layout = layout;
    c.bias = bias;
    c.rope_base = 500.0;
    c.norm_eps = 1e-6;
    return c;
}

std::unique_ptr<nn::GPT<float>> model_of(const nn::GPTConfig& c, std::uint64_t seed) {
    Rng rng(seed);
    auto m = std::make_unique<nn::GPT<float>>(c, rng);
    // Norm weights and biases away from their initial 1 and 0, so that a swap would show.
    for (auto& [name, p] : m->named_parameters())
        if (p.value().rank() == 1)
            for (float& v : Var<float>(p).value().values())
                v = float(2.0 * rng.uniform() - 1.0);
    return m;
}

void check_same_weights(const nn::GPT<float>& a, const nn::GPT<float>& b) {
    const auto pa = a.named_parameters(), pb = b.named_parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
        CAPTURE(pa[i].first);
        CHECK(pa[i].first == pb[i].first);
        CHECK(testing::bitwise_equal(pa[i].second.value(), pb[i].second.value()));
    }
}

TensorF logits(const nn::GPT<float>& m) {
    NoGradGuard guard;
    return m.forward(TensorI({1, 6}, {3, 17, 5, 39, 0, 12})).value();
}

Json read_json(const fs::path& p) {
    return Json::parse(testing::read_bytes(p));
}

// A llama2.c tokenizer whose scores make the order of merges matter: "ab" outranks "bc".
data::Tokenizer small_llama2c(const TempDir& dir) {
    testing::write_bytes(dir / "tok.bin",
                         testing::tokenizer_bin(8, testing::vocabulary({{" ", -1},
                                                                        {"a", -2},
                                                                        {"b", -3},
                                                                        {"c", -4},
                                                                        {"\xC3\xA9", -5},
                                                                        {"ab", -6},
                                                                        {"bc", -7},
                                                                        {" a", -8},
                                                                        {"abc", -9},
                                                                        {" abc", -10},
                                                                        {"ca", -11}})));
    return data::Tokenizer::load_any(dir / "tok.bin");
}

// HF's BPE over a tokenizer.json of LlamaConverter's form, written from its description: the
// normalizer's "▁" prefix and spaces as "▁", one symbol per character (its UTF-8 bytes as
// <0xHH> pieces when the character is not in the vocabulary, with byte_fallback, else <unk>),
// then the adjacent pair with the
// lowest merge rank is merged, leftmost first, until none is in the merges.
std::vector<std::int32_t> hf_bpe_encode(const Json& tj, const std::string& text) {
    const std::string meta = "\xE2\x96\x81";
    std::string s = meta;
    for (const char ch : text)
        s += ch == ' ' ? meta : std::string(1, ch);
    const Json& vocab = tj["model"]["vocab"];
    std::map<std::pair<std::string, std::string>, int> rank;
    int r = 0;
    for (const auto& m : tj["model"]["merges"]) {
        const std::string line = m.get<std::string>();
        rank[{line.substr(0, line.find(' ')), line.substr(line.find(' ') + 1)}] = r++;
    }
    std::vector<std::string> sym;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = 1;
        while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80)
            ++n;
        const std::string ch = s.substr(i, n);
        if (vocab.contains(ch)) {
            sym.push_back(ch);
        } else if (!tj["model"]["byte_fallback"].get<bool>()) {
            sym.push_back("<unk>"); // one per character: fuse_unk is false
        } else {
            for (const char b : ch) {
                char name[8];
                std::snprintf(name, sizeof(name), "<0x%02X>",
                              unsigned(static_cast<unsigned char>(b)));
                sym.push_back(name);
            }
        }
        i += n;
    }
    for (;;) {
        int best = INT_MAX;
        std::size_t at = 0;
        for (std::size_t i = 0; i + 1 < sym.size(); ++i) {
            const auto it = rank.find({sym[i], sym[i + 1]});
            if (it != rank.end() && it->second < best) {
                best = it->second;
                at = i;
            }
        }
        if (best == INT_MAX)
            break;
        sym[at] += sym[at + 1];
        sym.erase(sym.begin() + std::ptrdiff_t(at) + 1);
    }
    std::vector<std::int32_t> ids;
    for (const std::string& p : sym)
        ids.push_back(vocab[p].get<std::int32_t>());
    return ids;
}

} // namespace

TEST_SUITE("io") {
    TEST_CASE("with_rope_layout") {
        const auto inter = model_of(llama_config(ops::RopeLayout::interleaved, true), 3);
        const auto half = with_rope_layout(*inter, ops::RopeLayout::half);
        SUBCASE("forward matches reference: the same logits, and back bit for bit") {
            CHECK(half->config.rope_layout == ops::RopeLayout::half);
            testing::check_close(logits(*half), logits(*inter), 1e-5, 1e-5);
            check_same_weights(*with_rope_layout(*half, ops::RopeLayout::interleaved), *inter);
        }
        SUBCASE("HF's permutation: half row h*HS + a*HS/2 + i is interleaved row h*HS + 2i + a") {
            const TensorF& a = inter->parameter("transformer.h.1.attn.c_attn.weight").value();
            const TensorF& b = half->parameter("transformer.h.1.attn.c_attn.weight").value();
            const std::int64_t HS = 4, C = 16;
            for (std::int64_t row = 0; row < C + 2 * 8; ++row) { // q (4 heads), k (2), v
                const std::int64_t h = row / HS, j = row % HS;
                const std::int64_t src =
                    row < C + 8 ? h * HS + 2 * (j % (HS / 2)) + j / (HS / 2) : row; // v unchanged
                for (std::int64_t col = 0; col < C; ++col)
                    CHECK(b.at({row, col}) == a.at({src, col}));
            }
        }
        SUBCASE("rejects models without RoPE") {
            CHECK_THROWS_WITH_AS(
                with_rope_layout(*model_of(gpt2_config(true, 0), 1), ops::RopeLayout::half),
                "with_rope_layout: the model has position 'learned', not rope", ConfigError);
        }
    }

    TEST_CASE("export_hf and import_hf") {
        TempDir dir;
        SUBCASE("GPT-2: weights back bit for bit, Conv1D stored (in, out), config.json's fields") {
            for (const bool tied : {true, false}) {
                const auto m = model_of(gpt2_config(tied, tied ? 0 : 24), 7);
                export_hf(dir / "g", *m, nullptr);
                const HfModel back = import_hf(dir / "g");
                CHECK(back.architecture == HfArchitecture::gpt2);
                CHECK(back.model->config.norm_eps == 1e-6);
                check_same_weights(*back.model, *m);
                const Safetensors f = Safetensors::read((dir / "g" / "model.safetensors").string());
                CHECK(f.metadata("format") == "pt");
                CHECK(f.contains("lm_head.weight") == !tied);
                const TensorF fc = f.get_float("transformer.h.0.mlp.c_fc.weight");
                const TensorF& ours = m->parameter("transformer.h.0.mlp.c_fc.weight").value();
                CHECK(fc.shape() == Shape{16, tied ? 64 : 24});
                CHECK(fc.at({3, 5}) == ours.at({5, 3}));
                const Json c = read_json(dir / "g" / "config.json");
                CHECK(c["architectures"] == Json::array({"GPT2LMHeadModel"}));
                CHECK(c["model_type"] == "gpt2");
                CHECK(c["n_positions"] == 12);
                CHECK(c["n_embd"] == 16);
                CHECK(c["layer_norm_epsilon"] == 1e-6);
                CHECK(c["activation_function"] == "gelu_new");
                CHECK(c["tie_word_embeddings"] == tied);
                CHECK(c["n_inner"] == (tied ? Json() : Json(24)));
                CHECK_FALSE(c.contains("bos_token_id")); // no tokenizer given
            }
        }
        SUBCASE("GPT-2 as the Hub has it: keys without transformer., attn.bias buffers") {
            const auto m = model_of(gpt2_config(true, 0), 5);
            export_hf(dir / "g", *m, nullptr);
            const Safetensors ours = Safetensors::read((dir / "g" / "model.safetensors").string());
            SafetensorsWriter w;
            w.set_metadata("format", "pt");
            for (const std::string& name : ours.names())
                w.add(name.substr(12), ours.get_float(name)); // without "transformer."
            for (const char* layer : {"h.0.", "h.1."})
                w.add(std::string(layer) + "attn.bias", TensorF({1, 1, 12, 12}, 1.0f));
            fs::create_directories(dir / "hub");
            w.write((dir / "hub" / "model.safetensors").string());
            // GPT-2 124M's config.json, at this size: no tie_word_embeddings, dropouts of 0.1,
            // the fields of its summary head and task_specific_params.
            testing::write_bytes(
                dir / "hub" / "config.json",
                R"({"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
                    "attn_pdrop": 0.1, "bos_token_id": 39, "embd_pdrop": 0.1, "eos_token_id": 39,
                    "initializer_range": 0.02, "layer_norm_epsilon": 1e-06,
                    "model_type": "gpt2", "n_ctx": 12, "n_embd": 16, "n_head": 2, "n_layer": 2,
                    "n_positions": 12, "resid_pdrop": 0.1, "summary_activation": null,
                    "summary_first_dropout": 0.1, "summary_proj_to_labels": true,
                    "summary_type": "cls_index", "summary_use_proj": true,
                    "task_specific_params": {"text-generation": {"do_sample": true,
                                                                 "max_length": 50}},
                    "vocab_size": 40})");
            const HfModel back = import_hf(dir / "hub");
            CHECK(back.model->config.dropout == 0.1);
            check_same_weights(*back.model, *m);
        }
        SUBCASE("Llama: q and k rows permuted into HF's halves, weights back bit for bit") {
            for (const bool bias : {false, true}) {
                const auto m = model_of(llama_config(ops::RopeLayout::interleaved, bias), 11);
                export_hf(dir / "l", *m, nullptr);
                const HfModel back = import_hf(dir / "l");
                CHECK(back.architecture == HfArchitecture::llama);
                check_same_weights(*back.model, *m);
                const Safetensors f = Safetensors::read((dir / "l" / "model.safetensors").string());
                const auto half = with_rope_layout(*m, ops::RopeLayout::half);
                const TensorF& fused =
                    half->parameter("transformer.h.1.attn.c_attn.weight").value();
                const TensorF k = f.get_float("model.layers.1.self_attn.k_proj.weight");
                CHECK(k.shape() == Shape{8, 16});
                CHECK(k.at({5, 2}) == fused.at({16 + 5, 2}));
                CHECK(f.contains("model.layers.1.mlp.up_proj.bias") == bias);
                CHECK(f.contains("lm_head.weight"));
                const Json c = read_json(dir / "l" / "config.json");
                CHECK(c["architectures"] == Json::array({"LlamaForCausalLM"}));
                CHECK(c["num_key_value_heads"] == 2);
                CHECK(c["intermediate_size"] == m->config.hidden_size());
                CHECK(c["rope_theta"] == 500.0);
                CHECK(c["rope_parameters"]["rope_theta"] == 500.0);
                CHECK(c["rms_norm_eps"] == 1e-6);
                CHECK(c["head_dim"] == 4);
                CHECK(c["attention_bias"] == bias);
                CHECK(c["tie_word_embeddings"] == false);
            }
            // A model that already rotates halves is written as it is, and read back interleaved.
            const auto h = model_of(llama_config(ops::RopeLayout::half, false), 2);
            export_hf(dir / "h", *h, nullptr);
            const HfModel back = import_hf(dir / "h");
            CHECK(back.model->config.rope_layout == ops::RopeLayout::interleaved);
            testing::check_close(logits(*back.model), logits(*h), 1e-5, 1e-5);
        }
        SUBCASE("bos and eos ids from the tokenizer, and its files") {
            TempDir tmp;
            const data::Tokenizer tok = small_llama2c(tmp);
            nn::GPTConfig c = llama_config(ops::RopeLayout::interleaved, false);
            c.vocab_size = tok.vocab_size();
            export_hf(dir / "t", *model_of(c, 4), &tok);
            CHECK(read_json(dir / "t" / "config.json")["bos_token_id"] == 1);
            CHECK(read_json(dir / "t" / "config.json")["eos_token_id"] == 2);
            CHECK(read_json(dir / "t" / "generation_config.json")["eos_token_id"] ==
                  Json::array({2, 1}));
            CHECK(read_json(dir / "t" / "tokenizer_config.json")["tokenizer_class"] ==
                  "LlamaTokenizerFast");
            CHECK(testing::read_bytes(dir / "t" / "tokenizer.bin") ==
                  testing::read_bytes(tmp / "tok.bin"));
            CHECK_THROWS_WITH_AS(export_hf(dir / "u",
                                           *model_of(llama_config(ops::RopeLayout::half, false), 4),
                                           &tok),
                                 "Hugging Face: the tokenizer has 270 tokens, but the model's "
                                 "vocabulary is 40",
                                 ConfigError);
        }
        SUBCASE("rejects what no architecture holds") {
            nn::GPTConfig c = gpt2_config(true, 0);
            c.position = nn::PositionEncoding::alibi;
            CHECK_THROWS_WITH_AS(
                export_hf(dir / "a", *model_of(c, 1), nullptr),
                "Hugging Face: no architecture holds this model (position 'alibi', norm "
                "'layernorm', mlp 'gelu', bias on, 2 of 2 heads for keys and values): "
                "GPT2LMHeadModel needs learned positions, LayerNorm, GELU, biases and n_kv_head = "
                "n_head; LlamaForCausalLM needs RoPE, RMSNorm and SwiGLU",
                ConfigError);
            CHECK_FALSE(fs::exists(dir / "a"));
        }
    }

    TEST_CASE("import_hf matches transformers' computation (make_hf_reference.py)") {
        // Folders written and logits computed in PyTorch from transformers' modeling code,
        // independently of ouro; exported again, every tensor comes back as it was.
        TempDir dir;
        for (const char* name : {"hf_gpt2_tiny", "hf_llama_tiny"}) {
            CAPTURE(name);
            const fs::path folder = fs::path(OURO_TEST_REFERENCE_DIR) / name;
            const Safetensors expected =
                Safetensors::read((folder / "expected.safetensors").string());
            const TensorI tokens = expected.get_int("tokens");
            const HfModel m = import_hf(folder);
            m.model->eval(); // GPT-2's config has dropout 0.1 (transformers' default)
            NoGradGuard guard;
            const TensorF got = m.model->forward(tokens.reshaped({1, tokens.numel()}))
                                    .value()
                                    .reshaped(expected.entry("logits").shape);
            testing::check_close(got, expected.get_float("logits"), 2e-5, 2e-5);

            export_hf(dir / name, *m.model, nullptr);
            const Safetensors theirs = Safetensors::read((folder / "model.safetensors").string());
            const Safetensors ours = Safetensors::read((dir / name / "model.safetensors").string());
            CHECK(ours.tensor_count() == theirs.tensor_count());
            for (const std::string& key : theirs.names()) {
                const std::string our_key = ours.contains(key) ? key : "transformer." + key;
                CAPTURE(key);
                CHECK(testing::bitwise_equal(ours.get_float(our_key), theirs.get_float(key)));
            }
        }
    }

    TEST_CASE("import_hf rejects bad folders") {
        TempDir dir;
        export_hf(dir / "m", *model_of(llama_config(ops::RopeLayout::interleaved, false), 1),
                  nullptr);
        const fs::path config = dir / "m" / "config.json";
        const Json good = read_json(config);
        auto refused = [&](const Json& c, const std::string& message) {
            testing::write_bytes(config, c.dump());
            CHECK_THROWS_WITH_AS(import_hf(dir / "m"), message.c_str(), FormatError);
        };
        const std::string where = config.string() + ": ";
        Json c = good;
        c["model_type"] = "mistral";
        refused(c, where + "model_type 'mistral' is not supported (gpt2, llama)");
        c = good;
        c["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
        refused(c, where + "rope_scaling of type \"linear\" is not supported (only the default "
                           "RoPE)");
        c = good;
        c["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 123.0}};
        testing::write_bytes(config, c.dump());
        CHECK(import_hf(dir / "m").model->config.rope_base == 123.0);
        c = good;
        c["hidden_act"] = "gelu";
        refused(c, where + "hidden_act 'gelu' is not supported (silu)");
        c = good;
        c["num_key_value_heads"] = 3;
        refused(c, where + "GPTConfig: n_kv_head = 3 does not divide n_head = 4");
        c = good;
        c["hidden_size"] = 32;
        c["head_dim"] = nullptr;
        refused(c, (dir / "m" / "model.safetensors").string() +
                       ": tensor 'model.embed_tokens.weight' is (40, 16), but the config needs "
                       "(40, 32)");
        c = good;
        c["model_type"] = "gpt2";
        c["activation_function"] = "relu";
        refused(c, where + "activation_function 'relu' is not supported (gelu_new or "
                           "gelu_pytorch_tanh: GELU's tanh form)");
        testing::write_bytes(config, good.dump());
        fs::rename(dir / "m" / "model.safetensors", dir / "m" / "x");
        testing::write_bytes(dir / "m" / "model.safetensors.index.json", "{}");
        CHECK_THROWS_WITH_AS(import_hf(dir / "m"),
                             ((dir / "m").string() + ": no model.safetensors (a sharded "
                                                     "checkpoint, model.safetensors.index.json, "
                                                     "is not supported)")
                                 .c_str(),
                             FormatError);
    }

    TEST_CASE("hf_tokenizer_json") {
        SUBCASE("byte-level BPE: the vocabulary and merges of vocab.json and merges.txt") {
            std::vector<std::string> texts(20, "the cat sat on the mat, the cat ate the rat.");
            data::TrainOptions o;
            o.vocab_size = 280;
            const data::Tokenizer tok = data::Tokenizer::train(texts, o);
            TempDir dir;
            tok.save(dir.path());
            const Json j = Json::parse(hf_tokenizer_json(tok));
            CHECK(j["model"]["type"] == "BPE");
            CHECK(j["model"]["vocab"] == read_json(dir / "vocab.json"));
            std::string merges = "#version: 0.2\n";
            for (const auto& m : j["model"]["merges"])
                merges += m.get<std::string>() + "\n";
            CHECK(merges == testing::read_bytes(dir / "merges.txt"));
            CHECK(j["pre_tokenizer"]["type"] == "ByteLevel");
            CHECK(j["pre_tokenizer"]["add_prefix_space"] == false);
            CHECK(j["decoder"]["type"] == "ByteLevel");
            REQUIRE(j["added_tokens"].size() == 1);
            CHECK(j["added_tokens"][0]["content"] == "<|endoftext|>");
            CHECK(j["added_tokens"][0]["id"] == tok.eot_id());
            CHECK(j["added_tokens"][0]["special"] == true);
        }
        SUBCASE("llama2.c: HF's BPE over the merges encodes as run.c does") {
            TempDir dir;
            const data::Tokenizer tok = small_llama2c(dir);
            const Json j = Json::parse(hf_tokenizer_json(tok));
            CHECK(j["model"]["byte_fallback"] == true);
            CHECK(j["model"]["vocab"]["\xE2\x96\x81"
                                      "abc"] == 268);
            CHECK(j["model"]["vocab"]["<s>"] == 1);
            CHECK(j["normalizer"]["normalizers"][0]["prepend"] == "\xE2\x96\x81");
            for (const std::string text : {"abc", "abcabc ab", "bca bc", "cab\xC3\xA9z", "a  bc",
                                           "\xE2\x82\xAC"
                                           "abc",
                                           "ccc"}) {
                CAPTURE(text);
                CHECK(hf_bpe_encode(j, text) == tok.encode(text));
            }
        }
        SUBCASE("llama2.c without byte pieces: each unknown character is one <unk>") {
            TempDir dir;
            testing::write_bytes(
                dir / "tok.bin",
                testing::tokenizer_bin(
                    8, testing::vocabulary({{" ", -1}, {"a", -2}, {" a", -3}}, false)));
            const data::Tokenizer tok = data::Tokenizer::load_any(dir / "tok.bin");
            const Json j = Json::parse(hf_tokenizer_json(tok));
            CHECK(j["model"]["byte_fallback"] == false);
            CHECK(j["model"]["fuse_unk"] == false);
            for (const std::string text : {"a a", "axy a",
                                           "\xC3\xA9\xC3\xA9"
                                           "a"}) {
                CAPTURE(text);
                CHECK(hf_bpe_encode(j, text) == tok.encode(text));
            }
        }
        SUBCASE("llama2.c: stories260K's tokenizer on real stories") {
            const fs::path tok512 = testing::shared_data("tinyllamas/tok512.bin");
            const fs::path valid = testing::shared_data("tinystories/valid.txt");
            if (tok512.empty() || valid.empty()) {
                MESSAGE("skipped: no ../shared/data/tinyllamas/tok512.bin or tinystories");
                return;
            }
            const data::Tokenizer tok = data::Tokenizer::load_any(tok512);
            const Json j = Json::parse(hf_tokenizer_json(tok));
            std::ifstream in(valid);
            std::string line;
            int lines = 0;
            while (std::getline(in, line) && lines < 200)
                if (!line.empty() && line != "<|endoftext|>") {
                    ++lines;
                    CHECK(hf_bpe_encode(j, line) == tok.encode(line));
                }
        }
        SUBCASE("rejects pieces that are not UTF-8") {
            TempDir dir;
            testing::write_bytes(dir / "tok.bin",
                                 testing::tokenizer_bin(8, testing::vocabulary({{"\xFF", -1}})));
            CHECK_THROWS_WITH_AS(hf_tokenizer_json(data::Tokenizer::load_any(dir / "tok.bin")),
                                 "tokenizer.json: a token is not valid UTF-8", FormatError);
        }
    }
}
