// Reading and adapting the model of train --init; see init_model.hpp.
#include "init_model.hpp"

#include <ouro/core/error.hpp>
#include <ouro/data/tokenizer.hpp>

#include <algorithm>
#include <filesystem>

namespace ouro::train {
namespace {

// What prepare --tokenizer takes: a llama2.c tokenizer.bin, or the folder of vocab.json.
std::string prepare_hint(const InitModel& init) {
    if (init.tokenizer_file.empty())
        return "prepare the data with the model's tokenizer: prepare --tokenizer";
    const std::filesystem::path file = init.tokenizer_file;
    return "prepare the data with the model's tokenizer: prepare --tokenizer " +
           (file.filename() == "vocab.json" ? file.parent_path() : file).string();
}

} // namespace

InitModel read_init_model(const std::string& path) {
    io::LoadedModel loaded = io::load_model(path);
    InitModel init;
    init.path = path;
    init.format = loaded.format;
    init.model = std::move(loaded.model);
    init.tokenizer = loaded.state.tokenizer;
    // The tokenizer the model came with, found the way sample finds it; a model without one
    // (llama2.c's file alone, a run's checkpoint without its data folder) is checked by
    // vocabulary size only.
    std::filesystem::path found;
    try {
        found = io::find_tokenizer(path);
    } catch (const ConfigError&) {
        return init;
    }
    const data::Tokenizer tokenizer = data::Tokenizer::load_any(found);
    init.tokenizer_found = data::tokenizer_identity(tokenizer, found);
    std::error_code ec;
    if (std::filesystem::is_directory(found, ec))
        found /= std::filesystem::exists(found / "vocab.json", ec) ? "vocab.json" : "tokenizer.bin";
    init.tokenizer_file = found.string();
    return init;
}

nn::GPTConfig init_config(const InitModel& init, std::int64_t block_size, double dropout) {
    nn::GPTConfig config = init.model->config;
    if (block_size > 0) {
        if (config.position == nn::PositionEncoding::learned && block_size > config.block_size)
            throw ConfigError("--block-size " + std::to_string(block_size) +
                              " is longer than the " + std::to_string(config.block_size) +
                              " positions that " + init.path +
                              " learned (a learned position embedding has no row past them; "
                              "RoPE and ALiBi models may lengthen)");
        config.block_size = block_size;
    }
    if (dropout >= 0.0)
        config.dropout = dropout;
    return config;
}

std::unique_ptr<nn::GPT<float>> adapt_init_model(const InitModel& init,
                                                 const nn::GPTConfig& config) {
    // Zeros: every value is overwritten below.
    auto model = std::make_unique<nn::GPT<float>>(config, nn::Init::zeros());
    // Same architecture, so the same parameter names in the same order; only the learned
    // position embedding can be shorter: its first rows are positions 0..block_size-1.
    const auto from = init.model->named_parameters();
    const auto to = model->named_parameters();
    for (std::size_t i = 0; i < to.size(); ++i) {
        const auto& [name, dst] = to[i];
        const Var<float>& src = from[i].second;
        const bool fits = name == "transformer.wpe.weight" ? src.numel() >= dst.numel()
                                                           : src.shape() == dst.shape();
        if (from[i].first != name || !fits)
            throw FormatError(init.path + ": parameter '" + name + "' does not fit the config");
        Var<float> out = dst;
        std::copy_n(src.value().data(), dst.numel(), out.value().data());
    }
    return model;
}

void check_init_data(const InitModel& init, std::int64_t vocab_size,
                     const std::string& tokenizer_id, const std::string& data, bool synthetic) {
    const std::int64_t V = init.model->config.vocab_size;
    if (V != vocab_size)
        throw ConfigError("--init " + init.path + " has a vocabulary of " + std::to_string(V) +
                          " tokens, but " + data + " has " + std::to_string(vocab_size) +
                          (synthetic ? " (set --synthetic-vocab " + std::to_string(V) + ")"
                                     : " (" + prepare_hint(init) + ")"));
    if (!init.tokenizer.empty()) {
        if (init.tokenizer != tokenizer_id)
            throw ConfigError("--init " + init.path + " was trained with tokenizer '" +
                              init.tokenizer + "', but " + data + " is '" + tokenizer_id + "'");
        return; // the recorded identity is what the model was trained with
    }
    // A synthetic stream has no tokenizer to compare; its vocabulary size was checked above.
    if (!synthetic && !init.tokenizer_found.empty() && init.tokenizer_found != tokenizer_id)
        throw ConfigError("--init " + init.path + " comes with the tokenizer " +
                          init.tokenizer_file + " ('" + init.tokenizer_found + "'), but " + data +
                          " is '" + tokenizer_id + "' (" + prepare_hint(init) + ")");
}

} // namespace ouro::train
