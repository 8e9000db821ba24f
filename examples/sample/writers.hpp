// sample's two outputs for the sampler chain and contrastive search: the text, streamed token by
// token through a TokenPrinter (plain or coloured, stop strings held back), and JSON Lines, one
// object per sample (--json; the format is in README.md, "sample --json").
#pragma once

#include "options.hpp"
#include "token_printer.hpp"

#include <ouro/data/tokenizer.hpp>
#include <ouro/gen/decode.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace sample {

/// The line between two samples of the text.
inline constexpr const char* separator = "----------------------------------------\n";

/// Where the samples of a run go, one after another.
class Writer {
public:
    virtual ~Writer() = default;
    /// Sample `index` (from 0: prompts in order, --num-samples per prompt) starts from prompt
    /// `prompt_index` (from 0), whose text is `prompt` and whose last token is `last_token`.
    virtual void begin(std::int64_t index, std::int64_t prompt_index, const std::string& prompt,
                       std::int32_t last_token) = 0;
    /// One generated token; r.text is its text after the token before it.
    virtual void token(const ouro::gen::TraceRecord& r) = 0;
    /// The sample has ended (out.text is cut before a stop string).
    virtual void end(const ouro::gen::DecodedSequence& out) = 0;
};

/// The text on the printer: a separator line between samples, the prompt, the generated text
/// up to the stop string.
class TextWriter final : public Writer {
public:
    TextWriter(TokenPrinter& printer, std::vector<std::string> stops)
        : printer_(printer), stops_(std::move(stops)) {}
    void begin(std::int64_t index, std::int64_t prompt_index, const std::string& prompt,
               std::int32_t last_token) override;
    void token(const ouro::gen::TraceRecord& r) override;
    void end(const ouro::gen::DecodedSequence& out) override;

private:
    TokenPrinter& printer_;
    std::vector<std::string> stops_;
};

/// One JSON object per sample and line on `out`, flushed at the end of each sample. `run` holds
/// what every line repeats (seed, decoder, settings; run_json()), `stops` the --stop strings.
class JsonWriter final : public Writer {
public:
    JsonWriter(std::FILE* out, const ouro::data::Tokenizer& tokenizer, nlohmann::ordered_json run,
               std::vector<std::string> stops);
    void begin(std::int64_t index, std::int64_t prompt_index, const std::string& prompt,
               std::int32_t last_token) override;
    void token(const ouro::gen::TraceRecord& r) override;
    void end(const ouro::gen::DecodedSequence& out) override;

private:
    std::FILE* out_;
    const ouro::data::Tokenizer& tokenizer_;
    nlohmann::ordered_json run_;
    std::vector<std::string> stops_;
    nlohmann::ordered_json line_; ///< the sample being written
    std::int32_t prev_ = -1;      ///< the token before the next one
};

/// What every JSON line of a run repeats: "seed" (null for contrastive search, which draws
/// nothing), "decoder" (as printed on stderr), "settings" (every setting of the decoder, the
/// length and context flags, the stop strings).
nlohmann::ordered_json run_json(const Options& o, const std::string& decoder, bool sampling);

} // namespace sample
