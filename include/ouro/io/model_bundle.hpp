// A trained model ready for sampling: its weights and config together with the tokenizer it was
// trained with, checked against each other. Sampling programs and the collapse lab open models
// through this, so a checkpoint paired with the wrong tokenizer is an error with both names in it
// rather than fluent nonsense.
//
// The model's format is read from its contents, never from its name: an ouro checkpoint
// (safetensors with ouro's metadata), a llama2.c model (io/llama2c.hpp), an llm.c model
// (io/gpt2_formats.hpp) or a Hugging Face folder (io/hugging_face.hpp). The tokenizer is a folder
// with vocab.json + merges.txt (GPT-2's byte-level BPE) or a llama2.c tokenizer.bin.
#pragma once

#include "ouro/data/tokenizer.hpp"
#include "ouro/io/checkpoint.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace ouro::io {

/// Where a model came from.
enum class ModelFormat { ouro_checkpoint, llama2c, llmc, hugging_face };

struct ModelBundle {
    std::unique_ptr<nn::GPT<float>> model; ///< float weights (16-bit or int8 files are widened)
    data::Tokenizer tokenizer;
    nn::GPTConfig config;
    TrainingState state;       ///< step, tokenizer identity and training settings of the run
    std::string checkpoint;    ///< the model file's path, for messages
    std::string tokenizer_dir; ///< the tokenizer's path (folder or file), for messages
    ModelFormat format = ModelFormat::ouro_checkpoint;
};

/// "ouro checkpoint", "llama2.c model", "llm.c model", "Hugging Face folder".
const char* to_string(ModelFormat f);

/// The format of the model at `path`, from its contents: a folder holding config.json is a
/// Hugging Face folder, a folder holding an ouro checkpoint as model.safetensors (a sampling
/// bundle, as `lab bundle` and `convert --to bundle` write) is that checkpoint; a file is told by
/// its header. Throws IoError when it cannot be read and FormatError when it is none of these:
///   "<path>: not a model file: neither an ouro checkpoint (safetensors), a llama2.c model nor an
///    llm.c model"
///   "<path>: a folder that holds neither config.json (a Hugging Face folder) nor
///    model.safetensors (a sampling bundle)"
ModelFormat detect_model_format(const std::filesystem::path& path);

/// A model read from any of the formats, as float weights.
struct LoadedModel {
    std::unique_ptr<nn::GPT<float>> model;
    ModelFormat format = ModelFormat::ouro_checkpoint;
    TrainingState state; ///< what an ouro checkpoint records (empty for the other formats)
};

/// Reads the model at `path` (detect_model_format, then the format's reader; their IoError and
/// FormatError pass through).
LoadedModel load_model(const std::filesystem::path& path);

/// Where the tokenizer of the model at `checkpoint` is when none is given, the rule every program
/// follows: vocab.json + merges.txt beside it (its folder), or llama2.c's tokenizer.bin beside a
/// llama2.c model (that file), else, for an ouro checkpoint, a tokenizer.bin beside it (its
/// folder) or the data folder that a checkpoint of examples/train records in its settings
/// ("data_dir") when that folder holds vocab.json or tokenizer.bin. A returned folder is what
/// data::Tokenizer::load_any reads. Throws ConfigError saying where it looked:
///   "no tokenizer for runs/x/ckpt.safetensors: looked for runs/x/vocab.json or tokenizer.bin and
///    the data folder it records (data/ts4k/vocab.json or tokenizer.bin); pass --tokenizer"
/// A Hugging Face folder or a bundle's folder gives itself when it holds vocab.json or
/// tokenizer.bin (ouro does not read a tokenizer.json alone), and an llm.c model its folder when
/// it holds vocab.json.
/// A missing checkpoint gives its folder (the loader then reports the checkpoint).
std::filesystem::path find_tokenizer(const std::filesystem::path& checkpoint);

/// Reads the model and the tokenizer (data::Tokenizer::load_any: a folder or a tokenizer.bin) and
/// checks that they belong together. Throws IoError / FormatError from either reader, and
/// FormatError:
///   "<checkpoint>: trained with tokenizer 'bpe:4096:…', but <dir> holds 'bpe:2048:…' (pass the
///    tokenizer folder the model was trained with)"
/// when the checkpoint records a tokenizer identity (data::tokenizer_identity) that differs, and
///   "<checkpoint>: the model has a vocabulary of 4096 tokens, but the tokenizer in <dir> has 2048"
/// when it records none and the sizes differ.
ModelBundle load_model_bundle(const std::filesystem::path& checkpoint,
                              const std::filesystem::path& tokenizer);

} // namespace ouro::io
