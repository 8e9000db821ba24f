// train: trains a GPT on token shards made by examples/prepare (or on a synthetic stream).
//
//   train --data data/ts4k --preset xs --steps 2000 --out runs/xs
//   train --resume runs/xs/ckpt-001000.safetensors --steps 4000
//   train --data data/ts4k --preset xs --steps 2000 --out runs/xs --overwrite   # start over
//   train --data data/ts4k --dump-debug-state step.safetensors
//   train --data data/ts-llama --arch llama --n-kv-head 2 --steps 2000 --out runs/llama
//   train --init models/stories260K/stories260K.bin --data data/ts-tok512 --steps 500 --lr 1e-4
//
// --init starts a new run from the weights and config of a trained model (an ouro checkpoint or
// a llama2.c model, told apart by its contents); the data must be tokenized with the model's
// tokenizer (prepare --tokenizer).
// Prints progress (a status line on a terminal), validation losses and samples; writes a CSV or
// JSONL log and checkpoints; a NaN or infinite loss stops it with exit code 3 and leaves the last
// good checkpoint in place. Bad flags or files: one line "train: <message>" on stderr and exit
// code 1 (common/flags.hpp).
//
// A run's folder is its own: a new run refuses a folder (or --log) that holds another run's
// checkpoints or log unless --overwrite; a killed run is continued with --resume and its newest
// checkpoint (the log loses the rows after it, which are replayed, and the temporary files of a
// checkpoint that was being written are removed). A log or checkpoint that cannot be written (a
// full disk, a read-only folder) stops training with one line naming the file and exit code 1;
// the checkpoints written before it stay as they were.
#include "debug_dump.hpp"
#include "memory.hpp"
#include "trainer.hpp"

#include "common/flags.hpp"
#include "common/progress.hpp"

#include <ouro/core/parallel.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;
using namespace ouro;

int main(int argc, char** argv) {
    CLI::App app{"Train a GPT on TinyStories token shards (see examples/prepare)"};
    train::TrainSettings s;
    std::string preset = "xs", position = "learned", arch = "gpt2", resume, dump, init;
    int threads = 0;
    bool progress = false, no_progress = false;

    using flags::real;
    using flags::whole;
    constexpr std::int64_t most_steps = 1'000'000'000;
    flags::existing_folder(app.add_option("--data", s.data_dir,
                                          "folder made by prepare: train.bin, val.bin, and "
                                          "vocab.json + merges.txt or tokenizer.bin")
                               ->default_str("none"));
    app.add_flag("--synthetic", s.synthetic,
                 "train on a synthetic token stream instead (quick checks)");
    whole(
        app.add_option("--synthetic-vocab", s.synthetic_vocab, "vocabulary of the synthetic stream")
            ->capture_default_str(),
        2, 65536);
    flags::existing_path(
        app.add_option("--init", init,
                       "start a new run from this model's weights and config: an ouro "
                       "checkpoint or bundle, a llama2.c or llm.c model (e.g. stories260K.bin) or "
                       "a Hugging Face folder")
            ->default_str("none"));
    app.add_option("--preset", preset,
                   "model size: xs (4 layers of 128 channels: 1.3M parameters with a "
                   "4096-token vocabulary, 0.9M with 512), s (6 of 256: 5.9M with 4096), tiny "
                   "(2 of 32)")
        ->capture_default_str()
        ->check(CLI::IsMember({"xs", "s", "tiny"}));
    app.add_option("--arch", arch,
                   "block family: gpt2 (LayerNorm, GELU, learned positions) or llama "
                   "(RMSNorm, SwiGLU, RoPE, no biases, untied classifier)")
        ->capture_default_str()
        ->check(CLI::IsMember({"gpt2", "llama"}));
    auto* o_layer = whole(
        app.add_option("--n-layer", s.model.n_layer, "transformer blocks (overrides the preset)")
            ->default_str("the preset's"),
        1, 1024);
    auto* o_head = whole(
        app.add_option("--n-head", s.model.n_head, "attention heads")->default_str("the preset's"),
        1, 1024);
    auto* o_embd =
        whole(app.add_option("--n-embd", s.model.n_embd, "channels")->default_str("the preset's"),
              1, 65536);
    std::int64_t n_kv_head = 0, mlp_hidden = 0;
    whole(app.add_option("--n-kv-head", n_kv_head,
                         "key/value heads, a divisor of --n-head (grouped-query attention)")
              ->default_str("--n-head"),
          1, 1024);
    whole(app.add_option("--mlp-hidden", mlp_hidden, "MLP hidden features")
              ->default_str("4 x channels for gpt2; llama: 2/3 of that, rounded up to a multiple "
                            "of 32"),
          1, flags::max_tokens);
    auto* o_block = whole(app.add_option("--block-size", s.model.block_size, "context length")
                              ->default_str("the preset's, or the --init model's"),
                          1, 65536);
    auto* o_drop = real(app.add_option("--dropout", s.model.dropout, "dropout probability")
                            ->default_str("the preset's, or the --init model's"),
                        flags::closed_open(0, 1));
    app.add_option("--position", position, "positional encoding")
        ->capture_default_str()
        ->check(CLI::IsMember({"learned", "rope", "alibi"}));
    bool no_bias = false;
    app.add_flag("--no-bias", no_bias, "no biases in Linear and LayerNorm layers");
    whole(app.add_option("--batch-size", s.batch_size, "sequences per micro-batch")
              ->capture_default_str(),
          1, 65536);
    whole(app.add_option("--grad-accum", s.grad_accum, "micro-batches per optimizer step")
              ->capture_default_str(),
          1, 65536);
    whole(app.add_option("--steps", s.steps, "total optimizer steps")->capture_default_str(), 1,
          most_steps);
    real(app.add_option("--lr", s.lr, "peak learning rate")->capture_default_str(),
         flags::at_least(0));
    real(app.add_option("--min-lr", s.min_lr, "learning rate at the end of the cosine")
             ->capture_default_str(),
         flags::at_least(0));
    whole(app.add_option("--warmup", s.warmup, "warmup steps")->capture_default_str(), 0,
          most_steps);
    whole(app.add_option("--lr-decay-steps", s.lr_decay_steps, "steps of the cosine")
              ->default_str("--steps"),
          0, most_steps);
    real(app.add_option("--weight-decay", s.weight_decay, "AdamW weight decay (matrices only)")
             ->capture_default_str(),
         flags::at_least(0));
    real(app.add_option("--beta1", s.beta1, "AdamW beta1")->capture_default_str(),
         flags::closed_open(0, 1));
    real(app.add_option("--beta2", s.beta2, "AdamW beta2")->capture_default_str(),
         flags::closed_open(0, 1));
    real(app.add_option("--clip", s.clip, "global gradient-norm clip (0 = off)")
             ->capture_default_str(),
         flags::at_least(0));
    flags::seed(
        app.add_option("-s,--seed", s.seed, "seed of initialisation, data order and dropout")
            ->capture_default_str());
    whole(app.add_option("--eval-every", s.eval_every,
                         "validation every N steps (0 = only at the end)")
              ->capture_default_str(),
          0, most_steps);
    whole(app.add_option("--eval-batches", s.eval_batches, "validation batches")
              ->capture_default_str(),
          1, 1'000'000);
    whole(
        app.add_option("--sample-every", s.sample_every, "print a sample every N steps (0 = never)")
            ->capture_default_str(),
        0, most_steps);
    whole(app.add_option("--sample-tokens", s.sample_tokens, "tokens per sample")
              ->capture_default_str(),
          1, flags::max_tokens);
    whole(app.add_option("--checkpoint-every", s.checkpoint_every,
                         "checkpoint every N steps (and at the end)")
              ->capture_default_str(),
          0, most_steps);
    flags::output_folder(app.add_option("--out", s.out_dir, "folder for checkpoints and the log")
                             ->capture_default_str());
    flags::output_file(app.add_option("--log", s.log_path, "log file, .csv or .jsonl")
                           ->default_str("<out>/log.csv"),
                       false);
    flags::existing_file(
        app.add_option("--resume", resume, "continue the run saved in this checkpoint")
            ->default_str("none"));
    app.add_flag("--overwrite", s.overwrite,
                 "replace the checkpoints and log of another run in --out (otherwise train "
                 "refuses to start there)");
    flags::add_threads(app, threads, true);
    auto* o_progress = app.add_flag("--progress", progress, "always draw the progress bar");
    app.add_flag("--no-progress", no_progress, "never draw the progress bar")->excludes(o_progress);
    flags::output_file(app.add_option("--dump-debug-state", dump,
                                      "write every activation and gradient of one step to this "
                                      "file and exit")
                           ->default_str("none"));
    whole(app.add_option("--debug-nan-step", s.debug_nan_step,
                         "make the loss NaN at this step (tests the NaN guard)")
              ->default_str("off"),
          1, most_steps);
    if (const std::optional<int> rc = flags::parse(app, "train", argc, argv))
        return *rc;

    try {
        // Recorded in every checkpoint as an absolute path: sample and lab find the tokenizer
        // there from any folder (io::find_tokenizer).
        if (!s.data_dir.empty())
            s.data_dir = fs::absolute(s.data_dir).lexically_normal().string();
        // The log's folder must exist, or be --out (made when the run starts).
        if (const fs::path folder = fs::path(s.log_path).parent_path();
            !folder.empty() && !fs::is_directory(folder) &&
            (fs::absolute(folder) / "").lexically_normal() !=
                (fs::absolute(s.out_dir) / "").lexically_normal())
            throw flags::UsageError("--log " + s.log_path + ": the folder " + folder.string() +
                                    " does not exist (and is not --out, which train makes)");
        if (threads > 0)
            set_num_threads(threads);
        if (!resume.empty()) {
            // Only the run's length and its outputs may change on resume; the rest is the saved
            // run's.
            for (const char* flag :
                 {"--data",           "--synthetic",       "--preset",  "--n-layer",  "--n-head",
                  "--n-embd",         "--block-size",      "--dropout", "--position", "--no-bias",
                  "--batch-size",     "--grad-accum",      "--lr",      "--min-lr",   "--warmup",
                  "--lr-decay-steps", "--weight-decay",    "--beta1",   "--beta2",    "--clip",
                  "--seed",           "--synthetic-vocab", "--init",    "--arch",     "--n-kv-head",
                  "--mlp-hidden"})
                if (app.count(flag))
                    throw flags::UsageError(
                        std::string(flag) +
                        " cannot change on --resume (the checkpoint holds the run's "
                        "settings)");
        } else if (!init.empty()) {
            // The architecture is the model's; the context may change and dropout may be set.
            for (const char* flag : {"--preset", "--arch", "--n-layer", "--n-head", "--n-embd",
                                     "--n-kv-head", "--mlp-hidden", "--position", "--no-bias"})
                if (app.count(flag))
                    throw flags::UsageError(std::string(flag) +
                                            " cannot be used with --init (the " +
                                            "model's architecture comes from " + init + ")");
            s.init = init;
            if (!o_block->count())
                s.model.block_size = 0; // the model's own
            if (!o_drop->count())
                s.model.dropout = -1.0; // the model's own
        } else {
            nn::GPTConfig base = preset == "s" ? nn::GPTConfig::s() : nn::GPTConfig::xs();
            if (preset == "tiny") {
                base.block_size = 32;
                base.n_layer = 2;
                base.n_head = 2;
                base.n_embd = 32;
            }
            if (!o_layer->count())
                s.model.n_layer = base.n_layer;
            if (!o_head->count())
                s.model.n_head = base.n_head;
            if (!o_embd->count())
                s.model.n_embd = base.n_embd;
            if (!o_block->count())
                s.model.block_size = base.block_size;
            if (!o_drop->count())
                s.model.dropout = base.dropout;
            if (arch == "llama") {
                if (app.count("--position"))
                    throw flags::UsageError("--position cannot be used with --arch llama (a Llama "
                                            "block uses rotary embeddings)");
                // llama2.c's TinyStories models round the SwiGLU width to a multiple of 32.
                const nn::GPTConfig sizes = s.model;
                s.model = nn::GPTConfig::llama(sizes.vocab_size, sizes.block_size, sizes.n_layer,
                                               sizes.n_head, 0, sizes.n_embd, 32);
                s.model.dropout = sizes.dropout;
            } else {
                s.model.position = nn::parse_position_encoding(position);
                s.model.bias = !no_bias;
            }
            if (n_kv_head > 0)
                s.model.n_kv_head = n_kv_head;
            if (mlp_hidden > 0)
                s.model.mlp_hidden = mlp_hidden;
            // Refused before anything is allocated; the vocabulary (from the data's tokenizer)
            // is known here only for --synthetic, and is left out of the estimate otherwise.
            nn::GPTConfig sized = s.model;
            sized.vocab_size = s.synthetic ? s.synthetic_vocab : 2;
            train::check_fits_memory(sized, s.batch_size, s.synthetic);
        }
        // On resume, apply only the flags that were given.
        auto given = [&](train::TrainSettings& r) {
            if (app.count("--steps"))
                r.steps = s.steps;
            if (app.count("--out"))
                r.out_dir = s.out_dir;
            if (app.count("--log"))
                r.log_path = s.log_path;
            if (app.count("--eval-every"))
                r.eval_every = s.eval_every;
            if (app.count("--eval-batches"))
                r.eval_batches = s.eval_batches;
            if (app.count("--sample-every"))
                r.sample_every = s.sample_every;
            if (app.count("--sample-tokens"))
                r.sample_tokens = s.sample_tokens;
            if (app.count("--checkpoint-every"))
                r.checkpoint_every = s.checkpoint_every;
            if (app.count("--debug-nan-step"))
                r.debug_nan_step = s.debug_nan_step;
            r.overwrite = s.overwrite;
        };
        train::Trainer trainer =
            resume.empty() ? train::Trainer(s) : train::Trainer::resume(resume, given);
        if (!dump.empty()) {
            TensorI x, y;
            trainer.train_loader().next(x, y);
            const double loss = train::dump_debug_state(dump, trainer.model(), x, y);
            std::printf("wrote %s (loss %.6f)\n", dump.c_str(), loss);
            return 0;
        }
        trainer.run(progress ||
                    (!no_progress && examples::shows_progress(examples::Progress::automatic)));
        return 0;
    } catch (const train::DivergedError& e) {
        std::fprintf(stderr, "train: %s\n", e.what()); // the status bar ended its line
        return 3;
    } catch (const std::exception& e) {
        // A write error in the middle of the run comes after the status bar's last line.
        return flags::fail("train", e);
    }
}
