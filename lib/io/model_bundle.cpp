// Opening a checkpoint with its tokenizer: both read, then matched by identity and size.
#include "ouro/io/model_bundle.hpp"

#include "ouro/core/error.hpp"

namespace ouro::io {

ModelBundle load_model_bundle(const std::filesystem::path& checkpoint,
                              const std::filesystem::path& tokenizer_dir) {
    Checkpoint ckpt = Checkpoint::read(checkpoint.string());
    data::Tokenizer tokenizer = data::Tokenizer::load(tokenizer_dir);
    const std::string identity = data::tokenizer_identity(tokenizer, tokenizer_dir);
    if (!ckpt.state.tokenizer.empty() && ckpt.state.tokenizer != identity)
        throw FormatError(checkpoint.string() + ": trained with tokenizer '" +
                          ckpt.state.tokenizer + "', but " + tokenizer_dir.string() + " holds '" +
                          identity + "' (pass the tokenizer folder the model was trained with)");
    if (ckpt.config.vocab_size != tokenizer.vocab_size())
        throw FormatError(checkpoint.string() + ": the model has a vocabulary of " +
                          std::to_string(ckpt.config.vocab_size) +
                          " tokens, but the tokenizer in " + tokenizer_dir.string() + " has " +
                          std::to_string(tokenizer.vocab_size()));
    std::unique_ptr<nn::GPT<float>> model = ckpt.build_model<float>();
    return ModelBundle{std::move(model), std::move(tokenizer), ckpt.config,
                       ckpt.state,       checkpoint.string(),  tokenizer_dir.string()};
}

} // namespace ouro::io
