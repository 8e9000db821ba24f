// rep/l, wrep/l and uniq of teacher-forced predictions. See the header for the definitions.
#include "ouro/lab/next_token_repetition.hpp"

#include "ngram_keys.hpp"
#include "ouro/core/error.hpp"

#include <string>

namespace ouro::lab {

namespace {

constexpr const char* op = "next_token_repetition";

void check_context(std::int64_t context) {
    if (context < 1)
        throw ConfigError(std::string(op) + ": context must be at least 1, got " +
                          std::to_string(context));
}

std::string length_mismatch(std::size_t predictions, std::size_t targets) {
    return "predictions and targets differ in length: " + std::to_string(predictions) + " and " +
           std::to_string(targets);
}

// Adds one sequence's counts into `out`. `window` holds, per token, how many of the previous l
// targets equal it (a sliding window: the target at t enters after position t is scored, the
// one at t - l leaves); `distinct` collects the predictions.
void accumulate(std::span<const std::int32_t> predictions, std::span<const std::int32_t> targets,
                std::int64_t context, detail::KeyMap& window, detail::KeyMap& distinct,
                NextTokenRepetition& out) {
    window.clear();
    const auto T = std::int64_t(targets.size());
    auto in_window = [&](std::int32_t token) {
        const std::uint32_t* c = window.find(detail::token_key(token));
        return c != nullptr && *c > 0;
    };
    for (std::int64_t t = 0; t < T; ++t) {
        const std::int32_t p = predictions[std::size_t(t)];
        const std::int32_t y = targets[std::size_t(t)];
        if (in_window(p)) {
            ++out.repeats;
            if (p != y)
                ++out.wrong_repeats;
        }
        if (in_window(y))
            ++out.human_repeats;
        bool inserted = false;
        distinct.insert(detail::token_key(p), 0, inserted);
        window.increment(detail::token_key(y));
        if (t - context >= 0)
            --*window.find(detail::token_key(targets[std::size_t(t - context)]));
    }
    out.predictions += T;
}

} // namespace

NextTokenRepetition next_token_repetition(std::span<const std::int32_t> predictions,
                                          std::span<const std::int32_t> targets,
                                          std::int64_t context) {
    if (predictions.size() != targets.size())
        throw ShapeError(std::string(op) + ": " +
                         length_mismatch(predictions.size(), targets.size()));
    check_context(context);
    detail::KeyMap window, distinct;
    NextTokenRepetition out;
    accumulate(predictions, targets, context, window, distinct, out);
    out.uniq = std::int64_t(distinct.size());
    return out;
}

NextTokenRepetition next_token_repetition(std::span<const std::vector<std::int32_t>> predictions,
                                          std::span<const std::vector<std::int32_t>> targets,
                                          std::int64_t context) {
    if (predictions.size() != targets.size())
        throw ShapeError(std::string(op) + ": " + std::to_string(predictions.size()) +
                         " prediction sequences but " + std::to_string(targets.size()) +
                         " target sequences");
    for (std::size_t s = 0; s < predictions.size(); ++s)
        if (predictions[s].size() != targets[s].size())
            throw ShapeError(std::string(op) + ": sequence " + std::to_string(s) + ": " +
                             length_mismatch(predictions[s].size(), targets[s].size()));
    check_context(context);
    detail::KeyMap window, distinct;
    NextTokenRepetition out;
    for (std::size_t s = 0; s < predictions.size(); ++s)
        accumulate(predictions[s], targets[s], context, window, distinct, out);
    out.uniq = std::int64_t(distinct.size());
    return out;
}

} // namespace ouro::lab
