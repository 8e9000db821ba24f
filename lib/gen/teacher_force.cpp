// Teacher forcing (decode.hpp): texts fed token by token, one step for all slots of a session;
// and the same spread over the threads, groups of texts in sessions of their own.
#include "ouro/core/error.hpp"
#include "ouro/gen/decode.hpp"
#include "sequence_jobs.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace ouro::gen {
namespace {

void check_texts(std::span<const std::vector<std::int32_t>> texts) {
    for (std::size_t i = 0; i < texts.size(); ++i)
        if (texts[i].size() < 2)
            throw ConfigError("teacher_force: text " + std::to_string(i) + " has " +
                              std::to_string(texts[i].size()) + " token" +
                              (texts[i].size() == 1 ? "" : "s") + "; need at least 2");
}

// Texts [begin, end) through `session`, batch_size() at a time; score gets the texts' indices.
void force_range(
    InferenceSession& session, std::span<const std::vector<std::int32_t>> texts, std::size_t begin,
    std::size_t end, const ContextOptions& context,
    const std::function<void(std::size_t text, std::size_t t, std::int64_t slot)>& score) {
    ContextFeeder feeder(session, context);
    const std::size_t B = std::size_t(session.batch_size());
    for (std::size_t first = begin; first < end; first += B) {
        const std::size_t count = std::min(B, end - first);
        session.reset();
        std::vector<std::size_t> fed(count, 1); // tokens of text first + b fed so far
        for (std::size_t b = 0; b < count; ++b)
            feeder.start(std::int64_t(b), std::span(texts[first + b]).first(1),
                         std::int64_t(first + b));
        bool any = true;
        while (any) {
            any = false;
            for (std::size_t b = 0; b < count; ++b) {
                const std::vector<std::int32_t>& text = texts[first + b];
                if (fed[b] == 0 || fed[b] >= text.size())
                    continue;
                score(first + b, fed[b], std::int64_t(b));
                if (fed[b] + 1 < text.size() && feeder.can_feed(std::int64_t(b))) {
                    ++fed[b];
                    feeder.add(std::int64_t(b), std::span(text).first(fed[b]));
                    any = true;
                } else {
                    fed[b] = 0; // done: the text is scored, or the context is full under stop
                }
            }
            if (any)
                feeder.flush();
        }
    }
}

} // namespace

void teacher_force(
    InferenceSession& session, std::span<const std::vector<std::int32_t>> texts,
    const ContextOptions& context,
    const std::function<void(std::size_t text, std::size_t t, std::int64_t slot)>& score) {
    check_texts(texts);
    force_range(session, texts, 0, texts.size(), context, score);
}

void teacher_force(const nn::GPT<float>& model, std::span<const std::vector<std::int32_t>> texts,
                   const ContextOptions& context, std::int64_t batch_size,
                   const std::function<void(const InferenceSession& session, std::size_t text,
                                            std::size_t t, std::int64_t slot)>& score) {
    if (batch_size < 1)
        throw ConfigError("teacher_force: batch_size must be at least 1, got " +
                          std::to_string(batch_size));
    check_texts(texts);
    if (texts.empty())
        return;
    const std::int64_t n = std::int64_t(texts.size());
    // One group for a single thread when the batch holds every text, as the session overload.
    const int threads = detail::job_threads(n);
    const std::vector<std::int64_t> bounds = detail::group_bounds(
        n, detail::group_count(n, detail::cut_threads(threads), batch_size, 4));
    const std::int64_t jobs = std::int64_t(bounds.size()) - 1;
    std::int64_t largest = 0;
    for (std::int64_t j = 0; j < jobs; ++j)
        largest = std::max(largest, bounds[std::size_t(j) + 1] - bounds[std::size_t(j)]);
    const SessionOptions so = session_options(model.config, context, largest);
    std::vector<std::optional<InferenceSession>> sessions(
        static_cast<std::size_t>(detail::thread_slots(threads)));
    sessions[0].emplace(model, so); // its errors come before any work
    detail::run_jobs(jobs, threads, [&](std::int64_t j, int thread) {
        std::optional<InferenceSession>& session = sessions[std::size_t(thread)];
        if (!session) // reading the first session's half weights, if any
            session.emplace(model, so, *sessions[0]);
        const InferenceSession& s = *session;
        force_range(
            *session, texts, std::size_t(bounds[std::size_t(j)]),
            std::size_t(bounds[std::size_t(j) + 1]), context,
            [&](std::size_t text, std::size_t t, std::int64_t slot) { score(s, text, t, slot); });
    });
}

} // namespace ouro::gen
