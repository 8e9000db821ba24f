// The training loop of examples/train: a GPT on token shards with AdamW, warmup + cosine learning
// rate, gradient accumulation and clipping, periodic validation, samples and checkpoints, and a
// CSV or JSONL log. Everything that decides the next step (weights, AdamW moments, step, the
// dropout Rng, the data loader's position) is stored in each checkpoint, so a run resumed from one
// continues bit-exactly as if it had never stopped.
#pragma once

#include "run_folder.hpp"

#include <ouro/core/thread_chooser.hpp>
#include <ouro/data/batch_loader.hpp>
#include <ouro/data/tokenizer.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/nn/gpt.hpp>
#include <ouro/optim/adamw.hpp>
#include <ouro/optim/lr_schedule.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace ouro::train {

/// Every setting of a run. Saved in each checkpoint (as JSON) and restored on --resume.
struct TrainSettings {
    // Data: a folder made by examples/prepare (train.bin, val.bin, and vocab.json + merges.txt or
    // llama2.c's tokenizer.bin), or a synthetic stream (for tests and quick checks; written to
    // <out>/synthetic-*.bin).
    std::string data_dir;
    bool synthetic = false;
    std::int64_t synthetic_vocab = 64;

    /// A model to start from (train --init): an ouro checkpoint or a llama2.c model, told apart
    /// by its contents. The run is new (step 0, fresh AdamW); only the weights and the config
    /// come from it. Its config replaces `model`, except model.block_size when it is positive (a
    /// shorter context; longer only without learned positions) and model.dropout when it is not
    /// negative. Checkpoints record the path and the config actually used.
    std::string init;

    nn::GPTConfig model = nn::GPTConfig::xs(); ///< vocab_size comes from the tokenizer
    std::int64_t batch_size = 32;
    std::int64_t grad_accum = 1; ///< micro-batches per optimizer step
    std::int64_t steps = 1000;   ///< total optimizer steps
    double lr = 1e-3, min_lr = 1e-4;
    std::int64_t warmup = 100;
    std::int64_t lr_decay_steps = 0; ///< 0: decay over `steps` (fixed at the start of the run)
    double weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95, clip = 1.0;
    std::uint64_t seed = 1337;

    std::int64_t eval_every = 100, eval_batches = 20;
    std::int64_t sample_every = 0, sample_tokens = 64;
    std::int64_t checkpoint_every = 500;
    std::string out_dir = "out";
    std::string log_path;             ///< .csv or .jsonl; empty: <out>/log.csv
    std::int64_t debug_nan_step = -1; ///< makes the loss NaN at this step (tests the NaN guard)
    /// A new run (or one resumed into another folder) may replace the checkpoints and log rows
    /// of another run in out_dir / log_path; without it, it refuses to start. Not saved.
    bool overwrite = false;

    std::string to_json() const;
    /// Throws ConfigError naming the bad field.
    static TrainSettings from_json(const std::string& json);
    /// Throws ConfigError for settings out of range.
    void validate() const;
};

/// One optimizer step's numbers.
struct StepResult {
    std::int64_t step = 0; ///< 1-based number of the step just taken
    double loss = 0.0;     ///< mean over the micro-batches, before the update
    double lr = 0.0, grad_norm = 0.0, tokens_per_second = 0.0;
};

/// Thrown when the loss or the gradient stops being finite; training stops without saving.
class DivergedError : public Error {
public:
    using Error::Error;
};

class Trainer {
public:
    /// A new run. Throws ConfigError / IoError / FormatError for bad settings or data, and
    /// ConfigError when out_dir or the log holds another run and settings.overwrite is false:
    /// "<out> already holds a run (checkpoints up to ckpt-000300.safetensors); continue it with
    /// --resume <out>/ckpt-000300.safetensors, or replace it with --overwrite", or "<log> already
    /// holds another run's log; replace it with --overwrite, or give another --out". Locks
    /// out_dir (see lock_run_folder) and removes the leftovers of a killed run
    /// (remove_leftovers).
    explicit Trainer(TrainSettings settings);
    /// Continues the run saved in `checkpoint`. `adjust` may change the saved settings' length
    /// (steps) and outputs (out_dir, log_path, eval / sample / checkpoint intervals); changes to
    /// anything else are refused with ConfigError, since they would break the continuation.
    /// Resumed in the checkpoint's own folder, the log loses its rows after the checkpoint's step
    /// (they are replayed); in another folder, that folder is checked as for a new run.
    static Trainer resume(const std::string& checkpoint,
                          const std::function<void(TrainSettings&)>& adjust = {});

    /// One optimizer step (grad_accum micro-batches). Throws DivergedError on a NaN/Inf loss.
    /// Unless --threads was given, a step runs with every thread or with one, whichever was
    /// measured faster (core/thread_chooser.hpp): the result is the same either way.
    StepResult step();
    /// Mean validation loss over eval_batches sequential batches of val.bin (dropout off).
    double evaluate();
    /// `tokens` tokens sampled (temperature 1, through gen::decode under the crop policy) after
    /// the story separator (the tokenizer's story_separator(): <|endoftext|>, or llama2.c's BOS),
    /// as text (decode_next, token after token; ids separated by spaces for the synthetic
    /// stream).
    std::string sample(std::int64_t tokens);
    /// Writes <out>/ckpt-<step>.safetensors (atomically, after syncing the log) and returns its
    /// path. Throws IoError naming the file; the checkpoints before it stay as they were.
    std::string save_checkpoint();
    /// The whole run: steps until settings.steps, with logging, eval, samples and checkpoints.
    /// `progress` draws a status line on stderr. First replaces another run's files (overwrite)
    /// and opens the log (see TrainingLog). Throws IoError when the log or a checkpoint cannot
    /// be written.
    void run(bool progress);

    std::int64_t steps_done() const { return step_; }
    const TrainSettings& settings() const { return settings_; }
    nn::GPT<float>& model() { return *model_; }
    data::BatchLoader& train_loader() { return *train_; }

private:
    Trainer(TrainSettings settings, const io::Checkpoint* from);
    void claim_out_dir(const io::Checkpoint* from);
    void open_outputs();
    void log_row(const StepResult& r, std::optional<double> val_loss);

    TrainSettings settings_;
    std::optional<data::Tokenizer> tokenizer_;
    std::string tokenizer_id_;
    std::unique_ptr<nn::GPT<float>> model_;
    std::unique_ptr<optim::AdamW<float>> optimizer_;
    optim::WarmupCosine schedule_;
    std::unique_ptr<data::BatchLoader> train_, val_;
    Rng rng_;
    std::int64_t step_ = 0;
    std::string last_checkpoint_;
    FileHandle out_lock_;
    std::string log_path_;
    bool continues_here_ = false; ///< resumed in the checkpoint's folder: its log goes on
    std::vector<std::string> leftovers_;
    std::optional<TrainingLog> log_;
    TensorI inputs_, targets_;
    ThreadChooser step_threads_, eval_threads_; ///< per step, per validation batch
};

} // namespace ouro::train
