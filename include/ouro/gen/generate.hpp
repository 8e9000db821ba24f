// The generation loop: prompts in, tokens out, one InferenceSession slot per prompt.
//
//   Greedy greedy;                               // any type with SamplerChain's sample()
//   GenerateOptions opt{.max_new_tokens = 200, .end_token = tokenizer.eot_id()};
//   GeneratedSequence out = generate(model, greedy, prompt, opt);
//
// Each step asks the chooser for the next token of every unfinished sequence (from the raw logits
// of its slot and its history, prompt + generated tokens), records a TraceRecord, calls the
// callback, and feeds all the new tokens to the session in one pass. The chooser is a template
// parameter with the signature of SamplerChain::sample (sampler.hpp):
//   std::int32_t sample(std::span<const float> logits, std::span<const std::int32_t> history,
//                       Rng& rng, TokenDecision* decision);
// and, when it has one, reset() is called before each sequence. Sequence i draws from its own
// Rng, seeded Rng::stream_value(options.seed, i), so a sequence gets the same tokens alone or in a
// batch, and (the session's results not depending on the thread count) with any number of
// threads. The choosers of different sequences run in parallel (each on its own object, Rng and
// history); the callback and the trace see the tokens in sequence order.
//
// Past the context (COLLAPSE.md, mechanism 4), ContextOptions::policy decides:
//   stop   the sequence ends (FinishReason::context_full) when its next token would be fed at
//          position `context`: the last token generated sits at position `context`, predicted from
//          positions 0 .. context-1, as the last target of a training batch. A prompt longer than
//          the context is an error.
//   crop   nanoGPT's rule: once the context is full, every new token is predicted by a fresh
//          forward pass over the last `context` tokens, at positions 0 .. context-1 (the cache is
//          emptied and refilled). A longer prompt is cropped to its last `context` tokens. Exact
//          but costs a whole forward pass of `context` tokens per token.
//   slide  a sliding KV cache of the last `context` tokens (RoPE and ALiBi only: learned
//          positions have no embedding past block_size, so it is a ConfigError with them).
//   sinks  StreamingLLM: the first sink_tokens tokens stay in the cache, then a sliding window
//          (RoPE and ALiBi only; positions within the cache, see session.hpp).
// `context` is block_size unless set; with RoPE or ALiBi it may be longer (extrapolation).
//
// The end-of-text token (COLLAPSE.md, mechanism 3), when GenerateOptions::end_token is set:
//   stop       (default) the end token is the last token of the sequence (recorded in the output
//              and the trace, not fed to the model); FinishReason::end_of_text.
//   ignore     the end token's logit is set to -infinity before the chooser sees it, so it is
//              never chosen and the model has to continue past its story's end (llama.cpp's
//              --ignore-eos). The trace's p_end still reports its raw probability.
//   new_story  the end token is recorded, fed to the model like any token, and generation goes
//              on: the model sees the previous story followed by <|endoftext|>, as in the packed
//              stream it was trained on, and starts a new story. The cache, the history (for
//              penalties and the n-gram flags) and the chooser's state carry over; the trace's
//              `story` counts the end tokens so far.
//
// Stop strings (GenerateOptions::stop_strings, with a decode function): a sequence ends
// (FinishReason::stop_string) with the token that completes one of them in the text of its
// generated tokens, and GeneratedSequence::text ends just before it: the stop string is not part
// of the text (OpenAI's and llama.cpp server's `stop`; matching rules in stop_strings.hpp). The
// tokens and the trace keep every generated token, the one that completed the stop string
// included. A token that completes a stop string and is also the end token ends with stop_string.
#pragma once

#include "ouro/core/rng.hpp"
#include "ouro/gen/session.hpp"
#include "ouro/gen/stop_strings.hpp"
#include "ouro/gen/trace.hpp"

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ouro::gen {

enum class ContextPolicy { stop, crop, slide, sinks };
/// "stop", "crop", "slide", "sinks".
const char* to_string(ContextPolicy policy);
/// Parses the names above; throws ConfigError naming the bad value and the valid ones.
ContextPolicy parse_context_policy(std::string_view name);

enum class EndOfText { stop, ignore, new_story };
/// "stop", "ignore", "new_story".
const char* to_string(EndOfText mode);
/// Parses the names above; throws ConfigError naming the bad value and the valid ones.
EndOfText parse_end_of_text(std::string_view name);

enum class FinishReason { max_tokens, end_of_text, context_full, stop_string };
/// "max_tokens", "end_of_text", "context_full", "stop_string".
const char* to_string(FinishReason reason);

struct ContextOptions {
    ContextPolicy policy = ContextPolicy::stop;
    std::int64_t context = 0;     ///< tokens the model may attend to; 0 = block_size
    std::int64_t sink_tokens = 4; ///< kept by the sinks policy (StreamingLLM uses 4)
};

/// The one check of "a prompt longer than the context cannot start under the stop policy": throws
/// ConfigError "<prompt_name> has 17 tokens, more than the context of 16 under the 'stop' policy
/// (use crop, slide or sinks)" when policy is stop and tokens > context (prompt_name e.g.
/// "generate: prompt 0", "beam_search: the prompt"). Other policies take any length.
void check_prompt_fits(ContextPolicy policy, std::int64_t tokens, std::int64_t context,
                       const std::string& prompt_name);

/// The session a context policy needs for `batch_size` sequences: its context, and a sliding
/// cache for slide and sinks. Throws ConfigError, e.g. "generate: the 'slide' policy needs RoPE or
/// ALiBi positions; this model has learned positions (use 'crop' or 'stop')".
SessionOptions session_options(const nn::GPTConfig& config, const ContextOptions& context,
                               std::int64_t batch_size);

/// Feeds tokens to a session's slots under a context policy; shared by generate() and the search
/// decoders. The session must have been built with session_options() for the policy.
class ContextFeeder {
public:
    /// Throws ConfigError when the session does not match the policy (e.g. a sliding cache for
    /// stop, or none for slide).
    ContextFeeder(InferenceSession& session, const ContextOptions& options);

    /// Empties `slot` and feeds it `prompt` (its last `context` tokens under crop). Returns the
    /// number of prompt tokens fed. With `hidden`, resizes it to (fed tokens) x C and fills it
    /// with their hidden states. Throws ConfigError for an empty prompt, or one longer than the
    /// context under stop: "generate: prompt 0 has 65 tokens, more than the context of 64 under
    /// the 'stop' policy (use crop, slide or sinks)" (`sequence` names the prompt).
    std::int64_t start(std::int64_t slot, std::span<const std::int32_t> prompt,
                       std::int64_t sequence = 0, std::vector<float>* hidden = nullptr);
    /// Whether `slot` can take its next token (false only under stop, once the context is full).
    bool can_feed(std::int64_t slot) const;
    /// Schedules the last token of `history` (the slot's whole sequence) for `slot`. Under crop
    /// with a full context the slot is recomputed at once on the last `context` tokens of
    /// history; otherwise the token waits for flush().
    void add(std::int64_t slot, std::span<const std::int32_t> history);
    /// Feeds the scheduled tokens in one pass.
    void flush();

    InferenceSession& session() { return session_; }
    const ContextOptions& options() const { return options_; }

private:
    InferenceSession& session_;
    ContextOptions options_;
    std::vector<std::int32_t> pending_;
    bool any_pending_ = false;
};

struct GenerateOptions {
    std::int64_t max_new_tokens = 256;
    ContextOptions context{};
    std::int32_t end_token = -1; ///< the end-of-text id; -1 for none
    EndOfText end_of_text = EndOfText::stop;
    std::uint64_t seed = 0; ///< sequence i draws from Rng(Rng::stream_value(seed, i))
    /// For a run split into several calls (sequences decoded in parallel, decode.hpp): sequence
    /// i of this call is sequence first_sequence + i of the run, and draws from
    /// Rng(Rng::stream_value(seed, first_sequence + i)); its records' `sequence` says so too.
    std::uint64_t first_sequence = 0;
    /// Keep a TraceRecord per generated token in the result.
    bool trace = true;
    /// Text of a token for the trace, GeneratedSequence::text and the stop strings (optional;
    /// e.g. the tokenizer's decode of one id). Called once per generated token, on the calling
    /// thread, step by step and within a step in sequence order.
    std::function<std::string(std::int32_t)> decode{};
    /// Called after each token is chosen, with its record (streaming).
    std::function<void(const TraceRecord&)> on_token{};
    /// A sequence ends when the text of its generated tokens contains one of these (see above
    /// and stop_strings.hpp); none may be empty, and they need `decode`.
    std::vector<std::string> stop_strings{};
};

struct GeneratedSequence {
    std::vector<std::int32_t> tokens; ///< generated tokens only (the prompt is not repeated)
    FinishReason finish = FinishReason::max_tokens;
    std::vector<TraceRecord> trace; ///< one per generated token when options.trace
    /// The decode of every generated token, concatenated, cut before the stop string that
    /// ended the sequence (without it); "" without a decode function.
    std::string text;
    /// The index in the options' stop_strings of the one that ended the sequence, else -1.
    std::int64_t stop_index = -1;
};

/// Anything with SamplerChain's sample() signature.
template <typename C>
concept TokenChooser = requires(C& chooser, std::span<const float> logits,
                                std::span<const std::int32_t> history, Rng& rng,
                                TokenDecision* decision) {
    { chooser.sample(logits, history, rng, decision) } -> std::convertible_to<std::int32_t>;
};

namespace detail {

// Room reserved up front for the generated tokens: max_new_tokens, but at most 2^20, so that a
// limit such as INT64_MAX on a generation that stops early (a full context, an end token) is not
// an allocation of that size; past it the vectors grow by doubling.
inline std::size_t reserve_for(std::int64_t max_new_tokens) {
    return std::size_t(std::min<std::int64_t>(max_new_tokens, std::int64_t(1) << 20));
}

// Bookkeeping of one sequence in the loop.
struct SequenceState {
    std::vector<std::int32_t> history; // prompt + generated, reserved up front
    std::int64_t prompt_length = 0;
    std::int64_t story = 0;
    bool done = false;
    Rng rng{0};
    StopStrings stops; // the text so far, and the stop strings looked for in it
    GeneratedSequence out;
};

// Validates a request before any work: throws ConfigError with the messages the tests check.
void check_request(const InferenceSession& session, std::int64_t choosers,
                   const std::vector<std::vector<std::int32_t>>& prompts,
                   const GenerateOptions& options);
// Everything of a token's TraceRecord but the chooser's decision: the n-gram flags (on history,
// which already ends with the token), p_end from the raw logits, the text.
void fill_record(TraceRecord& record, std::span<const float> raw_logits,
                 std::span<const std::int32_t> history, const GenerateOptions& options);
// fill_record without the text (options.decode may not be safe to call from several threads).
void fill_statistics(TraceRecord& record, std::span<const float> raw_logits,
                     std::span<const std::int32_t> history, const GenerateOptions& options);
// Runs choose(0) .. choose(count - 1), spread over the threads when a ThreadChooser finds that
// faster (core/thread_chooser.hpp); the first exception thrown is rethrown after all have run.
void choose_in_parallel(std::int64_t count, const std::function<void(std::int64_t)>& choose);
// The logits the chooser sees: the raw ones, or (EndOfText::ignore) a copy in `scratch` with the
// end token's logit at -infinity.
std::span<const float> chooser_logits(std::span<const float> raw, std::vector<float>& scratch,
                                      const GenerateOptions& options);

} // namespace detail

/// Generates from prompts[i] in slot i of `session` with choosers[i], all sequences stepping
/// together; returns one GeneratedSequence per prompt. The session's slots are reset first;
/// build it with session_options(config, options.context, prompts.size()) or larger. Throws
/// ConfigError before any work for: no prompts ("generate: no prompts"), an empty prompt
/// ("generate: prompt 1 is empty"), a chooser count other than the prompt count, more prompts
/// than slots, max_new_tokens < 0, an end token outside the vocabulary, a prompt token outside
/// it, a prompt too long for the stop policy, a session that does not fit the policy, an empty
/// stop string ("stop strings: string 0 is empty") or stop strings without a decode function.
template <TokenChooser Chooser>
std::vector<GeneratedSequence> generate(InferenceSession& session, std::span<Chooser> choosers,
                                        const std::vector<std::vector<std::int32_t>>& prompts,
                                        const GenerateOptions& options) {
    detail::check_request(session, std::int64_t(choosers.size()), prompts, options);
    ContextFeeder feeder(session, options.context);
    const std::int64_t n = std::int64_t(prompts.size());
    std::vector<detail::SequenceState> seq(static_cast<std::size_t>(n));
    session.reset();
    for (std::int64_t i = 0; i < n; ++i) {
        detail::SequenceState& s = seq[std::size_t(i)];
        const std::vector<std::int32_t>& prompt = prompts[std::size_t(i)];
        s.history.reserve(prompt.size() + detail::reserve_for(options.max_new_tokens));
        s.history.assign(prompt.begin(), prompt.end());
        s.prompt_length = std::int64_t(prompt.size());
        s.rng = Rng(Rng::stream_value(options.seed, options.first_sequence + std::uint64_t(i)));
        s.stops = StopStrings(options.stop_strings);
        s.out.tokens.reserve(detail::reserve_for(options.max_new_tokens));
        if (options.trace)
            s.out.trace.reserve(detail::reserve_for(options.max_new_tokens));
        if constexpr (requires(Chooser & c) { c.reset(); })
            choosers[std::size_t(i)].reset();
        feeder.start(i, prompt, i);
        s.done = options.max_new_tokens == 0;
    }
    // Per sequence: the chooser's logits (EndOfText::ignore) and the record of its new token.
    std::vector<std::vector<float>> scratch(static_cast<std::size_t>(n));
    std::vector<TraceRecord> records(static_cast<std::size_t>(n));
    std::vector<std::int64_t> active;
    for (std::int64_t step = 0; step < options.max_new_tokens; ++step) {
        active.clear();
        for (std::int64_t i = 0; i < n; ++i)
            if (!seq[std::size_t(i)].done)
                active.push_back(i);
        // The choices, sequences in parallel: each has its own chooser, Rng and history.
        detail::choose_in_parallel(std::int64_t(active.size()), [&](std::int64_t a) {
            const std::int64_t i = active[std::size_t(a)];
            detail::SequenceState& s = seq[std::size_t(i)];
            TraceRecord& record = records[std::size_t(i)];
            record = TraceRecord{};
            record.sequence = std::int64_t(options.first_sequence) + i;
            record.step = step;
            record.position = std::int64_t(s.history.size());
            record.context = session.cached(i);
            record.story = s.story;
            const std::span<const float> raw = session.logits(i);
            record.token = static_cast<std::int32_t>(choosers[std::size_t(i)].sample(
                detail::chooser_logits(raw, scratch[std::size_t(i)], options), s.history, s.rng,
                &record.decision));
            if (record.token < 0 || record.token >= session.config().vocab_size)
                throw ConfigError("generate: the chooser returned token " +
                                  std::to_string(record.token) + ", outside the vocabulary [0, " +
                                  std::to_string(session.config().vocab_size) + ")");
            s.history.push_back(record.token);
            detail::fill_statistics(record, raw, s.history, options);
        });
        // In sequence order: the text, the callback, the trace, what comes next.
        bool any = false;
        for (const std::int64_t i : active) {
            detail::SequenceState& s = seq[std::size_t(i)];
            TraceRecord& record = records[std::size_t(i)];
            const std::int32_t token = record.token;
            s.out.tokens.push_back(token);
            bool stop = false;
            if (options.decode) {
                record.text = options.decode(token);
                stop = s.stops.push(record.text);
            }
            if (options.on_token)
                options.on_token(record);
            if (options.trace)
                s.out.trace.push_back(std::move(record));
            const bool is_end = options.end_token >= 0 && token == options.end_token;
            if (stop) {
                s.done = true;
                s.out.finish = FinishReason::stop_string;
            } else if (is_end && options.end_of_text == EndOfText::stop) {
                s.done = true;
                s.out.finish = FinishReason::end_of_text;
            } else if (step + 1 == options.max_new_tokens) {
                s.done = true;
                s.out.finish = FinishReason::max_tokens;
            } else if (!feeder.can_feed(i)) {
                s.done = true;
                s.out.finish = FinishReason::context_full;
            } else {
                if (is_end)
                    ++s.story;
                feeder.add(i, s.history);
                any = true;
            }
        }
        if (!any)
            break;
        feeder.flush();
    }
    std::vector<GeneratedSequence> out;
    out.reserve(std::size_t(n));
    for (detail::SequenceState& s : seq) {
        s.out.text = s.stops.text();
        s.out.stop_index = s.stops.matched();
        out.push_back(std::move(s.out));
    }
    return out;
}

/// One prompt with one chooser, in a session built for the options (see the batch overload for
/// what throws).
template <TokenChooser Chooser>
GeneratedSequence generate(const nn::GPT<float>& model, Chooser& chooser,
                           std::span<const std::int32_t> prompt, const GenerateOptions& options) {
    InferenceSession session(model, session_options(model.config, options.context, 1));
    const std::vector<std::vector<std::int32_t>> prompts{{prompt.begin(), prompt.end()}};
    return std::move(generate(session, std::span<Chooser>(&chooser, 1), prompts, options)[0]);
}

/// Every trace record of every sequence, in sequence order (for the trace writers).
std::vector<TraceRecord> all_records(const std::vector<GeneratedSequence>& sequences);

} // namespace ouro::gen
