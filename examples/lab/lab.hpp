// The collapse lab (COLLAPSE.md): what every experiment program shares. A Lab holds one trained
// model with its tokenizer, the prompts, the human text to compare against, and the settings;
// an experiment takes a Lab and returns an ExperimentResult (a table, plots, and findings stated
// with the measured numbers), which the program prints, writes as CSV + SVG, and gathers into
// the HTML report.
//
// Determinism: every sample is drawn from a seeded Rng (the lab's --seed), the session's results
// do not depend on the thread count, and numbers are printed with fixed decimals (lab::fmt), so
// running an experiment twice prints the same text. Timings go to stderr only.
#pragma once

#include "common/progress.hpp"
#include <ouro/gen/decode.hpp>
#include <ouro/gen/generate.hpp>
#include <ouro/gen/sampler.hpp>
#include <ouro/gen/search.hpp>
#include <ouro/io/model_bundle.hpp>
#include <ouro/lab/interval.hpp>
#include <ouro/lab/svg_plot.hpp>
#include <ouro/lab/table.hpp>
#include <ouro/lab/teacher_forcing.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace collapse {

namespace fs = std::filesystem;

/// Settings shared by the experiments (flags of the lab program).
struct LabSettings {
    fs::path checkpoint;              ///< the model
    fs::path tokenizer;               ///< its tokenizer folder (default: the checkpoint's folder)
    fs::path out_dir = "lab-out";     ///< CSV, SVG and the report go here
    fs::path valid_text;              ///< held-out human stories (TinyStories .txt); optional
    fs::path train_text;              ///< the training stories (E9); optional
    std::vector<std::string> prompts; ///< story beginnings; default_prompts() when empty
    std::uint64_t seed = 1234;
    std::int64_t samples_per_prompt = 1; ///< samples drawn per prompt by sampling decoders
    std::int64_t max_new_tokens = 1000;  ///< tokens generated per sample (quick: at most 512)
    bool quick = false;                  ///< smaller runs (the demo and the tests)
    ouro::examples::Progress progress = ouro::examples::Progress::automatic;
};

/// Story beginnings in the style of TinyStories, the blog post's prince among them.
std::vector<std::string> default_prompts();

/// One model, its tokenizer, prompts and human text, loaded once.
class Lab {
public:
    /// Loads the model bundle (io::load_model_bundle: a mismatched tokenizer is an error), encodes
    /// the prompts and reads the human text. Throws ouro::ConfigError for an empty prompt ("
    /// prompt 2 is empty (give the beginning of a story)"), no prompts, samples_per_prompt < 1
    /// ("--samples must be at least 1, got 0") or max_new_tokens < 1.
    explicit Lab(LabSettings settings);

    const LabSettings& settings() const { return settings_; }
    const ouro::nn::GPT<float>& model() const { return *bundle_.model; }
    const ouro::nn::GPTConfig& config() const { return bundle_.config; }
    const ouro::data::Tokenizer& tokenizer() const { return bundle_.tokenizer; }
    const ouro::io::ModelBundle& bundle() const { return bundle_; }
    std::int32_t eot() const { return eot_; }

    /// Prompt texts and their tokens (each starts with the end-of-text token, as every story did
    /// in training).
    const std::vector<std::string>& prompt_texts() const { return prompt_texts_; }
    const std::vector<std::vector<std::int32_t>>& prompts() const { return prompts_; }

    /// Held-out human stories (from settings().valid_text), each encoded with the end-of-text
    /// token in front; empty when no text was given. Read on first use.
    const std::vector<std::vector<std::int32_t>>& human_stories();
    /// human_stories(), or ConfigError "<experiment> needs held-out human text: pass --valid FILE
    /// (e.g. TinyStories valid.txt)" when there are none.
    const std::vector<std::vector<std::int32_t>>&
    require_human_stories(const std::string& experiment);
    /// The training stories (settings().train_text), encoded the same way; read on first use.
    const std::vector<std::vector<std::int32_t>>& train_stories();

    /// The text of tokens (bytes concatenated; may end inside a UTF-8 character).
    std::string text(std::span<const std::int32_t> tokens) const;
    /// The text of one token, for traces.
    std::string token_text(std::int32_t token) const;

    /// The context policy that lets a model run past its block_size: slide for RoPE and ALiBi,
    /// crop (nanoGPT's recompute) for learned positions.
    ouro::gen::ContextOptions long_context() const;

    /// A progress mode for bars (the settings' mode).
    ouro::examples::Progress progress() const { return settings_.progress; }
    /// Sets the mode of later bars (e.g. never, while experiments run side by side).
    void set_progress(ouro::examples::Progress mode) { settings_.progress = mode; }

private:
    LabSettings settings_;
    ouro::io::ModelBundle bundle_;
    std::int32_t eot_ = -1;
    std::vector<std::string> prompt_texts_;
    std::vector<std::vector<std::int32_t>> prompts_;
    std::optional<std::vector<std::vector<std::int32_t>>> human_, train_;
};

/// What one experiment measured.
struct ExperimentResult {
    std::string id;       ///< "e1"
    std::string title;    ///< "Which decoders loop?"
    std::string question; ///< one sentence from COLLAPSE.md's table
    std::string method;   ///< how it was measured (settings included)
    ouro::lab::Table table;
    std::vector<ouro::lab::PlotSpec> plots;
    std::vector<std::string> findings; ///< sentences stating the measured numbers
};

/// Prints the table and findings to stdout, writes <out>/<id>.csv and <out>/<id>-<k>.svg.
void emit(const ExperimentResult& result, const fs::path& out_dir);

// ---------------------------------------------------------------------------------------------
// Decoding many prompts with one decoder, and the metrics of COLLAPSE.md over the samples.

/// A decoding strategy: a sampler chain, beam search or contrastive search (the library's value,
/// ouro/gen/decode.hpp).
using Decoder = ouro::gen::Decoder;

/// COLLAPSE.md's decoders with their usual defaults: greedy, beam 4, T=1, top-k 40, top-p 0.95,
/// min-p 0.05, typical 0.95, eta 3e-4, mirostat v2 (tau 5, eta 0.1), contrastive (k 4, 0.6).
std::vector<Decoder> standard_decoders();

/// How the samples are generated.
struct DecodeRequest {
    std::int64_t max_new_tokens = 256;
    ouro::gen::EndOfText end_of_text = ouro::gen::EndOfText::ignore;
    ouro::gen::ContextOptions context{};
    std::int64_t samples_per_prompt = 1; ///< for sampling decoders; deterministic ones draw one
    std::uint64_t seed = 0;
};

/// The samples of one decoder over the prompts.
struct DecodedSet {
    std::string decoder;
    std::vector<std::vector<std::int32_t>> samples; ///< generated tokens (prompt not included)
    std::vector<std::int64_t> prompt_index;         ///< which prompt each sample continues
    /// Per sample, per token: the model's own raw probability of the token (before any sampler),
    /// and the entropy of the raw distribution it was drawn from (nats); for beam and
    /// contrastive search the tokens are scored by teacher forcing (gen::decode).
    std::vector<std::vector<double>> prob, entropy;
    /// Per sample, per token: the raw probability of the end-of-text token, and the largest raw
    /// probability (p_end == p_max: the end token was the model's first choice).
    std::vector<std::vector<double>> p_end, p_max;
    /// Per sample, per token: the five most probable tokens under the raw logits with their
    /// probabilities, best first.
    std::vector<std::vector<std::vector<std::pair<std::int32_t, double>>>> top5;
};

/// Runs one decoder over every prompt of the lab (samples_per_prompt each for sampling
/// decoders) through gen::decode, the context policy given once by the request.
/// `progress` (optional) is advanced by generated tokens.
DecodedSet decode(Lab& lab, const Decoder& decoder, const DecodeRequest& request,
                  ouro::examples::ProgressBar* progress = nullptr,
                  std::uint64_t* progress_done = nullptr);

/// decode() of every decoder, side by side on the threads (gen::run_concurrently), in the
/// decoders' order; the bar and its count are shared.
std::vector<DecodedSet> decode_all(Lab& lab, const std::vector<Decoder>& decoders,
                                   const DecodeRequest& request,
                                   ouro::examples::ProgressBar* progress = nullptr,
                                   std::uint64_t* progress_done = nullptr);

/// The metrics of one set of samples (COLLAPSE.md "Metrics").
struct SampleMetrics {
    double rep2 = 0, rep3 = 0, rep4 = 0; ///< rep-n, percent (Su et al.)
    double diversity = 0;                ///< prod (1 - rep-n / 100), n = 2..4
    double seq_rep4 = 0;                 ///< mean seq-rep-4 (Welleck), fraction
    double seq_rep4_last200 = 0;         ///< mean seq-rep-4 of the last 200 tokens
    double holtzman_percent = 0;         ///< samples ending in a loop, percent
    double distinct1 = 0, distinct2 = 0; ///< distinct-n over all samples
    double zipf = 0;                     ///< Zipf coefficient
    double self_bleu4 = 0;               ///< self-BLEU-4 across samples (NaN for one sample)
    double nll = 0;                      ///< mean -ln p of the tokens under the model
    double entropy = 0;                  ///< mean entropy of the raw distributions (nats)
    double loop_percent = 0;             ///< samples with a loop (find_loop, 3 copies) at the end
    double mean_loop_onset = 0; ///< mean onset (in generated tokens) of those loops; NaN if none
    /// Per sample, for the intervals over samples (interval.hpp): seq-rep-4, mean -ln p of its
    /// tokens (NaN for an empty sample), and whether Holtzman's test calls it repeating.
    std::vector<double> seq_rep4_each, nll_each;
    std::vector<std::uint8_t> holtzman_each;
    /// Wilson's interval of the share of samples that loop by Holtzman's test (a fraction), and
    /// seq_rep4 and nll with the ends of Student's t interval over the samples' own values.
    ouro::lab::Interval holtzman_interval() const;
    ouro::lab::Interval seq_rep4_interval() const;
    ouro::lab::Interval nll_interval() const;
};
SampleMetrics measure(const DecodedSet& set);

/// The header of the metrics table and one row of it (name first).
std::vector<std::string> metrics_columns();
std::vector<std::string> metrics_row(const std::string& name, const SampleMetrics& m);

/// The request the sweeps use: the lab's settings (max_new_tokens, at most `quick_tokens` in quick
/// mode; samples per prompt; seed), the long-context policy, the end token ignored.
DecodeRequest sweep_request(const Lab& lab, std::int64_t quick_tokens);

/// Runs every decoder over the lab's prompts under one progress bar labelled `label`, and measures
/// each set of samples (in the decoders' order).
std::vector<SampleMetrics> measure_decoders(Lab& lab, const std::vector<Decoder>& decoders,
                                            const DecodeRequest& request, const std::string& label);

/// A progress bar over `total` items labelled `label`, drawn as the lab's settings say.
ouro::examples::ProgressBar progress_bar(const Lab& lab, const std::string& label,
                                         std::uint64_t total);

/// A named piece of work for run_side_by_side.
struct NamedPiece {
    std::string name;
    std::function<void()> run;
};

/// Runs the pieces side by side on the threads (gen::run_concurrently: the decodes and teacher
/// forcing inside them share one team) under one bar `label` that counts finished pieces (the
/// lab's own bars are off meanwhile: they would draw over each other), then writes to stderr how
/// long it took (wall and CPU) and each piece from its start to its end. Nothing else is printed,
/// so the pieces' order of finishing does not show. Throws what the first piece in the list that
/// threw threw.
void run_side_by_side(Lab& lab, const std::string& label, const std::vector<NamedPiece>& pieces);

/// Adds `by` to `done` and updates `bar`, under the lock decode() takes for its bar updates, so
/// that pieces run side by side (gen::run_concurrently) may share one bar.
void advance(ouro::examples::ProgressBar& bar, std::uint64_t& done, std::uint64_t by);

} // namespace collapse
