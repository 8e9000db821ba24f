// The demo (the README's first command): the blog post's example (a good beginning, a middle that
// loses the plot, an end in a loop) produced by the bundled model,
// greedy against nucleus sampling on the same prompts, the quick experiments and the report.
#pragma once

#include "experiments.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace collapse {

struct DemoSettings {
    std::int64_t past_end = 1000; ///< greedy tokens after the story's natural end
    /// A second model to measure the same way and compare with (e.g. a fully trained llama2.c
    /// model beside a model that is still learning), and its tokenizer (default: found beside it).
    fs::path compare, compare_tokenizer;
};

/// The long greedy sample of the blog post's example, cut into its beginning, middle and end.
struct LongSample {
    std::vector<std::int32_t> prompt, tokens; ///< tokens: generated only
    std::vector<double> prob, entropy;        ///< per generated token (raw distribution)
    /// Per generated token: the five most probable tokens and their probabilities (may be empty).
    std::vector<std::vector<std::pair<std::int32_t, double>>> top5;
    std::int64_t natural_end = -1; ///< first generated index where the end token was the argmax
    std::int64_t loop_onset = -1, loop_period = 0; ///< of the loop that runs to the end
    struct Part {
        std::string name;                ///< "beginning", "middle", "end"
        std::int64_t begin = 0, end = 0; ///< generated-token range
        double entropy = 0, prob = 0, seq_rep4 = 0;
    };
    std::vector<Part> parts;
};

/// Quality on one scale for any tokenizer: the model's surprisal of held-out human stories per
/// token and per byte of text (each story after its separator, up to block_size tokens).
struct Quality {
    std::int64_t stories = 0, tokens = 0, bytes = 0;
    double nats_per_token = 0, nats_per_byte = 0;
};
/// Quality over the lab's held-out stories (--valid), scored in slices that run as pieces of
/// their own (run_side_by_side), so that they fill the threads the demo's coarser pieces leave
/// idle: the constructor takes the stories (ConfigError without them), pieces() gives the work,
/// quality() sums the scores in story order once every piece has run, so the result does not
/// depend on the slices or the threads.
class QualityScoring {
public:
    explicit QualityScoring(Lab& lab);
    /// The stories in `count` slices of consecutive stories (fewer when there are fewer
    /// stories), each scored by one piece; the pieces write disjoint scores.
    std::vector<NamedPiece> pieces(std::size_t count);
    /// The quality, once every piece has run.
    Quality quality() const;

private:
    Lab& lab_;
    std::vector<std::vector<std::int32_t>> texts_;
    std::vector<std::vector<ouro::lab::TokenScore>> scores_; ///< per text
};

/// What the demo measured on one model.
struct DemoRun {
    LongSample sample;
    Measurements measured;                 ///< what the summary and the comparison read
    std::vector<ExperimentResult> results; ///< their presentations, for the report
    std::optional<Quality> quality;        ///< with held-out text
};

/// "llama2.c model" or "ouro checkpoint, step N".
std::string model_description(const Lab& lab);

/// The demo's steps on one model: measured side by side on the threads, then printed in order
/// (the report included).
DemoRun measure_demo(Lab& lab, const DemoSettings& demo);

/// The comparison of several models' demo runs: quality, and which mechanisms they share and
/// which differ, each with its numbers.
void print_comparison(const std::vector<std::pair<Lab*, const DemoRun*>>& runs);

/// Runs the demo (and, with demo.compare, the same on a second model and the comparison);
/// returns the program's exit code. Throws ouro::Error for bad inputs.
int run_demo(LabSettings settings, const DemoSettings& demo);

/// Sample i of a set decoded with the end token ignored (as in the blog post), cut `past_end`
/// tokens after its natural end, with its beginning, middle (from the natural end) and end.
LongSample long_sample(Lab& lab, const DecodedSet& set, std::size_t i, std::int64_t past_end);

/// First generated index where the end token was the model's first choice (p_end >= p_max), or -1.
std::int64_t first_natural_end(const std::vector<double>& p_end, const std::vector<double>& p_max);
/// Where to cut a sample: natural end + past_end, at most `size` (all of it without a natural end).
std::int64_t cut_at(std::int64_t natural_end, std::int64_t past_end, std::size_t size);
/// The demo's check for one decoder's samples, each cut past_end tokens after its natural end;
/// appends a row per sample to `rows`.
DemoDecoder measure_check_decoder(const DecodedSet& set, std::int64_t past_end,
                                  std::vector<DemoSampleRow>& rows);

/// Settings of `lab bundle`.
struct BundleSettings {
    std::string checkpoint, data_dir, train_text, valid_text, command, commit, log, out_dir;
};
/// Writes out_dir/model.safetensors (weights only, F16), the tokenizer (vocab.json, merges.txt)
/// and provenance.json (command, data checksums, config, final losses, project commit).
void write_bundle(const BundleSettings& settings);

} // namespace collapse
