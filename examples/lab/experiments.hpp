// The experiments as typed measurement plus presentation. Each experiment measures into a struct
// of numbers (E1Result, ...: per-prompt or per-sample values kept, so that every compared number
// can carry its 95% interval), and a separate function presents it (table, plots, findings) as an
// ExperimentResult. The summary and the report read the structs' fields (Measurements), never
// names built from labels: a renamed decoder is an error where it is looked up, not a NaN.
#pragma once

#include "lab.hpp"

#include <ouro/lab/interval.hpp>
#include <ouro/lab/positional.hpp>
#include <ouro/lab/self_reinforcement.hpp>

#include <array>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace collapse {

/// One of standard_decoders() by name; ConfigError "no decoder named 'top-p 0.9' (the decoders:
/// greedy, beam 4, ..., contrastive)" when there is none.
Decoder find_decoder(const std::string& name);

/// The plain mean of `values` (NaN when there are none, or when one is NaN) with the ends of
/// Student's t 95% interval held to [lower, upper] (mean_interval, NaN values left out).
ouro::lab::Interval mean_and_interval(const std::vector<double>& values, double lower,
                                      double upper);
/// An interval of a fraction as a percentage (all three times 100).
ouro::lab::Interval as_percent(const ouro::lab::Interval& i);

/// How one experiment's samples were drawn (for its method sentence).
struct RunShape {
    std::int64_t prompts = 0, max_new_tokens = 0, samples_per_prompt = 1;
    std::uint64_t seed = 0;
    ouro::gen::ContextPolicy policy = ouro::gen::ContextPolicy::stop;
};
RunShape run_shape(const Lab& lab, const DecodeRequest& request);

/// One decoder's samples, measured (E1, E7, E8).
struct DecoderRow {
    std::string name;
    SampleMetrics metrics;
};
/// The row named `name`; ConfigError "<experiment> has no decoder '<name>'" when there is none.
const DecoderRow& row_named(const std::vector<DecoderRow>& rows, const std::string& name,
                            const std::string& experiment);

// E1: every standard decoder over the same prompts, past the end of the story.
struct E1Result {
    RunShape run;
    std::vector<DecoderRow> rows; ///< standard_decoders()' order
};
E1Result measure_e1(Lab& lab);
ExperimentResult present_e1(const E1Result& m);

// E2: entropy and surprisal by position, human text against the model's own.
struct E2Result {
    std::int64_t block_size = 0, length = 0, window = 0;
    std::size_t streams = 0, greedy_samples = 0, t1_samples = 0;
    ouro::lab::WindowMeans human_h, human_s, greedy_h, greedy_s, t1_h, t1_s;
    double median_onset = 0; ///< of the greedy samples' loops; NaN without one
    std::size_t windows() const;
};
/// Window k's mean, NaN past the last window.
double window_value(const ouro::lab::WindowMeans& w, std::size_t k);
E2Result measure_e2(Lab& lab);
ExperimentResult present_e2(const E2Result& m);

// E3: TP / IP / WR of repeated sentences (Xu et al. 2022).
struct E3Result {
    std::int64_t copies = 0, max_len = 0;
    std::size_t sentences = 0;
    std::vector<ouro::lab::CopyStats> story, random; ///< by copy, pooled over sentences
    /// TP of the last copy minus the first, mean over sentences with Student's t interval.
    ouro::lab::Interval story_gain, random_gain;
};
E3Result measure_e3(Lab& lab);
ExperimentResult present_e3(const E3Result& m);

// E4: past the trained context, by model and context policy.
struct E4Samples {
    /// Mean seq-rep-4 of the generated tokens inside the first block and past block_size, over
    /// samples (Student's t); NaN when not measured.
    ouro::lab::Interval seq_rep4_first, seq_rep4_past;
    std::int64_t loops_past = 0, samples_past = 0; ///< samples whose part past block_size loops
    double loop_past_percent() const;
    ouro::lab::Interval loop_past() const; ///< Wilson; NaN without samples past block_size
};
struct E4Policy {
    ouro::gen::ContextPolicy policy = ouro::gen::ContextPolicy::stop;
    bool applies = false;
    /// Teacher-forced mean NLL of human text inside the first block and past it (the estimate
    /// over every token, the interval over the streams' own means).
    ouro::lab::Interval tf_first, tf_past;
    ouro::lab::WindowMeans tf_windows;
    E4Samples greedy, top_p;
};
struct E4Model {
    std::string name, position;
    std::int64_t block_size = 0;
    std::vector<E4Policy> policies; ///< stop, crop, slide, sinks
};
struct E4Result {
    std::size_t prompts = 0;
    std::int64_t samples = 0, streams_wanted = 0;
    std::uint64_t seed = 0;
    bool quick = false;
    std::vector<E4Model> models; ///< the lab's first
};
E4Result measure_e4(Lab& lab, const std::vector<fs::path>& extra_checkpoints);
ExperimentResult present_e4(const E4Result& m);
std::string policy_name(ouro::gen::ContextPolicy p);

// E5: the end of a story.
struct E5Row {
    std::string decoder;
    ouro::gen::EndOfText mode = ouro::gen::EndOfText::stop;
    std::int64_t samples = 0, ended = 0, found = 0, loops = 0;
    /// Per sample: its length and natural end; seq-rep-4 before and after the natural end (for
    /// samples that run 8 tokens past it, end token not a stop); loop onset minus natural end.
    std::vector<double> lengths, ends, rep_before, rep_after, onset_minus_end;
};
struct E5Result {
    std::size_t stories = 0; ///< teacher-forced human stories
    std::int64_t prompts = 0, max_new_tokens = 0;
    /// Mean p(end token) and entropy at offsets -before..after from a human story's end.
    std::vector<double> offset, p_end, entropy;
    double p_end_at_end = 0, p_end_10_before = 0;
    std::int64_t end_is_argmax = 0; ///< stories where the end token was the first choice
    std::vector<E5Row> rows;        ///< greedy, top-p 0.95; each with stop, ignore, new_story
    const E5Row& row(const std::string& decoder, ouro::gen::EndOfText mode) const;
};
E5Result measure_e5(Lab& lab);
ExperimentResult present_e5(const E5Result& m);

// E6: every checkpoint of one run.
struct E6Checkpoint {
    fs::path path;
    std::int64_t step = 0;
    double val_loss = 0, rep128 = 0, wrep128 = 0, human_rep128 = 0; ///< NaN without --valid
    SampleMetrics greedy;
};
struct E6Result {
    std::size_t streams = 0, prompts = 0;
    std::int64_t block_size = 0, max_new_tokens = 0;
    std::vector<E6Checkpoint> checkpoints; ///< by step
};
E6Result measure_e6(Lab& lab, const std::vector<fs::path>& checkpoints);
ExperimentResult present_e6(const E6Result& m);

// E7: the temperature and top-p sweeps.
struct E7Point {
    std::string sweep; ///< "temperature" or "top-p"
    double value = 0;  ///< T or p
    DecoderRow row;
};
struct E7Result {
    RunShape run;
    std::vector<E7Point> points; ///< 8 temperatures, then top-p 0.1 .. 1.0
};
E7Result measure_e7(Lab& lab);
ExperimentResult present_e7(const E7Result& m);

// E8: the remedies and their cost.
struct E8Run {
    std::string base, remedy; ///< "greedy" / "top-p 0.95"; "none" or the remedy
    DecoderRow row;
};
struct E8Result {
    RunShape run;
    std::vector<std::string> remedies; ///< in order, "none" first
    std::vector<E8Run> runs;           ///< greedy with each remedy, then top-p 0.95
};
E8Result measure_e8(Lab& lab);
ExperimentResult present_e8(const E8Result& m);

// E9: the loops' n-grams in the training data.
struct E9Unit {
    std::vector<std::int32_t> tokens; ///< the loop unit (its most frequent rotation)
    std::string text;
    std::int64_t samples = 0, occurrences = 0, stories = 0; ///< in training data
};
struct E9Rates {
    /// Occurrences per million training n-grams; NaN without n-grams.
    double mean = std::numeric_limits<double>::quiet_NaN();
    double median = std::numeric_limits<double>::quiet_NaN();
    std::int64_t ngrams = 0, unseen = 0;
};
struct E9Result {
    static constexpr int min_n = 2, max_n = 6;
    std::int64_t max_new_tokens = 0, prompts = 0, train_stories = 0, train_tokens = 0;
    std::uint64_t seed = 0;
    std::int64_t samples = 0, looping = 0;
    std::vector<E9Unit> units;                                  ///< most frequent in training first
    std::vector<double> unit_per_million;                       ///< per unit
    std::array<E9Rates, max_n + 1> loop_rates{}, other_rates{}; ///< by n
};
E9Result measure_e9(Lab& lab);
ExperimentResult present_e9(const E9Result& m);

// The demo's check: greedy against top-p 0.95 past the end of the story.
struct DemoSampleRow {
    std::int64_t prompt = 0, natural_end = -1, tokens = 0;
    std::string decoder;
    bool holtzman = false;
    std::int64_t phrase_length = 0, copies = 0;
    double seq_rep4_last200 = 0;
    std::int64_t loop_onset = -1, loop_period = 0;
};
struct DemoDecoder {
    std::string name;
    std::int64_t looping = 0, samples = 0;
    std::vector<double> seq_rep4_last200; ///< per sample
    ouro::lab::Interval loops() const;    ///< Wilson, a fraction
    ouro::lab::Interval seq_rep4() const; ///< Student's t
};
struct DemoCheck {
    std::int64_t past_end = 0, prompts = 0;
    std::uint64_t seed = 0;
    std::vector<DemoSampleRow> rows;
    DemoDecoder greedy, top_p;
};
ExperimentResult present_demo_check(const DemoCheck& m);

/// Everything the summary and the comparison read: the typed result of each experiment that ran.
struct Measurements {
    std::optional<DemoCheck> demo;
    std::optional<E1Result> e1;
    std::optional<E2Result> e2;
    std::optional<E3Result> e3;
    std::optional<E4Result> e4;
    std::optional<E5Result> e5;
    std::optional<E6Result> e6;
    std::optional<E7Result> e7;
    std::optional<E8Result> e8;
    std::optional<E9Result> e9;
};

/// What the experiments that take more than the Lab need.
struct ExperimentInputs {
    std::vector<fs::path> extra_checkpoints; ///< E4
    std::vector<fs::path> checkpoints;       ///< E6
};

/// Measures experiment `id` ("e1" .. "e9") into its field of `into` (only that field is
/// written, so experiments may be measured side by side). Throws ConfigError "no experiment
/// 'e0'" for an unknown id, and as the experiment does.
void measure_experiment(const std::string& id, Lab& lab, Measurements& into,
                        const ExperimentInputs& inputs = {});
/// The presentation of experiment `id` from its measurement. Throws ConfigError "no experiment
/// 'e0'" for an unknown id, "experiment 'e4' was not measured" when its field is empty.
ExperimentResult present_experiment(const std::string& id, const Measurements& measured);

/// Measures experiment `id` into `into` and returns its presentation (measure_experiment, then
/// present_experiment); throws as they do.
ExperimentResult run_experiment(const std::string& id, Lab& lab, Measurements& into,
                                const ExperimentInputs& inputs = {});

} // namespace collapse
