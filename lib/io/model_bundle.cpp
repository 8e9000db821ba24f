// Opening a model with its tokenizer: the model's format told from its contents, both read, then
// matched by identity and size.
#include "ouro/io/model_bundle.hpp"

#include "ouro/core/error.hpp"
#include "ouro/core/file_checks.hpp"
#include "ouro/io/gpt2_formats.hpp"
#include "ouro/io/hugging_face.hpp"
#include "ouro/io/llama2c.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>

namespace ouro::io {

const char* to_string(ModelFormat f) {
    switch (f) {
    case ModelFormat::llama2c:
        return "llama2.c model";
    case ModelFormat::llmc:
        return "llm.c model";
    case ModelFormat::hugging_face:
        return "Hugging Face folder";
    case ModelFormat::ouro_checkpoint:
        break;
    }
    return "ouro checkpoint";
}

ModelFormat detect_model_format(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        if (is_hf_folder(path))
            return ModelFormat::hugging_face;
        if (std::filesystem::exists(path / "model.safetensors", ec) &&
            detect_model_format(path / "model.safetensors") == ModelFormat::ouro_checkpoint)
            return ModelFormat::ouro_checkpoint; // a sampling bundle's folder
        throw FormatError(path.string() +
                          ": a folder that holds neither config.json (a Hugging Face folder) nor "
                          "model.safetensors (a sampling bundle)");
    }
    require_regular_file(path, "model");
    if (is_llama2c_model(path))
        return ModelFormat::llama2c;
    // llm.c: the int32 magic 20240326 opens a 1024-byte header. safetensors: an 8-byte header
    // length, then a JSON object.
    std::ifstream in(path, std::ios::binary);
    char head[9] = {};
    in.read(head, 9);
    std::int32_t magic = 0;
    std::memcpy(&magic, head, 4);
    if (in.gcount() == 9 && magic == 20240326 && std::filesystem::file_size(path, ec) >= 1024)
        return ModelFormat::llmc;
    if (in.gcount() == 9 && head[8] == '{')
        return ModelFormat::ouro_checkpoint;
    throw FormatError(path.string() +
                      ": not a model file: neither an ouro checkpoint (safetensors), a llama2.c "
                      "model nor an llm.c model");
}

LoadedModel load_model(const std::filesystem::path& path) {
    LoadedModel out;
    out.format = detect_model_format(path);
    switch (out.format) {
    case ModelFormat::llama2c:
        out.model = import_llama2c(path).model;
        break;
    case ModelFormat::llmc:
        out.model = import_llmc(path.string());
        break;
    case ModelFormat::hugging_face:
        out.model = import_hf(path).model;
        break;
    case ModelFormat::ouro_checkpoint: {
        std::error_code ec;
        const Checkpoint ckpt = Checkpoint::read(
            (std::filesystem::is_directory(path, ec) ? path / "model.safetensors" : path).string());
        out.model = ckpt.build_model<float>();
        out.state = ckpt.state;
        break;
    }
    }
    return out;
}

namespace {

// Whether `dir` holds a tokenizer that data::Tokenizer::load_any reads as a folder.
bool holds_tokenizer(const std::filesystem::path& dir) {
    std::error_code ec;
    return std::filesystem::exists(dir / "vocab.json", ec) ||
           std::filesystem::exists(dir / "tokenizer.bin", ec);
}

} // namespace

std::filesystem::path find_tokenizer(const std::filesystem::path& checkpoint) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(checkpoint, ec)) { // a Hugging Face folder or a bundle holds its own
        if (holds_tokenizer(checkpoint))
            return checkpoint;
        if (!is_hf_folder(checkpoint))
            return find_tokenizer(checkpoint / "model.safetensors");
        throw ConfigError("no tokenizer for " + checkpoint.string() + ": looked for " +
                          (checkpoint / "vocab.json").string() +
                          " or tokenizer.bin (a tokenizer.json alone is not read); pass "
                          "--tokenizer");
    }
    fs::path dir = checkpoint.parent_path();
    if (dir.empty())
        dir = ".";
    if (fs::exists(dir / "vocab.json", ec) || !fs::is_regular_file(checkpoint, ec))
        return dir;
    const ModelFormat format = detect_model_format(checkpoint);
    if (format == ModelFormat::llama2c) {
        if (fs::exists(dir / "tokenizer.bin", ec))
            return dir / "tokenizer.bin";
        throw ConfigError("no tokenizer for " + checkpoint.string() + ": looked for " +
                          (dir / "tokenizer.bin").string() +
                          "; pass --tokenizer (the llama2.c tokenizer.bin of the model)");
    }
    if (format == ModelFormat::llmc)
        throw ConfigError("no tokenizer for " + checkpoint.string() + ": looked for " +
                          (dir / "vocab.json").string() +
                          "; pass --tokenizer (a folder with GPT-2's vocab.json and merges.txt)");
    if (holds_tokenizer(dir))
        return dir;
    const Checkpoint ckpt = Checkpoint::read(checkpoint.string());
    const auto settings = nlohmann::json::parse(ckpt.state.metadata_value("train_config"), nullptr,
                                                /*allow_exceptions=*/false);
    std::string recorded = "none recorded";
    if (settings.is_object() && settings.contains("data_dir") && settings["data_dir"].is_string()) {
        const fs::path data_dir = settings["data_dir"].get<std::string>();
        if (!data_dir.empty() && holds_tokenizer(data_dir))
            return data_dir;
        recorded = (data_dir / "vocab.json").string() + " or tokenizer.bin";
    }
    throw ConfigError("no tokenizer for " + checkpoint.string() + ": looked for " +
                      (dir / "vocab.json").string() + " or tokenizer.bin and the data folder it " +
                      "records (" + recorded + "); pass --tokenizer");
}

ModelBundle load_model_bundle(const std::filesystem::path& checkpoint,
                              const std::filesystem::path& tokenizer_path) {
    LoadedModel loaded = load_model(checkpoint);
    data::Tokenizer tokenizer = data::Tokenizer::load_any(tokenizer_path);
    const std::string identity = data::tokenizer_identity(tokenizer, tokenizer_path);
    const TrainingState& state = loaded.state;
    if (!state.tokenizer.empty() && state.tokenizer != identity)
        throw FormatError(checkpoint.string() + ": trained with tokenizer '" + state.tokenizer +
                          "', but " + tokenizer_path.string() + " holds '" + identity +
                          "' (pass the tokenizer folder the model was trained with)");
    const std::int64_t V = loaded.model->config.vocab_size;
    if (V != tokenizer.vocab_size())
        throw FormatError(checkpoint.string() + ": the model has a vocabulary of " +
                          std::to_string(V) + " tokens, but the tokenizer " +
                          (loaded.format == ModelFormat::ouro_checkpoint ? "in " : "") +
                          tokenizer_path.string() + " has " +
                          std::to_string(tokenizer.vocab_size()));
    ModelBundle out{std::move(loaded.model), std::move(tokenizer),    {},           loaded.state,
                    checkpoint.string(),     tokenizer_path.string(), loaded.format};
    out.config = out.model->config;
    return out;
}

} // namespace ouro::io
