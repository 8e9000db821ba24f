// Starting a new run from a trained model (train --init): an ouro checkpoint, a llama2.c model
// (Karpathy's tinyllamas), an llm.c model or a Hugging Face folder (GPT-2, Llama), told apart by
// their contents. Only the weights and the config are
// taken; the run itself is new (step 0, fresh AdamW moments, its own schedule and data order).
// The context may be shortened, and lengthened where no position embedding was learned (RoPE and
// ALiBi compute positions; a learned embedding has no row past its block_size).
#pragma once

#include <ouro/io/model_bundle.hpp>
#include <ouro/nn/gpt.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace ouro::train {

/// A model read for --init, as stored.
struct InitModel {
    std::string path;
    std::unique_ptr<nn::GPT<float>> model;
    io::ModelFormat format = io::ModelFormat::ouro_checkpoint;
    std::string tokenizer; ///< the identity an ouro checkpoint records ("" for other formats)
    /// The model's own tokenizer, found as sample finds it (io::find_tokenizer: beside the model,
    /// or the data folder a checkpoint records): its file (vocab.json or tokenizer.bin) and its
    /// identity (data::tokenizer_identity); both "" when the model has none that can be found.
    std::string tokenizer_file;
    std::string tokenizer_found;
};

/// Reads the model at `path` (io::load_model; its IoError / FormatError pass through) and looks
/// for its tokenizer (io::find_tokenizer); a tokenizer found there but unreadable throws what
/// data::Tokenizer::load_any throws.
InitModel read_init_model(const std::string& path);

/// The config a run from `init` trains: the model's own, with `block_size` when it is positive and
/// `dropout` when it is not negative. Throws ConfigError for a context longer than a learned
/// position embedding: "--block-size 64 is longer than the 32 positions that <path> learned (a
/// learned position embedding has no row past them; RoPE and ALiBi models may lengthen)".
nn::GPTConfig init_config(const InitModel& init, std::int64_t block_size, double dropout);

/// A model of `config` (from init_config) holding init's weights; a learned position embedding
/// keeps its first config.block_size rows.
std::unique_ptr<nn::GPT<float>> adapt_init_model(const InitModel& init,
                                                 const nn::GPTConfig& config);

/// Checks that the data fits the model: the same vocabulary size, the same tokenizer identity
/// when an ouro checkpoint records one, and otherwise (tokenized data only) the same tokenizer as
/// the one found beside the model. `data` names the data in messages ("the tokenizer of data/ts",
/// or "the synthetic stream" when `synthetic`). Throws ConfigError:
///   "--init models/stories260K.bin has a vocabulary of 512 tokens, but the tokenizer of
///    data/ts105 has 105 (prepare the data with the model's tokenizer: prepare --tokenizer)"
///   (with "prepare --tokenizer models/tokenizer.bin" when the model's tokenizer was found)
///   "--init runs/syn/ckpt-000100.safetensors has a vocabulary of 64 tokens, but the synthetic
///    stream has 100 (set --synthetic-vocab 64)"
///   "--init runs/x/ckpt-000100.safetensors was trained with tokenizer 'bpe:512:...', but the
///    tokenizer of data/y is 'bpe:512:...'"
///   "--init models/stories260K.bin comes with the tokenizer models/tokenizer.bin
///    ('llama2c:512:...'), but the tokenizer of data/y is 'bpe:512:...' (prepare the data with
///    the model's tokenizer: prepare --tokenizer models/tokenizer.bin)"
void check_init_data(const InitModel& init, std::int64_t vocab_size,
                     const std::string& tokenizer_id, const std::string& data, bool synthetic);

} // namespace ouro::train
