// sample's three ways to decode, all through the library's gen::decode: the sampler chain
// (streamed), contrastive search and beam search, each writing its samples and a one-line summary
// per sample on stderr.
#pragma once

#include "options.hpp"
#include "token_printer.hpp"
#include "writers.hpp"

#include <ouro/gen/decode.hpp>
#include <ouro/io/model_bundle.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sample {

/// Everything loaded and checked before the first token.
struct Job {
    const Options& o;
    ouro::io::ModelBundle& bundle;
    std::vector<std::string> texts;                 ///< the prompts as given
    std::vector<std::vector<std::int32_t>> prompts; ///< the story separator + their tokens
    ouro::gen::Decoder decoder;                     ///< from the flags (decoder_of)
    ouro::gen::DecodeOptions options; ///< the context policy, lengths, end token, stop strings
    Writer& writer;                   ///< the samples of the chain and of contrastive search
    TokenPrinter& printer;            ///< the hypotheses of beam search
    std::vector<ouro::gen::TraceRecord> trace; ///< every sample's records, when --trace

    /// The session for one sample at a time (the decoder's slots) under the context policy
    /// (and --half), with every prompt checked to fit it: the stop policy refuses a prompt
    /// longer than the context (gen::check_prompt_fits, "prompt 2 has ...").
    ouro::gen::InferenceSession session() const;
    /// The text of `id` after `prev` (llama2.c's tokenizer drops a leading space after BOS).
    std::string token_text(std::int32_t prev, std::int32_t id) const {
        return bundle.tokenizer.decode_next(prev, id);
    }
    /// Keeps a sample's records for --trace, as sequence `sequence`.
    void keep_trace(std::vector<ouro::gen::TraceRecord>& records, std::int64_t sequence);
};

/// The decoder the flags ask for: --beam N (every hypothesis kept; --num-samples of them are
/// printed), --contrastive, else the sampler chain of --samplers and the sampler flags.
ouro::gen::Decoder decoder_of(const CLI::App& app, const Options& o);
/// The decode options of the flags: lengths, context policy, --half, the end token, --end-of-text,
/// --stop, --top-logprobs.
ouro::gen::DecodeOptions decode_options_of(const Options& o, std::int32_t end_token);

/// --num-samples samples per prompt from the sampler chain; sample k draws from stream k of
/// --seed.
void run_sampling(Job& job, ouro::gen::InferenceSession& session);
/// Contrastive search, one sample per prompt.
void run_contrastive(Job& job, ouro::gen::InferenceSession& session);
/// Beam search: the --num-samples best hypotheses per prompt, as text on the printer.
void run_beam(Job& job, ouro::gen::InferenceSession& session);

} // namespace sample
