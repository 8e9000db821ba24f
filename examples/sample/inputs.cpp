// sample's inputs: the prompts' texts, --logit-bias read against the tokenizer, and the checks
// that the model fits the request (see inputs.hpp).
#include "inputs.hpp"

#include "common/flags.hpp"

#include <ouro/core/error.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <string>

#include <unistd.h>

using namespace ouro;

namespace sample {

using flags::UsageError;

namespace {

std::string gigabytes(double bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", bytes / 1e9);
    return text;
}

} // namespace

void check_model_fits(const Options& o, const nn::GPTConfig& cfg, std::int64_t slots) {
    if (o.context > cfg.block_size && cfg.position == nn::PositionEncoding::learned)
        throw UsageError("--context " + std::to_string(o.context) +
                         ": more than the model's block size of " + std::to_string(cfg.block_size) +
                         ", and its learned positions have no embedding past it (use --context " +
                         std::to_string(cfg.block_size) + " or less)");
    const double context = double(o.context > 0 ? o.context : cfg.block_size);
    const double cache = double(slots) * double(cfg.n_layer) * context * double(cfg.kv_dim()) *
                         2.0 * double(sizeof(float));
    const double memory = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
    if (memory > 0 && cache > memory / 2)
        throw UsageError("--context " + std::to_string(std::int64_t(context)) + " for " +
                         std::to_string(slots) + " sequence(s) needs a key/value cache of " +
                         gigabytes(cache) + " GB, more than half of this machine's " +
                         gigabytes(memory) + " GB (use a smaller --context" +
                         (slots > 1 ? ", --beam or --contrastive-k" : "") + ")");
}

std::vector<std::string> prompt_texts(const Options& o) {
    if (!o.prompt_whole.empty()) {
        std::string text = flags::read_text_file("--file", o.prompt_whole);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
            text.pop_back(); // the line break an editor leaves at the end
        return {text};
    }
    if (o.prompt_file.empty())
        return o.prompts.empty() ? std::vector<std::string>{""} : o.prompts;
    std::istringstream in(flags::read_text_file("--prompt-file", o.prompt_file));
    std::vector<std::string> texts;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.find_first_not_of(" \t") != std::string::npos)
            texts.push_back(line);
    }
    if (texts.empty())
        throw UsageError("--prompt-file " + o.prompt_file + ": no prompt in it (one per line)");
    return texts;
}

std::pair<std::int32_t, float> parse_logit_bias(const std::string& arg,
                                                const data::Tokenizer& tokenizer) {
    const std::string what = "--logit-bias '" + arg + "'";
    const std::size_t eq = arg.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
        throw UsageError(what + ": expected TOKEN=BIAS, e.g. 42=-inf or ' the=-2.5'");
    const std::string token = arg.substr(0, eq), bias_text = arg.substr(eq + 1);
    char* end = nullptr;
    const double bias = std::strtod(bias_text.c_str(), &end);
    if (end != bias_text.c_str() + bias_text.size() || std::isnan(bias) || bias == HUGE_VAL)
        throw UsageError(what + ": the bias '" + bias_text + "' is not a finite number or -inf");
    std::int32_t id = -1;
    if (token.find_first_not_of("0123456789") == std::string::npos) {
        const long long v = std::atoll(token.c_str());
        if (token.size() > 9 || v >= tokenizer.vocab_size())
            throw UsageError(what + ": token id " + token + " is outside the vocabulary [0, " +
                             std::to_string(tokenizer.vocab_size()) + ")");
        id = std::int32_t(v);
    } else if (const auto found = tokenizer.find(token)) {
        id = *found;
    } else {
        std::optional<std::int32_t> byte_level;
        try {
            byte_level = tokenizer.find(data::from_byte_level(token));
        } catch (const FormatError&) {
        }
        if (!byte_level)
            throw UsageError(what + ": '" + token + "' is not a token of the tokenizer (it is " +
                             std::to_string(tokenizer.encode(token).size()) + " tokens)");
        id = *byte_level;
    }
    const float b = bias == -HUGE_VAL ? -std::numeric_limits<float>::infinity() : float(bias);
    return {id, b};
}

} // namespace sample
