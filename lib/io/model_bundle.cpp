// Opening a model with its tokenizer: the model's format told from its contents, both read, then
// matched by identity and size.
#include "ouro/io/model_bundle.hpp"

#include "ouro/core/error.hpp"
#include "ouro/core/file_checks.hpp"
#include "ouro/io/llama2c.hpp"

#include <nlohmann/json.hpp>

#include <fstream>

namespace ouro::io {

const char* to_string(ModelFormat f) {
    return f == ModelFormat::llama2c ? "llama2.c model" : "ouro checkpoint";
}

ModelFormat detect_model_format(const std::filesystem::path& path) {
    require_regular_file(path, "model");
    if (is_llama2c_model(path))
        return ModelFormat::llama2c;
    // safetensors: an 8-byte header length, then a JSON object.
    std::ifstream in(path, std::ios::binary);
    char head[9] = {};
    in.read(head, 9);
    if (in.gcount() == 9 && head[8] == '{')
        return ModelFormat::ouro_checkpoint;
    throw FormatError(path.string() +
                      ": not a model file: neither an ouro checkpoint (safetensors) nor a "
                      "llama2.c model");
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
    fs::path dir = checkpoint.parent_path();
    if (dir.empty())
        dir = ".";
    std::error_code ec;
    if (fs::exists(dir / "vocab.json", ec) || !fs::is_regular_file(checkpoint, ec))
        return dir;
    if (detect_model_format(checkpoint) == ModelFormat::llama2c) {
        if (fs::exists(dir / "tokenizer.bin", ec))
            return dir / "tokenizer.bin";
        throw ConfigError("no tokenizer for " + checkpoint.string() + ": looked for " +
                          (dir / "tokenizer.bin").string() +
                          "; pass --tokenizer (the llama2.c tokenizer.bin of the model)");
    }
    if (holds_tokenizer(dir))
        return dir;
    const Checkpoint ckpt = Checkpoint::read(checkpoint.string());
    const auto settings =
        nlohmann::json::parse(ckpt.state.train_config, nullptr, /*allow_exceptions=*/false);
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
    const ModelFormat format = detect_model_format(checkpoint);
    data::Tokenizer tokenizer = data::Tokenizer::load_any(tokenizer_path);
    const std::string identity = data::tokenizer_identity(tokenizer, tokenizer_path);
    ModelBundle out{nullptr, std::move(tokenizer), {},
                    {},      checkpoint.string(),  tokenizer_path.string(),
                    format};
    if (format == ModelFormat::llama2c) {
        out.model = import_llama2c(checkpoint).model;
        out.config = out.model->config;
    } else {
        Checkpoint ckpt = Checkpoint::read(checkpoint.string());
        if (!ckpt.state.tokenizer.empty() && ckpt.state.tokenizer != identity)
            throw FormatError(checkpoint.string() + ": trained with tokenizer '" +
                              ckpt.state.tokenizer + "', but " + tokenizer_path.string() +
                              " holds '" + identity +
                              "' (pass the tokenizer folder the model was trained with)");
        out.config = ckpt.config;
        out.state = ckpt.state;
        if (ckpt.config.vocab_size != out.tokenizer.vocab_size())
            throw FormatError(checkpoint.string() + ": the model has a vocabulary of " +
                              std::to_string(ckpt.config.vocab_size) +
                              " tokens, but the tokenizer in " + tokenizer_path.string() + " has " +
                              std::to_string(out.tokenizer.vocab_size()));
        out.model = ckpt.build_model<float>();
        return out;
    }
    if (out.config.vocab_size != out.tokenizer.vocab_size())
        throw FormatError(checkpoint.string() + ": the model has a vocabulary of " +
                          std::to_string(out.config.vocab_size) + " tokens, but the tokenizer " +
                          tokenizer_path.string() + " has " +
                          std::to_string(out.tokenizer.vocab_size()));
    return out;
}

} // namespace ouro::io
