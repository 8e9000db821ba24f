// Hugging Face GPT-2 safetensors and llm.c checkpoints: name and layout mappings.
#include "ouro/io/gpt2_formats.hpp"

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/checked.hpp"
#include "ouro/core/eigen_view.hpp"
#include "ouro/io/hugging_face.hpp"
#include "ouro/io/safetensors.hpp"

#include "tensor_checks.hpp"

#include <array>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <vector>

namespace ouro::io {
namespace {

// Conv1D layers: GPT-2 stores their weights transposed relative to nn.Linear.
bool is_conv1d_weight(const std::string& name) {
    auto ends_with = [&](const char* s) {
        const std::size_t n = std::strlen(s);
        return name.size() >= n && name.compare(name.size() - n, n, s) == 0;
    };
    return ends_with("attn.c_attn.weight") || ends_with("attn.c_proj.weight") ||
           ends_with("mlp.c_fc.weight") || ends_with("mlp.c_proj.weight");
}

TensorF transposed(const TensorF& t) {
    TensorF out({t.dim(1), t.dim(0)});
    matrix_view(out) = matrix_view(t).transpose();
    return out;
}

void require_gpt2_shape(const nn::GPT<float>& model, const char* what) {
    const nn::GPTConfig& c = model.config;
    if (c.position != nn::PositionEncoding::learned || !c.bias ||
        c.norm != nn::NormKind::layernorm || c.mlp != nn::MlpKind::gelu ||
        c.kv_heads() != c.n_head || c.hidden_size() != 4 * c.n_embd || !c.tied_head)
        throw ConfigError(std::string(what) +
                          ": only GPT-2 shaped models (learned positions, biases, LayerNorm, "
                          "GELU over 4 C, n_kv_head = n_head, tied head) can be written in this "
                          "format; this one has position '" +
                          nn::to_string(c.position) + "', bias " + (c.bias ? "on" : "off") +
                          ", norm '" + nn::to_string(c.norm) + "', mlp '" + nn::to_string(c.mlp) +
                          "' over " + std::to_string(c.hidden_size()) + ", " +
                          std::to_string(c.kv_heads()) + " key/value heads of " +
                          std::to_string(c.n_head) + ", head " +
                          (c.tied_head ? "tied" : "separate"));
}

std::string strip_transformer(const std::string& name) {
    const std::string prefix = "transformer.";
    return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

// The 16 llm.c parameter tensors of layer-stacked model weights, in file order; each entry is a
// list of ouro names whose values are concatenated (one per layer for per-layer tensors).
std::vector<std::vector<std::string>> llmc_layout(std::int64_t L) {
    std::vector<std::vector<std::string>> out;
    out.push_back({"transformer.wte.weight"});
    out.push_back({"transformer.wpe.weight"});
    for (const char* suffix :
         {"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
          "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight",
          "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"}) {
        std::vector<std::string> names;
        for (std::int64_t l = 0; l < L; ++l)
            names.push_back("transformer.h." + std::to_string(l) + "." + suffix);
        out.push_back(names);
    }
    out.push_back({"transformer.ln_f.weight"});
    out.push_back({"transformer.ln_f.bias"});
    return out;
}

constexpr std::int32_t llmc_magic = 20240326;

} // namespace

void export_hf_gpt2(const std::string& directory, const nn::GPT<float>& model) {
    require_gpt2_shape(model, "export_hf_gpt2");
    export_hf(directory, model, nullptr);
}

std::unique_ptr<nn::GPT<float>> import_hf_gpt2(const std::string& path, std::int64_t n_head) {
    const Safetensors f = Safetensors::read(path);
    const std::string prefix = f.contains("transformer.wte.weight") ? "transformer." : "";
    const SafetensorsEntry& wte = f.entry(prefix + "wte.weight");
    const SafetensorsEntry& wpe = f.entry(prefix + "wpe.weight");
    if (wte.shape.rank() != 2 || wpe.shape.rank() != 2 || wte.shape[1] != wpe.shape[1])
        throw FormatError(path + ": wte " + wte.shape.to_string() + " and wpe " +
                          wpe.shape.to_string() + " are not (V, C) and (T, C)");
    nn::GPTConfig c;
    c.vocab_size = wte.shape[0];
    c.n_embd = wte.shape[1];
    c.block_size = wpe.shape[0];
    c.n_head = n_head;
    c.n_layer = 0;
    while (f.contains(prefix + "h." + std::to_string(c.n_layer) + ".ln_1.weight"))
        ++c.n_layer;
    if (c.n_layer == 0)
        throw FormatError(path + ": no transformer blocks (h.0.ln_1.weight)");
    try {
        c.validate();
    } catch (const ConfigError& e) {
        throw FormatError(path + ": " + e.what());
    }
    // Every tensor present with its (stored) shape before the model is allocated.
    std::vector<std::pair<std::string, Shape>> needed = detail::expected_parameters(f, c);
    for (auto& [name, shape] : needed) {
        if (is_conv1d_weight(name))
            shape = Shape{shape[1], shape[0]};
        name = prefix + strip_transformer(name);
    }
    detail::check_float_tensors(f, needed);
    auto model =
        std::make_unique<nn::GPT<float>>(c, nn::Init::zeros()); // every weight is set below
    for (auto& [name, p] : model->named_parameters()) {
        const std::string key = prefix + strip_transformer(name);
        Var<float> q = p;
        if (is_conv1d_weight(name)) {
            const Shape stored{p.shape()[1], p.shape()[0]};
            q.value() = transposed(f.get_float(key, &stored));
        } else {
            q.value() = f.get_float(key, &p.shape());
        }
    }
    return model;
}

void export_llmc(const std::string& path, const nn::GPT<float>& model) {
    require_gpt2_shape(model, "export_llmc");
    const nn::GPTConfig& c = model.config;
    if (c.norm_eps != 1e-5)
        throw ConfigError("export_llmc: llm.c's layer norm epsilon is 1e-5, this model's is " +
                          std::to_string(c.norm_eps));
    const std::int64_t Vp = (c.vocab_size + 127) / 128 * 128;
    std::array<std::int32_t, 256> header{};
    header[0] = llmc_magic;
    header[1] = 3;
    header[2] = std::int32_t(c.block_size);
    header[3] = std::int32_t(c.vocab_size);
    header[4] = std::int32_t(c.n_layer);
    header[5] = std::int32_t(c.n_head);
    header[6] = std::int32_t(c.n_embd);
    header[7] = std::int32_t(Vp);
    AtomicFile out(path);
    out.write(header.data(), sizeof(header));
    for (const auto& group : llmc_layout(c.n_layer))
        for (const std::string& name : group) {
            const TensorF& t = model.parameter(name).value();
            out.write(t.data(), std::size_t(t.numel()) * 4);
            if (name == "transformer.wte.weight") { // zero rows up to the padded vocabulary
                const std::vector<float> pad(std::size_t((Vp - c.vocab_size) * c.n_embd), 0.0f);
                out.write(pad.data(), pad.size() * 4);
            }
        }
    out.commit();
}

std::unique_ptr<nn::GPT<float>> import_llmc(const std::string& path) {
    const std::string bytes = read_file(path, "import_llmc");
    auto fail = [&](const std::string& what) { throw FormatError(path + ": " + what); };
    if (bytes.size() < 1024)
        fail("file is " + std::to_string(bytes.size()) +
             " bytes, shorter than llm.c's 1024-byte header");
    std::array<std::int32_t, 256> h{};
    std::memcpy(h.data(), bytes.data(), 1024);
    if (h[0] != llmc_magic)
        fail("bad magic number " + std::to_string(h[0]) + " (llm.c checkpoints start with " +
             std::to_string(llmc_magic) + ")");
    if (h[1] != 3 && h[1] != 5)
        fail("unsupported llm.c version " + std::to_string(h[1]) +
             " (3 = float32 and 5 = bfloat16 are supported)");
    const std::size_t elem = h[1] == 3 ? 4 : 2;
    for (int i = 2; i <= 7; ++i)
        if (h[std::size_t(i)] <= 0)
            fail("header field " + std::to_string(i) + " is " + std::to_string(h[std::size_t(i)]) +
                 ", must be positive");
    // Header fields 2-6: block size, vocabulary, layers, heads, channels.
    nn::GPTConfig c = nn::GPTConfig::gpt2(h[3], h[2], h[4], h[5], h[6]);
    const std::int64_t Vp = h[7];
    if (Vp < c.vocab_size)
        fail("padded vocabulary " + std::to_string(Vp) + " is smaller than the vocabulary " +
             std::to_string(c.vocab_size));
    try {
        c.validate();
    } catch (const ConfigError& e) {
        fail(e.what());
    }
    // Check the size before allocating anything: a corrupt header must not trigger a huge model,
    // and its products must not wrap (each field is up to 2^31 - 1, so L * 12 * C * C can reach
    // 2^126): every step is checked, and the total compared with the file's real size.
    const std::int64_t C = c.n_embd, L = c.n_layer;
    std::optional<std::int64_t> n_params = 0;
    const auto add = [&](std::initializer_list<std::int64_t> factors) {
        std::optional<std::int64_t> term = 1;
        for (const std::int64_t f : factors)
            term = term ? mul_within(*term, f) : std::nullopt;
        n_params = n_params && term ? checked_add(*n_params, *term) : std::nullopt;
    };
    add({Vp, C});           // wte, padded
    add({c.block_size, C}); // wpe
    add({L, 12, C, C});     // qkvw, attprojw, fcw, fcprojw
    add({L, 13, C});        // ln1w, ln1b, qkvb, attprojb, ln2w, ln2b, fcb, fcprojb
    add({2, C});            // lnfw, lnfb
    const std::optional<std::int64_t> expected =
        n_params ? mul_within(*n_params, std::int64_t(elem)) : std::nullopt;
    const std::optional<std::int64_t> total =
        expected ? checked_add(*expected, std::int64_t(1024)) : std::nullopt;
    if (!total)
        fail("file is " + std::to_string(bytes.size()) +
             " bytes, but its header describes more than 2^63 bytes (maxT " +
             std::to_string(c.block_size) + ", padded V " + std::to_string(Vp) + ", L " +
             std::to_string(L) + ", C " + std::to_string(C) + ")");
    if (std::uint64_t(*total) != bytes.size())
        fail("file is " + std::to_string(bytes.size()) + " bytes, but its header describes " +
             std::to_string(*total) + " (" + std::to_string(*n_params) + " parameters)");

    auto model =
        std::make_unique<nn::GPT<float>>(c, nn::Init::zeros()); // every weight is set below
    std::size_t offset = 1024;
    auto read_into = [&](float* dst, std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i, offset += elem) {
            if (elem == 4) {
                std::memcpy(&dst[i], bytes.data() + offset, 4);
            } else {
                std::uint16_t b;
                std::memcpy(&b, bytes.data() + offset, 2);
                dst[i] = bfloat16_to_float(b);
            }
        }
    };
    for (const auto& group : llmc_layout(L))
        for (const std::string& name : group) {
            Var<float> p = model->parameter(name);
            read_into(p.value().data(), p.numel());
            if (name == "transformer.wte.weight")
                offset += std::size_t((Vp - c.vocab_size) * C) * elem;
        }
    return model;
}

} // namespace ouro::io
