// Hugging Face model folders: the architecture check, the mapping of ouro's parameters onto HF's
// tensors (names, Conv1D transposes, row ranges of the fused projections), config.json in both
// directions and the RoPE row permutation. The tokenizer files are in hf_tokenizer.cpp.
#include "ouro/io/hugging_face.hpp"

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/eigen_view.hpp"
#include "ouro/core/error.hpp"
#include "ouro/io/safetensors.hpp"
#include "ouro/nn/parameter_shapes.hpp"

#include "hf_tokenizer.hpp"
#include "tensor_checks.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

namespace ouro::io {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// One HF tensor: rows [row, row + rows) of the ouro parameter `ouro` (a vector's entries when it
// has rank 1), transposed when HF stores it as a Conv1D (in, out).
struct Slice {
    std::string ouro;
    std::string hf;
    std::int64_t row = 0, rows = 0, cols = 1;
    int rank = 2;
    bool transpose = false;

    Shape hf_shape() const {
        if (rank == 1)
            return Shape{rows};
        return transpose ? Shape{cols, rows} : Shape{rows, cols};
    }
};

// GPT-2's Conv1D layers.
bool is_conv1d(const std::string& name) {
    return ends_with(name, "attn.c_attn.weight") || ends_with(name, "attn.c_proj.weight") ||
           ends_with(name, "mlp.c_fc.weight") || ends_with(name, "mlp.c_proj.weight");
}

// The HF tensors of every parameter of a model of `c`, in named_parameters() order. `prefix` is
// the base model's key prefix ("transformer." / "model.", or "" for a base model's file).
std::vector<Slice> slices(const nn::GPTConfig& c, HfArchitecture arch, const std::string& prefix) {
    std::vector<Slice> out;
    const std::int64_t C = c.n_embd, KV = c.kv_dim(), H = c.hidden_size();
    for (const auto& [name, shape] : nn::parameter_shapes(c)) {
        Slice s;
        s.ouro = name;
        s.rank = shape.rank();
        s.rows = shape[0];
        s.cols = s.rank == 2 ? shape[1] : 1;
        if (arch == HfArchitecture::gpt2) {
            s.hf = name.rfind("transformer.", 0) == 0 ? prefix + name.substr(12) : name;
            s.transpose = is_conv1d(name);
            out.push_back(s);
            continue;
        }
        // Llama: transformer.h.<i>.<part> -> model.layers.<i>.<hf part>.
        const std::string kind = ends_with(name, ".bias") ? "bias" : "weight";
        auto add = [&](const std::string& hf, std::int64_t row, std::int64_t rows) {
            Slice p = s;
            p.hf = hf + "." + kind;
            p.row = row;
            p.rows = rows;
            out.push_back(p);
        };
        if (name == "transformer.wte.weight") {
            add(prefix + "embed_tokens", 0, s.rows);
        } else if (name == "transformer.ln_f.weight") {
            add(prefix + "norm", 0, s.rows);
        } else if (name == "lm_head.weight") {
            add("lm_head", 0, s.rows);
        } else {
            const std::size_t dot = name.find('.', 14); // after "transformer.h."
            const std::string layer = prefix + "layers." + name.substr(14, dot - 14) + ".";
            const std::string part = name.substr(dot + 1, name.rfind('.') - dot - 1);
            if (part == "ln_1") {
                add(layer + "input_layernorm", 0, s.rows);
            } else if (part == "ln_2") {
                add(layer + "post_attention_layernorm", 0, s.rows);
            } else if (part == "attn.c_attn") {
                add(layer + "self_attn.q_proj", 0, C);
                add(layer + "self_attn.k_proj", C, KV);
                add(layer + "self_attn.v_proj", C + KV, KV);
            } else if (part == "attn.c_proj") {
                add(layer + "self_attn.o_proj", 0, s.rows);
            } else if (part == "mlp.c_fc") {
                add(layer + "mlp.gate_proj", 0, H);
                add(layer + "mlp.up_proj", H, H);
            } else { // mlp.c_proj
                add(layer + "mlp.down_proj", 0, s.rows);
            }
        }
    }
    return out;
}

// Rows [row, row + rows) of a (R, cols) or (R) tensor, as HF stores them.
TensorF cut(const TensorF& t, const Slice& s) {
    TensorF part(s.rank == 1 ? Shape{s.rows} : Shape{s.rows, s.cols});
    std::memcpy(part.data(), t.data() + s.row * s.cols, std::size_t(s.rows * s.cols) * 4);
    if (!s.transpose)
        return part;
    TensorF out({s.cols, s.rows});
    matrix_view(out) = matrix_view(part).transpose();
    return out;
}

// The inverse of cut: writes an HF tensor into its rows of `t`.
void paste(const TensorF& hf, const Slice& s, TensorF& t) {
    float* dst = t.data() + s.row * s.cols;
    if (!s.transpose) {
        std::memcpy(dst, hf.data(), std::size_t(s.rows * s.cols) * 4);
        return;
    }
    TensorF part({s.rows, s.cols});
    matrix_view(part) = matrix_view(hf).transpose();
    std::memcpy(dst, part.data(), std::size_t(s.rows * s.cols) * 4);
}

// Permutes `heads` heads of head size hs, starting at row `first` of a (R, cols) tensor, from
// one RoPE pair layout to the other: interleaved row h*hs + 2i + a is half row h*hs + a*hs/2 + i.
void permute_heads(TensorF& t, std::int64_t cols, std::int64_t first, std::int64_t heads,
                   std::int64_t hs, ops::RopeLayout to) {
    std::vector<float> head(std::size_t(hs * cols));
    for (std::int64_t h = 0; h < heads; ++h) {
        float* base = t.data() + (first + h * hs) * cols;
        std::copy_n(base, hs * cols, head.data());
        for (std::int64_t i = 0; i < hs / 2; ++i)
            for (std::int64_t a = 0; a < 2; ++a) {
                const std::int64_t inter = 2 * i + a, half = a * hs / 2 + i;
                const std::int64_t dst = to == ops::RopeLayout::half ? half : inter;
                const std::int64_t src = to == ops::RopeLayout::half ? inter : half;
                std::copy_n(head.data() + src * cols, cols, base + dst * cols);
            }
    }
}

// --- config.json ---------------------------------------------------------------------------

// Fields of a config.json, with transformers' defaults for the absent ones.
class ConfigReader {
public:
    ConfigReader(const nlohmann::json& j, std::string source) : j_(j), source_(std::move(source)) {}

    std::int64_t integer(const char* key, std::int64_t fallback) const {
        return field(key, fallback, &nlohmann::json::is_number_integer, "an integer");
    }
    double number(const char* key, double fallback) const {
        return field(key, fallback, &nlohmann::json::is_number, "a number");
    }
    bool boolean(const char* key, bool fallback) const {
        return field(key, fallback, &nlohmann::json::is_boolean, "true or false");
    }
    std::string string(const char* key, const std::string& fallback) const {
        return field(key, fallback, &nlohmann::json::is_string, "a string");
    }
    bool present(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
    [[noreturn]] void fail(const std::string& what) const {
        throw FormatError(source_ + ": " + what);
    }

private:
    // The field `key` as a T, `fallback` when it is absent or null; fails unless (j.*is)() holds.
    template <typename T>
    T field(const char* key, const T& fallback, bool (nlohmann::json::*is)() const noexcept,
            const char* kind) const {
        if (!present(key))
            return fallback;
        if (!(j_[key].*is)())
            fail(std::string("field '") + key + "' is not " + kind);
        return j_[key].get<T>();
    }

    const nlohmann::json& j_;
    std::string source_;
};

// rope_theta from a rope_scaling or rope_parameters object, which must ask for the plain RoPE.
double default_rope(const nlohmann::json& j, const char* key, double theta, const ConfigReader& r) {
    const nlohmann::json& rope = j[key];
    if (!rope.is_object())
        r.fail(std::string(key) + " is not an object");
    const ConfigReader inner(rope, "");
    const std::string type = inner.present("rope_type") ? rope["rope_type"].dump()
                             : inner.present("type")    ? rope["type"].dump()
                                                        : "\"default\"";
    if (type != "\"default\"")
        r.fail(std::string(key) + " of type " + type + " is not supported (only the default RoPE)");
    if (inner.present("rope_theta") && rope["rope_theta"].is_number())
        return rope["rope_theta"].get<double>();
    return theta;
}

struct ParsedConfig {
    nn::GPTConfig config;
    HfArchitecture arch = HfArchitecture::gpt2;
};

ParsedConfig parse_config(const fs::path& file) {
    const std::string text = read_file(file, "import_hf");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw FormatError(file.string() + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object())
        throw FormatError(file.string() + ": not a JSON object");
    const ConfigReader r(j, file.string());
    const std::string type = r.string("model_type", "");
    ParsedConfig p;
    nn::GPTConfig& c = p.config;
    if (type == "gpt2") {
        p.arch = HfArchitecture::gpt2;
        c.vocab_size = r.integer("vocab_size", 50257);
        c.block_size = r.integer("n_positions", 1024);
        c.n_embd = r.integer("n_embd", 768);
        c.n_layer = r.integer("n_layer", 12);
        c.n_head = r.integer("n_head", 12);
        c.mlp_hidden = r.integer("n_inner", 0);
        c.norm_eps = r.number("layer_norm_epsilon", 1e-5);
        c.dropout = r.number("resid_pdrop", 0.1);
        c.tied_head = r.boolean("tie_word_embeddings", true);
        const std::string act = r.string("activation_function", "gelu_new");
        if (act != "gelu_new" && act != "gelu_pytorch_tanh")
            r.fail("activation_function '" + act +
                   "' is not supported (gelu_new or gelu_pytorch_tanh: GELU's tanh form)");
        if (!r.boolean("scale_attn_weights", true))
            r.fail("scale_attn_weights false is not supported");
        if (r.boolean("scale_attn_by_inverse_layer_idx", false))
            r.fail("scale_attn_by_inverse_layer_idx is not supported");
    } else if (type == "llama") {
        p.arch = HfArchitecture::llama;
        c.vocab_size = r.integer("vocab_size", 32000);
        c.n_embd = r.integer("hidden_size", 4096);
        c.mlp_hidden = r.integer("intermediate_size", 11008);
        c.n_layer = r.integer("num_hidden_layers", 32);
        c.n_head = r.integer("num_attention_heads", 32);
        c.n_kv_head = r.integer("num_key_value_heads", c.n_head);
        c.block_size = r.integer("max_position_embeddings", 2048);
        c.norm_eps = r.number("rms_norm_eps", 1e-6);
        c.rope_base = r.number("rope_theta", 10000.0);
        c.tied_head = r.boolean("tie_word_embeddings", false);
        c.position = nn::PositionEncoding::rope;
        c.rope_layout = ops::RopeLayout::half;
        c.norm = nn::NormKind::rmsnorm;
        c.mlp = nn::MlpKind::swiglu;
        c.dropout = 0.0;
        c.bias = r.boolean("attention_bias", false);
        if (r.boolean("mlp_bias", false) != c.bias)
            r.fail("attention_bias and mlp_bias differ (ouro has biases on all layers or none)");
        const std::string act = r.string("hidden_act", "silu");
        if (act != "silu")
            r.fail("hidden_act '" + act + "' is not supported (silu)");
        // transformers 5 keeps RoPE's settings in rope_parameters (rope_scaling is its old name).
        for (const char* key : {"rope_scaling", "rope_parameters"})
            if (r.present(key))
                c.rope_base = default_rope(j, key, c.rope_base, r);
        if (r.present("head_dim") && c.n_head > 0 &&
            r.integer("head_dim", 0) * c.n_head != c.n_embd)
            r.fail("head_dim " + std::to_string(r.integer("head_dim", 0)) +
                   " is not hidden_size / num_attention_heads");
    } else {
        r.fail("model_type '" + type + "' is not supported (gpt2, llama)");
    }
    try {
        c.validate();
    } catch (const ConfigError& e) {
        r.fail(e.what());
    }
    return p;
}

nlohmann::ordered_json config_json(const nn::GPTConfig& c, HfArchitecture arch,
                                   const detail::HfSpecialIds& ids) {
    nlohmann::ordered_json j;
    j["architectures"] = {to_string(arch)};
    if (arch == HfArchitecture::gpt2) {
        j["model_type"] = "gpt2";
        j["vocab_size"] = c.vocab_size;
        j["n_positions"] = c.block_size;
        j["n_ctx"] = c.block_size;
        j["n_embd"] = c.n_embd;
        j["n_layer"] = c.n_layer;
        j["n_head"] = c.n_head;
        j["n_inner"] = c.hidden_size() == 4 * c.n_embd ? nlohmann::ordered_json()
                                                       : nlohmann::ordered_json(c.hidden_size());
        j["activation_function"] = "gelu_new";
        j["layer_norm_epsilon"] = c.norm_eps;
        j["resid_pdrop"] = c.dropout;
        j["embd_pdrop"] = c.dropout;
        j["attn_pdrop"] = 0.0;
        j["scale_attn_weights"] = true;
        j["scale_attn_by_inverse_layer_idx"] = false;
        j["reorder_and_upcast_attn"] = false;
    } else {
        j["model_type"] = "llama";
        j["vocab_size"] = c.vocab_size;
        j["hidden_size"] = c.n_embd;
        j["intermediate_size"] = c.hidden_size();
        j["num_hidden_layers"] = c.n_layer;
        j["num_attention_heads"] = c.n_head;
        j["num_key_value_heads"] = c.kv_heads();
        j["head_dim"] = c.head_size();
        j["hidden_act"] = "silu";
        j["max_position_embeddings"] = c.block_size;
        j["rms_norm_eps"] = c.norm_eps;
        j["rope_theta"] = c.rope_base;
        // transformers 5 reads rope_parameters; 4 reads rope_theta.
        j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", c.rope_base}};
        j["attention_bias"] = c.bias;
        j["mlp_bias"] = c.bias;
        j["attention_dropout"] = 0.0;
        j["pretraining_tp"] = 1;
    }
    j["tie_word_embeddings"] = c.tied_head;
    j["initializer_range"] = 0.02;
    j["use_cache"] = true;
    j["torch_dtype"] = "float32";
    if (ids.bos)
        j["bos_token_id"] = *ids.bos;
    if (ids.eos)
        j["eos_token_id"] = *ids.eos;
    return j;
}

} // namespace

const char* to_string(HfArchitecture a) {
    return a == HfArchitecture::gpt2 ? "GPT2LMHeadModel" : "LlamaForCausalLM";
}

HfArchitecture hf_architecture(const nn::GPTConfig& c) {
    if (c.position == nn::PositionEncoding::learned && c.norm == nn::NormKind::layernorm &&
        c.mlp == nn::MlpKind::gelu && c.bias && c.kv_heads() == c.n_head)
        return HfArchitecture::gpt2;
    if (c.position == nn::PositionEncoding::rope && c.norm == nn::NormKind::rmsnorm &&
        c.mlp == nn::MlpKind::swiglu)
        return HfArchitecture::llama;
    throw ConfigError(std::string("Hugging Face: no architecture holds this model (position '") +
                      nn::to_string(c.position) + "', norm '" + nn::to_string(c.norm) + "', mlp '" +
                      nn::to_string(c.mlp) + "', bias " + (c.bias ? "on" : "off") + ", " +
                      std::to_string(c.kv_heads()) + " of " + std::to_string(c.n_head) +
                      " heads for keys and values): GPT2LMHeadModel needs learned positions, "
                      "LayerNorm, GELU, biases and n_kv_head = n_head; LlamaForCausalLM needs "
                      "RoPE, RMSNorm and SwiGLU");
}

std::unique_ptr<nn::GPT<float>> with_rope_layout(const nn::GPT<float>& model,
                                                 ops::RopeLayout layout) {
    nn::GPTConfig c = model.config;
    if (c.position != nn::PositionEncoding::rope)
        throw ConfigError(std::string("with_rope_layout: the model has position '") +
                          nn::to_string(c.position) + "', not rope");
    const bool permute = c.rope_layout != layout;
    c.rope_layout = layout;
    auto out = std::make_unique<nn::GPT<float>>(c, nn::Init::zeros()); // every weight copied
    const auto from = model.named_parameters();
    const auto to = out->named_parameters();
    for (std::size_t i = 0; i < to.size(); ++i) {
        Var<float> dst = to[i].second;
        dst.value() = from[i].second.value();
        if (permute && to[i].first.find("attn.c_attn.") != std::string::npos) {
            TensorF& t = dst.value();
            const std::int64_t cols = t.rank() == 2 ? t.dim(1) : 1;
            permute_heads(t, cols, 0, c.n_head, c.head_size(), layout);            // queries
            permute_heads(t, cols, c.n_embd, c.kv_heads(), c.head_size(), layout); // keys
        }
    }
    return out;
}

bool is_hf_folder(const std::filesystem::path& path) {
    std::error_code ec;
    return fs::is_directory(path, ec) && fs::is_regular_file(path / "config.json", ec);
}

void export_hf(const std::filesystem::path& dir, const nn::GPT<float>& model,
               const data::Tokenizer* tokenizer) {
    const nn::GPTConfig& c = model.config;
    const HfArchitecture arch = hf_architecture(c);
    if (tokenizer && tokenizer->vocab_size() != c.vocab_size)
        throw ConfigError("Hugging Face: the tokenizer has " +
                          std::to_string(tokenizer->vocab_size()) +
                          " tokens, but the model's vocabulary is " + std::to_string(c.vocab_size));
    // HF's Llama rotates halves: an interleaved model is written with permuted q and k rows.
    std::unique_ptr<nn::GPT<float>> permuted;
    if (arch == HfArchitecture::llama && c.rope_layout != ops::RopeLayout::half)
        permuted = with_rope_layout(model, ops::RopeLayout::half);
    const nn::GPT<float>& m = permuted ? *permuted : model;

    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw IoError(dir.string() + ": cannot create directory: " + ec.message());
    SafetensorsWriter w;
    w.set_metadata("format", "pt"); // transformers refuses safetensors without it
    const std::string prefix = arch == HfArchitecture::gpt2 ? "transformer." : "model.";
    for (const Slice& s : slices(m.config, arch, prefix))
        w.add(s.hf, cut(m.parameter(s.ouro).value(), s));
    w.write((dir / "model.safetensors").string());

    const detail::HfSpecialIds ids =
        tokenizer ? detail::hf_special_ids(*tokenizer) : detail::HfSpecialIds{};
    write_file_atomic(dir / "config.json", config_json(c, arch, ids).dump(2) + "\n");
    if (tokenizer) {
        detail::write_generation_config(dir, ids);
        detail::write_hf_tokenizer(dir, *tokenizer, c.block_size);
    }
}

HfModel import_hf(const std::filesystem::path& dir) {
    if (!fs::is_directory(dir))
        throw IoError("import_hf: " + dir.string() + " is not a folder");
    const ParsedConfig p = parse_config(dir / "config.json");
    const fs::path weights = dir / "model.safetensors";
    std::error_code ec;
    if (!fs::exists(weights, ec)) {
        std::string why;
        if (fs::exists(dir / "model.safetensors.index.json", ec))
            why = " (a sharded checkpoint, model.safetensors.index.json, is not supported)";
        else if (fs::exists(dir / "pytorch_model.bin", ec))
            why = " (pytorch_model.bin is not read: save the model with safe_serialization)";
        throw FormatError(dir.string() + ": no model.safetensors" + why);
    }
    const Safetensors f = Safetensors::read(weights.string());
    const nn::GPTConfig& c = p.config;
    // Checked in O(1) against the file first: a config of a billion layers is refused unbuilt.
    detail::expected_parameters(f, c);
    std::string prefix;
    if (p.arch == HfArchitecture::gpt2)
        prefix = f.contains("transformer.wte.weight") ? "transformer." : "";
    else
        prefix = f.contains("model.embed_tokens.weight") ? "model." : "";
    const std::vector<Slice> parts = slices(c, p.arch, prefix);
    std::vector<std::pair<std::string, Shape>> needed;
    for (const Slice& s : parts)
        needed.emplace_back(s.hf, s.hf_shape());
    detail::check_float_tensors(f, needed);

    auto model = std::make_unique<nn::GPT<float>>(c, nn::Init::zeros()); // every weight set below
    for (const Slice& s : parts) {
        Var<float> v = model->parameter(s.ouro);
        const Shape shape = s.hf_shape();
        paste(f.get_float(s.hf, &shape), s, v.value());
    }
    if (p.arch == HfArchitecture::llama) // ouro's and llama2.c's Llama layout
        model = with_rope_layout(*model, ops::RopeLayout::interleaved);
    return {std::move(model), p.arch};
}

} // namespace ouro::io
