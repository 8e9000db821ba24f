// Checkpoints: a safetensors file (see safetensors.hpp) that holds a GPT's weights under their
// module names, optionally the AdamW moments ("optimizer.exp_avg.<name>",
// "optimizer.exp_avg_sq.<name>"), and in its metadata the model config, the step, the RNG state,
// the data loader's position, the tokenizer's identity and whatever else the training program
// keeps there (its settings), so that a run resumed from it continues bit-exactly. Files are
// written atomically.
#pragma once

#include "ouro/io/dtype.hpp"
#include "ouro/io/safetensors.hpp"
#include "ouro/nn/gpt.hpp"
#include "ouro/optim/adamw.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace ouro::io {

/// What a training run needs besides tensors to continue exactly where it stopped.
struct TrainingState {
    std::int64_t step = 0;       ///< optimizer steps completed
    std::uint64_t rng_state = 0; ///< state of the run's Rng (dropout, sampling)
    std::string data_position;   ///< the batch loader's position (its own JSON text)
    std::string tokenizer;       ///< identity of the tokenizer the model was trained with
    /// The training program's own entries, stored as metadata of the file under their keys and
    /// read back unchanged (every metadata key that is not one of checkpoint_metadata_keys()).
    /// The train program keeps its settings as JSON under "train_config"; load_model_bundle
    /// finds a model's tokenizer in the "data_dir" those settings name.
    std::map<std::string, std::string> metadata;

    /// The metadata value of `key`, or "" when there is none.
    std::string metadata_value(const std::string& key) const {
        const auto it = metadata.find(key);
        return it == metadata.end() ? std::string() : it->second;
    }
};

/// The metadata keys of the checkpoint format itself ("format", "config", "step", ...), which
/// TrainingState::metadata cannot use.
std::span<const std::string_view> checkpoint_metadata_keys();

/// The config as a JSON object text, and back. from_json throws FormatError naming `source`
/// and the bad field.
std::string config_to_json(const nn::GPTConfig& config);
nn::GPTConfig config_from_json(const std::string& json, const std::string& source);

/// Writes model weights (as `weights_dtype`: F32, F16 or BF16 for float models; F64 or F32 for
/// double), the optimizer state when `optimizer` is given, and `state`. Atomic; throws IoError,
/// and ConfigError when a key of state.metadata is one of the format's own
/// ("save_checkpoint: metadata key 'step' is one of the checkpoint format's own keys").
template <typename T>
void save_checkpoint(const std::string& path, const nn::GPT<T>& model,
                     std::type_identity_t<const optim::AdamW<T>*> optimizer,
                     const TrainingState& state,
                     DType weights_dtype = sizeof(T) == 4 ? DType::F32 : DType::F64);

/// A checkpoint file opened and validated, before any model is built.
struct Checkpoint {
    Safetensors file;
    nn::GPTConfig config;
    TrainingState state;
    bool has_optimizer = false;

    /// Reads `path`; throws IoError / FormatError naming the file (not a checkpoint, bad
    /// config, missing fields). Every weight the config implies is checked to be present with its
    /// shape and a float dtype before this returns, so build_model never allocates for a file
    /// that cannot fill it:
    ///   "<path>: the config needs 1200000003 weight tensors (n_layer = 100000000), but the file
    ///    holds 0", "<path>: tensor 'transformer.wpe.weight' is (4, 16), but the config needs
    ///    (8, 16)", "<path>: no tensor 'transformer.ln_f.bias', which the config needs as (16)".
    static Checkpoint read(const std::string& path);

    /// A model with this checkpoint's config and weights. Throws FormatError when a weight is
    /// missing or has the wrong shape.
    template <typename T> std::unique_ptr<nn::GPT<T>> build_model() const;
    /// Copies the weights into an existing model of the same config.
    template <typename T> void load_weights(nn::GPT<T>& model) const;
    /// Restores the AdamW moments and step count. Throws FormatError when the checkpoint has no
    /// optimizer state or it does not match the optimizer's parameters.
    template <typename T> void load_optimizer(optim::AdamW<T>& optimizer) const;
};

} // namespace ouro::io
