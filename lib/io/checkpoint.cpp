// Checkpoint writing and reading: tensors by module name, everything else in the metadata.
#include "ouro/io/checkpoint.hpp"

#include "tensor_checks.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <string>

namespace ouro::io {
namespace {

constexpr const char* checkpoint_format = "ouro-checkpoint";
constexpr const char* checkpoint_version = "1";
constexpr std::array<std::string_view, 9> own_metadata_keys = {
    "format",        "format_version", "config",          "step", "rng_state",
    "data_position", "tokenizer",      "optimizer_steps", "adamw"};

std::string exp_avg_name(const std::string& p) {
    return "optimizer.exp_avg." + p;
}
std::string exp_avg_sq_name(const std::string& p) {
    return "optimizer.exp_avg_sq." + p;
}

template <typename T>
void add_tensor(SafetensorsWriter& w, const std::string& name, const Tensor<T>& t, DType as) {
    w.add(name, t, as);
}

std::int64_t parse_int(const Safetensors& f, const std::string& key) {
    const std::string& s = f.metadata(key);
    try {
        std::size_t used = 0;
        const long long v = std::stoll(s, &used);
        if (used == s.size())
            return v;
    } catch (const std::exception&) {
    }
    throw FormatError(f.source() + ": metadata '" + key + "' is not an integer: '" + s + "'");
}

// Every weight the config implies must be in the file with its shape and a float dtype. Checked
// on reading, before any model is built: a small file with a huge config is refused at once, not
// after allocating it. (The AdamW moments go into an optimizer that exists already, which may
// hold a subset of the parameters; load_optimizer checks them against it.)
void validate_tensors(const Checkpoint& c) {
    detail::check_float_tensors(c.file, detail::expected_parameters(c.file, c.config));
}

} // namespace

std::string config_to_json(const nn::GPTConfig& c) {
    nlohmann::ordered_json j;
    j["vocab_size"] = c.vocab_size;
    j["block_size"] = c.block_size;
    j["n_layer"] = c.n_layer;
    j["n_head"] = c.n_head;
    j["n_embd"] = c.n_embd;
    j["dropout"] = c.dropout;
    j["bias"] = c.bias;
    j["position"] = nn::to_string(c.position);
    j["rope_base"] = c.rope_base;
    j["rope_layout"] = nn::to_string(c.rope_layout);
    j["n_kv_head"] = c.kv_heads();
    j["norm"] = nn::to_string(c.norm);
    j["norm_eps"] = c.norm_eps;
    j["mlp"] = nn::to_string(c.mlp);
    j["mlp_hidden"] = c.hidden_size();
    j["tied_head"] = c.tied_head;
    return j.dump();
}

nn::GPTConfig config_from_json(const std::string& json, const std::string& source) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        throw FormatError(source + ": model config is not valid JSON: " + e.what());
    }
    if (!j.is_object())
        throw FormatError(source + ": model config is not a JSON object");
    nn::GPTConfig c;
    auto integer = [&](const char* key, std::int64_t& out) {
        if (!j.contains(key) || !j[key].is_number_integer())
            throw FormatError(source + ": model config field '" + key +
                              "' is missing or not an integer");
        out = j[key].get<std::int64_t>();
    };
    integer("vocab_size", c.vocab_size);
    integer("block_size", c.block_size);
    integer("n_layer", c.n_layer);
    integer("n_head", c.n_head);
    integer("n_embd", c.n_embd);
    if (j.contains("dropout") && j["dropout"].is_number())
        c.dropout = j["dropout"].get<double>();
    if (j.contains("bias") && j["bias"].is_boolean())
        c.bias = j["bias"].get<bool>();
    if (j.contains("rope_base") && j["rope_base"].is_number())
        c.rope_base = j["rope_base"].get<double>();
    if (j.contains("norm_eps") && j["norm_eps"].is_number())
        c.norm_eps = j["norm_eps"].get<double>();
    if (j.contains("tied_head") && j["tied_head"].is_boolean())
        c.tied_head = j["tied_head"].get<bool>();
    // Fields added with the Llama family; a checkpoint written before them is a GPT-2 block.
    if (j.contains("n_kv_head"))
        integer("n_kv_head", c.n_kv_head);
    if (j.contains("mlp_hidden"))
        integer("mlp_hidden", c.mlp_hidden);
    const auto name = [&](const char* key) -> std::optional<std::string> {
        if (!j.contains(key))
            return std::nullopt;
        if (!j[key].is_string())
            throw FormatError(source + ": model config field '" + key + "' is not a string");
        return j[key].get<std::string>();
    };
    try {
        if (const auto v = name("position"))
            c.position = nn::parse_position_encoding(*v);
        if (const auto v = name("rope_layout"))
            c.rope_layout = nn::parse_rope_layout(*v);
        if (const auto v = name("norm"))
            c.norm = nn::parse_norm_kind(*v);
        if (const auto v = name("mlp"))
            c.mlp = nn::parse_mlp_kind(*v);
        c.validate();
    } catch (const ConfigError& e) {
        throw FormatError(source + ": " + e.what());
    }
    return c;
}

template <typename T>
void save_checkpoint(const std::string& path, const nn::GPT<T>& model,
                     std::type_identity_t<const optim::AdamW<T>*> optimizer,
                     const TrainingState& state, DType weights_dtype) {
    for (const auto& [key, value] : state.metadata)
        if (std::find(own_metadata_keys.begin(), own_metadata_keys.end(), key) !=
            own_metadata_keys.end())
            throw ConfigError("save_checkpoint: metadata key '" + key +
                              "' is one of the checkpoint format's own keys");
    SafetensorsWriter w;
    w.set_metadata("format", checkpoint_format);
    w.set_metadata("format_version", checkpoint_version);
    w.set_metadata("config", config_to_json(model.config));
    w.set_metadata("step", std::to_string(state.step));
    w.set_metadata("rng_state", std::to_string(state.rng_state));
    w.set_metadata("data_position", state.data_position);
    w.set_metadata("tokenizer", state.tokenizer);
    for (const auto& [key, value] : state.metadata)
        w.set_metadata(key, value);
    for (auto& [name, p] : model.named_parameters())
        add_tensor(w, name, p.value(), weights_dtype);
    if (optimizer) {
        // Moments are stored at full precision whatever the weights' dtype: resuming must be exact.
        const DType full = sizeof(T) == 4 ? DType::F32 : DType::F64;
        const optim::AdamW<T>& opt = *optimizer;
        for (std::size_t i = 0; i < opt.parameters().size(); ++i) {
            const std::string& name = opt.parameters()[i].first;
            add_tensor(w, exp_avg_name(name), opt.exp_avg(i), full);
            add_tensor(w, exp_avg_sq_name(name), opt.exp_avg_sq(i), full);
        }
        w.set_metadata("optimizer_steps", std::to_string(opt.steps()));
        nlohmann::ordered_json a;
        a["beta1"] = opt.config().beta1;
        a["beta2"] = opt.config().beta2;
        a["eps"] = opt.config().eps;
        a["weight_decay"] = opt.config().weight_decay;
        w.set_metadata("adamw", a.dump());
    }
    w.write(path);
}

std::span<const std::string_view> checkpoint_metadata_keys() {
    return own_metadata_keys;
}

Checkpoint Checkpoint::read(const std::string& path) {
    Checkpoint c{Safetensors::read(path), {}, {}, false};
    const Safetensors& f = c.file;
    const auto& meta = f.metadata();
    auto format = meta.find("format");
    if (format == meta.end() || format->second != checkpoint_format)
        throw FormatError(
            path + ": not an ouro checkpoint (metadata 'format' is " +
            (format == meta.end() ? std::string("missing") : "'" + format->second + "'") + ")");
    if (f.metadata("format_version") != checkpoint_version)
        throw FormatError(path + ": checkpoint format version '" + f.metadata("format_version") +
                          "' is not supported (expected " + checkpoint_version + ")");
    c.config = config_from_json(f.metadata("config"), path);
    c.state.step = parse_int(f, "step");
    const std::string& rng = f.metadata("rng_state");
    try {
        std::size_t used = 0;
        c.state.rng_state = std::stoull(rng, &used);
        if (used != rng.size())
            throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
        throw FormatError(path + ": metadata 'rng_state' is not an unsigned integer: '" + rng +
                          "'");
    }
    auto get = [&](const char* key) {
        auto it = meta.find(key);
        return it == meta.end() ? std::string() : it->second;
    };
    c.state.data_position = get("data_position");
    c.state.tokenizer = get("tokenizer");
    for (const auto& [key, value] : meta)
        if (std::find(own_metadata_keys.begin(), own_metadata_keys.end(), key) ==
            own_metadata_keys.end())
            c.state.metadata.emplace(key, value);
    c.has_optimizer = meta.count("optimizer_steps") != 0;
    validate_tensors(c);
    return c;
}

template <typename T> void Checkpoint::load_weights(nn::GPT<T>& model) const {
    for (auto& [name, p] : model.named_parameters()) {
        Var<T> q = p;
        q.value() = file.get<T>(name, &p.shape());
    }
}

template <typename T> std::unique_ptr<nn::GPT<T>> Checkpoint::build_model() const {
    // Zeros: every value is overwritten by the checkpoint's.
    auto model = std::make_unique<nn::GPT<T>>(config, nn::Init::zeros());
    load_weights(*model);
    return model;
}

template <typename T> void Checkpoint::load_optimizer(optim::AdamW<T>& optimizer) const {
    if (!has_optimizer)
        throw FormatError(file.source() + ": checkpoint has no optimizer state (weights only)");
    for (std::size_t i = 0; i < optimizer.parameters().size(); ++i) {
        const auto& [name, p] = optimizer.parameters()[i];
        optimizer.exp_avg(i) = file.get<T>(exp_avg_name(name), &p.shape());
        optimizer.exp_avg_sq(i) = file.get<T>(exp_avg_sq_name(name), &p.shape());
    }
    optimizer.set_steps(parse_int(file, "optimizer_steps"));
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void save_checkpoint<T>(const std::string&, const nn::GPT<T>&,                        \
                                     const optim::AdamW<T>*, const TrainingState&, DType);         \
    template std::unique_ptr<nn::GPT<T>> Checkpoint::build_model<T>() const;                       \
    template void Checkpoint::load_weights<T>(nn::GPT<T>&) const;                                  \
    template void Checkpoint::load_optimizer<T>(optim::AdamW<T>&) const;
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::io
