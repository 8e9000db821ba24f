// sample's command line: the options, their flags (with the defaults --help shows) and the
// checks of flags that do not go together.
#pragma once

#include <ouro/gen/sampler.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sample {

struct Options {
    std::string checkpoint, tokenizer, prompt_file, prompt_whole, samplers, trace, color = "auto";
    std::vector<std::string> prompts, logit_bias;
    std::int64_t num_samples = 1, max_new_tokens = 256;
    std::uint64_t seed = 0; // drawn at random when --seed is not given
    int threads = 0;
    bool half = false;
    ouro::gen::SamplerSettings sampler;
    std::int64_t beam = 0;
    double length_penalty = 1.0;
    bool contrastive = false;
    std::int64_t contrastive_k = 4;
    double alpha = 0.6;
    std::string context_policy = "stop", end_of_text = "stop";
    std::int64_t context = 0, sink_tokens = 4;
    std::vector<std::string> stop; // --stop, repeatable
    bool json = false;             // --json: JSON Lines on stdout instead of the text
    std::int64_t top_logprobs = 5; // alternatives per token in --json and --trace
};

/// Adds every flag of sample to `app`, writing into `o`.
void add_flags(CLI::App& app, Options& o);

/// Flags that make no sense together (each value's range is checked as it is parsed); throws
/// flags::UsageError.
void check_flags(const CLI::App& app, const Options& o);

} // namespace sample
