// Teacher forcing: texts fed token by token through a ContextFeeder, one step for all slots.
#include "ouro/lab/teacher_forcing.hpp"

#include "ouro/core/error.hpp"

#include "numerics/logit_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace ouro::lab {

void score_token(std::span<const float> logits, std::int32_t token, std::int32_t end_token,
                 TokenScore& score) {
    const std::int64_t V = std::int64_t(logits.size());
    if (token < 0 || token >= V)
        throw ConfigError("score_token: token " + std::to_string(token) +
                          " is outside the vocabulary [0, " + std::to_string(V) + ")");
    // The numbers every decoder's trace reports for the same logits.
    const numerics::LogitStats st = numerics::logit_stats(logits, token, end_token);
    score.prob = st.prob;
    score.nll = -st.log_prob;
    score.entropy = st.entropy;
    score.argmax = st.top_count > 0 ? st.top[0].first : 0;
    score.p_max = st.p_max;
    score.p_end = st.p_end;
}

std::vector<std::vector<TokenScore>> teacher_force(gen::InferenceSession& session,
                                                   std::span<const std::vector<std::int32_t>> texts,
                                                   const gen::ContextOptions& context,
                                                   std::int32_t end_token) {
    for (std::size_t i = 0; i < texts.size(); ++i)
        if (texts[i].size() < 2)
            throw ConfigError("teacher_force: text " + std::to_string(i) + " has " +
                              std::to_string(texts[i].size()) + " token" +
                              (texts[i].size() == 1 ? "" : "s") + "; need at least 2");
    std::vector<std::vector<TokenScore>> out(texts.size());
    gen::ContextFeeder feeder(session, context);
    const std::size_t B = std::size_t(session.batch_size());
    for (std::size_t first = 0; first < texts.size(); first += B) {
        const std::size_t count = std::min(B, texts.size() - first);
        session.reset();
        std::vector<std::size_t> fed(count, 1); // tokens of text first + b fed so far
        for (std::size_t b = 0; b < count; ++b) {
            const std::vector<std::int32_t>& text = texts[first + b];
            out[first + b].reserve(text.size() - 1);
            feeder.start(std::int64_t(b), std::span(text).first(1), std::int64_t(first + b));
        }
        bool any = true;
        while (any) {
            any = false;
            for (std::size_t b = 0; b < count; ++b) {
                const std::vector<std::int32_t>& text = texts[first + b];
                if (fed[b] == 0 || fed[b] >= text.size())
                    continue;
                TokenScore score;
                score_token(session.logits(std::int64_t(b)), text[fed[b]], end_token, score);
                out[first + b].push_back(score);
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
    return out;
}

std::vector<std::vector<double>> field_of(const std::vector<std::vector<TokenScore>>& scores,
                                          double TokenScore::*field) {
    std::vector<std::vector<double>> out(scores.size());
    for (std::size_t i = 0; i < scores.size(); ++i) {
        out[i].reserve(scores[i].size());
        for (const TokenScore& s : scores[i])
            out[i].push_back(s.*field);
    }
    return out;
}

} // namespace ouro::lab
