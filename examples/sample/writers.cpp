// sample's writers: the streamed text and the JSON Lines of --json (see writers.hpp).
#include "writers.hpp"

#include <ouro/gen/truncation.hpp>

#include <cmath>
#include <utility>

using namespace ouro;
using json = nlohmann::ordered_json;

namespace sample {

namespace {

// Whether `text` is valid UTF-8 (JSON strings must be; a byte-level BPE token can hold part of a
// character): nlohmann's strict dump refuses anything else.
bool valid_utf8(const std::string& text) {
    try {
        (void)json(text).dump();
        return true;
    } catch (const json::type_error&) {
        return false;
    }
}

// "text", and when it is not valid UTF-8 "bytes" too: the exact bytes, as numbers (the dump
// replaces the bad bytes of "text" by U+FFFD).
void put_text(json& j, const std::string& text) {
    j["text"] = text;
    if (!valid_utf8(text)) {
        json bytes = json::array();
        for (const char c : text)
            bytes.push_back(int(static_cast<unsigned char>(c)));
        j["bytes"] = std::move(bytes);
    }
}

// Natural logarithm; a probability of 0 gives -inf, which the dump writes as null.
double log_of(double p) {
    return std::log(p);
}

} // namespace

void TextWriter::begin(std::int64_t index, std::int64_t, const std::string& prompt, std::int32_t) {
    if (index > 0)
        printer_.plain(separator);
    printer_.plain(prompt);
    printer_.start(stops_);
}

void TextWriter::token(const gen::TraceRecord& r) {
    printer_.token(r.text, r.decision.prob_raw, r.repeats[3]);
}

void TextWriter::end(const gen::DecodedSequence&) {
    printer_.finish();
}

JsonWriter::JsonWriter(std::FILE* out, const data::Tokenizer& tokenizer, json run,
                       std::vector<std::string> stops)
    : out_(out), tokenizer_(tokenizer), run_(std::move(run)), stops_(std::move(stops)) {}

void JsonWriter::begin(std::int64_t index, std::int64_t prompt_index, const std::string& prompt,
                       std::int32_t last_token) {
    line_ = json::object();
    line_["index"] = index;
    line_["prompt_index"] = prompt_index;
    line_["prompt"] = prompt;
    line_["tokens"] = json::array();
    prev_ = last_token;
}

void JsonWriter::token(const gen::TraceRecord& r) {
    const gen::TokenDecision& d = r.decision;
    json t = json::object();
    t["id"] = r.token;
    put_text(t, r.text);
    t["logprob"] = log_of(d.prob_final);
    t["logprob_raw"] = log_of(d.prob_raw);
    t["rank_raw"] = d.rank_raw;
    json top = json::array();
    for (const auto& [id, p] : d.top_raw) {
        json alt = json::object();
        alt["id"] = id;
        put_text(alt, tokenizer_.decode_next(prev_, id)); // the text it would have had here
        alt["logprob"] = log_of(p);
        top.push_back(std::move(alt));
    }
    t["top_logprobs"] = std::move(top);
    line_["tokens"].push_back(std::move(t));
    prev_ = r.token;
}

void JsonWriter::end(const gen::DecodedSequence& out) {
    // The fields in reading order: what was asked, what came, how it was made, the tokens.
    json j = json::object();
    for (const char* key : {"index", "prompt_index", "prompt"})
        j[key] = line_[key];
    put_text(j, out.text);
    j["finish_reason"] = gen::to_string(out.finish);
    j["stop"] = out.stop_index >= 0 ? json(stops_[std::size_t(out.stop_index)]) : json(nullptr);
    for (const auto& [key, value] : run_.items())
        j[key] = value;
    j["tokens"] = std::move(line_["tokens"]);
    const std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fflush(out_);
}

json run_json(const Options& o, const std::string& decoder, bool sampling) {
    json run = json::object();
    run["seed"] = sampling ? json(o.seed) : json(nullptr);
    run["decoder"] = decoder;
    json s = json::object();
    s["max_new_tokens"] = o.max_new_tokens;
    s["context_policy"] = o.context_policy;
    s["context"] = o.context;
    if (o.context_policy == "sinks")
        s["sink_tokens"] = o.sink_tokens;
    s["end_of_text"] = o.end_of_text;
    s["stop"] = o.stop;
    if (!sampling) {
        s["contrastive_k"] = o.contrastive_k;
        s["alpha"] = o.alpha;
        run["settings"] = std::move(s);
        return run;
    }
    const gen::SamplerSettings& c = o.sampler;
    s["greedy"] = c.greedy;
    s["temperature"] = c.temperature;
    s["top_k"] = c.top_k;
    s["top_p"] = c.top_p;
    s["min_p"] = c.min_p;
    s["typical"] = c.typical;
    s["epsilon"] = c.epsilon;
    s["eta"] = c.eta;
    s["top_n_sigma"] = c.top_n_sigma;
    s["mirostat"] = c.mirostat;
    s["mirostat_tau"] = c.mirostat_tau;
    s["mirostat_eta"] = c.mirostat_eta;
    s["mirostat_surprise"] = gen::to_string(c.mirostat_surprise);
    s["repetition_penalty"] = c.repetition_penalty;
    s["penalty_window"] = c.penalty_window;
    s["frequency_penalty"] = c.frequency_penalty;
    s["presence_penalty"] = c.presence_penalty;
    s["no_repeat_ngram"] = c.no_repeat_ngram;
    s["dry_multiplier"] = c.dry_multiplier;
    s["dry_base"] = c.dry_base;
    s["dry_allowed_length"] = c.dry_allowed_length;
    s["xtc_probability"] = c.xtc_probability;
    s["xtc_threshold"] = c.xtc_threshold;
    json bias = json::array();
    for (const auto& [id, b] : c.logit_bias) // a ban (-inf) as the string "-inf"
        bias.push_back(json::array({id, std::isinf(b) ? json("-inf") : json(b)}));
    s["logit_bias"] = std::move(bias);
    s["samplers"] = o.samplers.empty() ? std::string(gen::default_sampler_order) : o.samplers;
    run["settings"] = std::move(s);
    return run;
}

} // namespace sample
