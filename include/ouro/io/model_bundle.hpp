// A trained model ready for sampling: a checkpoint's weights and config together with the
// tokenizer it was trained with, checked against each other. Sampling programs and the collapse
// lab open models through this, so a checkpoint paired with the wrong tokenizer is an error with
// both names in it rather than fluent nonsense.
#pragma once

#include "ouro/data/tokenizer.hpp"
#include "ouro/io/checkpoint.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace ouro::io {

struct ModelBundle {
    std::unique_ptr<nn::GPT<float>> model; ///< float weights (16-bit checkpoints are widened)
    data::Tokenizer tokenizer;
    nn::GPTConfig config;
    TrainingState state;       ///< step, tokenizer identity and training settings of the run
    std::string checkpoint;    ///< the checkpoint's path, for messages
    std::string tokenizer_dir; ///< the tokenizer folder's path, for messages
};

/// Reads the checkpoint and the tokenizer in `tokenizer_dir` (vocab.json + merges.txt) and checks
/// that they belong together. Throws IoError / FormatError from either reader, and FormatError:
///   "<checkpoint>: trained with tokenizer 'bpe:4096:…', but <dir> holds 'bpe:2048:…' (pass the
///    tokenizer folder the model was trained with)"
/// when the checkpoint records a tokenizer identity (data::tokenizer_identity) that differs, and
///   "<checkpoint>: the model has a vocabulary of 4096 tokens, but the tokenizer in <dir> has 2048"
/// when it records none and the sizes differ.
ModelBundle load_model_bundle(const std::filesystem::path& checkpoint,
                              const std::filesystem::path& tokenizer_dir);

} // namespace ouro::io
