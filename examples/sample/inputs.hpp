// sample's inputs, read and checked before the model runs: the prompts' texts, the --logit-bias
// pairs and whether the model can hold the request.
#pragma once

#include "options.hpp"

#include <ouro/data/tokenizer.hpp>
#include <ouro/nn/gpt.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sample {

/// The context the model can hold, and the memory its key/value cache needs for `slots`
/// sequences (a cache larger than half of the machine's memory is refused rather than left to
/// the allocator or the out-of-memory killer). Throws flags::UsageError.
void check_model_fits(const Options& o, const ouro::nn::GPTConfig& cfg, std::int64_t slots);

/// The prompts' texts: --prompt (repeatable), the whole of --file, the lines of --prompt-file,
/// or one empty prompt.
std::vector<std::string> prompt_texts(const Options& o);

/// --logit-bias TOKEN=BIAS: TOKEN an id, or the text of one token (as it decodes, e.g. " the", or
/// in GPT-2's byte alphabet, "Ġthe"); BIAS a number or -inf. Throws flags::UsageError.
std::pair<std::int32_t, float> parse_logit_bias(const std::string& arg,
                                                const ouro::data::Tokenizer& tokenizer);

} // namespace sample
