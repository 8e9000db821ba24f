// The non-template half of the generation loop: policy names, the session a policy needs, the
// ContextFeeder, request validation and the parts of a trace record the chooser does not fill.
#include "ouro/gen/generate.hpp"

#include "ouro/core/thread_chooser.hpp"

#include "numerics/logit_stats.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>

namespace ouro::gen {
namespace {

std::string str(std::int64_t v) {
    return std::to_string(v);
}

bool slides(ContextPolicy p) {
    return p == ContextPolicy::slide || p == ContextPolicy::sinks;
}

} // namespace

const char* to_string(ContextPolicy policy) {
    switch (policy) {
    case ContextPolicy::stop:
        return "stop";
    case ContextPolicy::crop:
        return "crop";
    case ContextPolicy::slide:
        return "slide";
    case ContextPolicy::sinks:
        return "sinks";
    }
    return "stop";
}

ContextPolicy parse_context_policy(std::string_view name) {
    for (ContextPolicy p :
         {ContextPolicy::stop, ContextPolicy::crop, ContextPolicy::slide, ContextPolicy::sinks})
        if (name == to_string(p))
            return p;
    throw ConfigError("context policy: unknown value '" + std::string(name) +
                      "' (expected stop, crop, slide or sinks)");
}

const char* to_string(EndOfText mode) {
    switch (mode) {
    case EndOfText::stop:
        return "stop";
    case EndOfText::ignore:
        return "ignore";
    case EndOfText::new_story:
        return "new_story";
    }
    return "stop";
}

EndOfText parse_end_of_text(std::string_view name) {
    for (EndOfText m : {EndOfText::stop, EndOfText::ignore, EndOfText::new_story})
        if (name == to_string(m))
            return m;
    throw ConfigError("end of text: unknown value '" + std::string(name) +
                      "' (expected stop, ignore or new_story)");
}

const char* to_string(FinishReason reason) {
    switch (reason) {
    case FinishReason::max_tokens:
        return "max_tokens";
    case FinishReason::end_of_text:
        return "end_of_text";
    case FinishReason::context_full:
        return "context_full";
    case FinishReason::stop_string:
        return "stop_string";
    }
    return "max_tokens";
}

void check_prompt_fits(ContextPolicy policy, std::int64_t tokens, std::int64_t context,
                       const std::string& prompt_name) {
    if (policy == ContextPolicy::stop && tokens > context)
        throw ConfigError(prompt_name + " has " + str(tokens) +
                          " tokens, more than the context of " + str(context) +
                          " under the 'stop' policy (use crop, slide or sinks)");
}

SessionOptions session_options(const nn::GPTConfig& config, const ContextOptions& context,
                               std::int64_t batch_size) {
    if (context.context < 0)
        throw ConfigError("generate: context must be at least 1 (or 0 for block_size), got " +
                          str(context.context));
    if (slides(context.policy))
        require_sliding_positions(config, std::string("generate: the '") +
                                              to_string(context.policy) + "' policy");
    if (context.policy == ContextPolicy::sinks && context.sink_tokens < 1)
        throw ConfigError("generate: the 'sinks' policy needs sink_tokens >= 1, got " +
                          str(context.sink_tokens));
    SessionOptions s;
    s.batch_size = batch_size;
    s.context = context.context;
    s.sliding = slides(context.policy);
    s.sink_tokens = context.policy == ContextPolicy::sinks ? context.sink_tokens : 0;
    return s;
}

ContextFeeder::ContextFeeder(InferenceSession& session, const ContextOptions& options)
    : session_(session), options_(options) {
    const bool want_sinks = options.policy == ContextPolicy::sinks;
    if (session.sliding() != slides(options.policy) ||
        (want_sinks && session.sink_tokens() != options.sink_tokens))
        throw ConfigError(std::string("generate: the session does not fit the '") +
                          to_string(options.policy) +
                          "' policy (build it with gen::session_options)");
    options_.context = session.context();
    pending_.assign(std::size_t(session.batch_size()), InferenceSession::skip);
}

std::int64_t ContextFeeder::start(std::int64_t slot, std::span<const std::int32_t> prompt,
                                  std::int64_t sequence, std::vector<float>* hidden) {
    const std::int64_t n = std::int64_t(prompt.size()), ctx = options_.context;
    if (n == 0)
        throw ConfigError("generate: prompt " + str(sequence) + " is empty");
    check_prompt_fits(options_.policy, n, ctx, "generate: prompt " + str(sequence));
    if (options_.policy == ContextPolicy::crop && n > ctx)
        prompt = prompt.last(std::size_t(ctx));
    session_.reset(slot);
    std::span<float> out;
    if (hidden) {
        hidden->resize(prompt.size() * std::size_t(session_.config().n_embd));
        out = *hidden;
    }
    session_.prefill(slot, prompt, out);
    return std::int64_t(prompt.size());
}

bool ContextFeeder::can_feed(std::int64_t slot) const {
    return options_.policy == ContextPolicy::crop || session_.can_feed(slot);
}

void ContextFeeder::add(std::int64_t slot, std::span<const std::int32_t> history) {
    if (session_.can_feed(slot)) {
        pending_[std::size_t(slot)] = history.back();
        any_pending_ = true;
        return;
    }
    if (options_.policy != ContextPolicy::crop)
        throw ConfigError("generate: slot " + str(slot) + " is full under the '" +
                          to_string(options_.policy) + "' policy");
    // nanoGPT's crop: a fresh pass over the last `context` tokens, at positions from 0.
    session_.reset(slot);
    session_.prefill(slot, history.last(std::size_t(options_.context)));
}

void ContextFeeder::flush() {
    if (!any_pending_)
        return;
    session_.step(pending_);
    std::fill(pending_.begin(), pending_.end(), InferenceSession::skip);
    any_pending_ = false;
}

namespace detail {

void check_request(const InferenceSession& session, std::int64_t choosers,
                   const std::vector<std::vector<std::int32_t>>& prompts,
                   const GenerateOptions& options) {
    const std::int64_t n = std::int64_t(prompts.size());
    const std::int64_t V = session.config().vocab_size;
    if (n == 0)
        throw ConfigError("generate: no prompts");
    if (choosers != n)
        throw ConfigError("generate: " + str(choosers) + " choosers for " + str(n) +
                          " prompts (one per prompt)");
    if (n > session.batch_size())
        throw ConfigError("generate: " + str(n) + " prompts for a session of " +
                          str(session.batch_size()) + " slots");
    if (options.max_new_tokens < 0)
        throw ConfigError("generate: max_new_tokens must be at least 0, got " +
                          str(options.max_new_tokens));
    if (options.end_token < -1 || options.end_token >= V)
        throw ConfigError("generate: end_token " + str(options.end_token) +
                          " is outside the vocabulary [0, " + str(V) + ") (-1 for none)");
    (void)StopStrings(options.stop_strings); // throws for an empty one
    if (!options.stop_strings.empty() && !options.decode)
        throw ConfigError("generate: stop strings need a decode function (the text of a token)");
    const ContextPolicy policy = options.context.policy;
    for (std::int64_t i = 0; i < n; ++i) {
        const std::vector<std::int32_t>& p = prompts[std::size_t(i)];
        if (p.empty())
            throw ConfigError("generate: prompt " + str(i) + " is empty");
        for (std::size_t j = 0; j < p.size(); ++j)
            if (p[j] < 0 || p[j] >= V)
                throw ConfigError("generate: prompt " + str(i) + " has token " + str(p[j]) +
                                  " at index " + str(std::int64_t(j)) +
                                  ", outside the vocabulary [0, " + str(V) + ")");
        check_prompt_fits(policy, std::int64_t(p.size()), session.context(),
                          "generate: prompt " + str(i));
    }
}

void fill_record(TraceRecord& record, std::span<const float> raw_logits,
                 std::span<const std::int32_t> history, const GenerateOptions& options) {
    if (options.decode)
        record.text = options.decode(record.token);
    fill_statistics(record, raw_logits, history, options);
}

void choose_in_parallel(std::int64_t count, const std::function<void(std::int64_t)>& choose) {
    // One chooser for every generate() of the process (a loop runs its choices once per token).
    static ThreadChooser chooser;
    const ChosenThreads threads(chooser, std::max<std::int64_t>(count, 1));
    // The error of the first sequence that failed, whichever thread ran it.
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(count));
#pragma omp parallel for schedule(dynamic) num_threads(threads.threads()) if (count > 1)
    for (std::int64_t a = 0; a < count; ++a) {
        try {
            choose(a);
        } catch (...) {
            errors[std::size_t(a)] = std::current_exception();
        }
    }
    for (const std::exception_ptr& e : errors)
        if (e)
            std::rethrow_exception(e);
}

void fill_statistics(TraceRecord& record, std::span<const float> raw_logits,
                     std::span<const std::int32_t> history, const GenerateOptions& options) {
    // The n-gram ending at the new token (index t) against every earlier n-gram.
    const std::int64_t t = std::int64_t(history.size()) - 1;
    for (std::int64_t n = 1; n <= 4; ++n) {
        bool seen = false;
        for (std::int64_t j = n - 1; j < t && !seen && t + 1 >= n; ++j)
            seen = std::equal(history.begin() + (j - n + 1), history.begin() + (j + 1),
                              history.begin() + (t - n + 1));
        record.repeats[std::size_t(n - 1)] = seen;
    }
    if (options.end_token >= 0)
        record.p_end = numerics::token_probability(raw_logits, options.end_token);
}

std::span<const float> chooser_logits(std::span<const float> raw, std::vector<float>& scratch,
                                      const GenerateOptions& options) {
    if (options.end_of_text != EndOfText::ignore || options.end_token < 0)
        return raw;
    scratch.assign(raw.begin(), raw.end());
    scratch[std::size_t(options.end_token)] = -std::numeric_limits<float>::infinity();
    return scratch;
}

} // namespace detail

std::vector<TraceRecord> all_records(const std::vector<GeneratedSequence>& sequences) {
    std::vector<TraceRecord> out;
    for (const GeneratedSequence& s : sequences)
        out.insert(out.end(), s.trace.begin(), s.trace.end());
    return out;
}

} // namespace ouro::gen
