// Teacher forcing: texts fed token by token through a ContextFeeder, one step for all slots.
#include "ouro/lab/teacher_forcing.hpp"

#include "ouro/core/error.hpp"
#include "ouro/gen/decode.hpp"

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
    const numerics::LogitStats st = numerics::logit_stats(logits, token, end_token, 1);
    score.prob = st.prob;
    score.nll = -st.log_prob;
    score.entropy = st.entropy;
    score.argmax = st.top.empty() ? 0 : st.top[0].first;
    score.p_max = st.p_max;
    score.p_end = st.p_end;
}

std::vector<std::vector<TokenScore>> teacher_force(gen::InferenceSession& session,
                                                   std::span<const std::vector<std::int32_t>> texts,
                                                   const gen::ContextOptions& context,
                                                   std::int32_t end_token) {
    std::vector<std::vector<TokenScore>> out(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i)
        out[i].reserve(texts[i].size() > 0 ? texts[i].size() - 1 : 0);
    gen::teacher_force(session, texts, context,
                       [&](std::size_t text, std::size_t t, std::int64_t slot) {
                           TokenScore score;
                           score_token(session.logits(slot), texts[text][t], end_token, score);
                           out[text].push_back(score);
                       });
    return out;
}

std::vector<std::vector<TokenScore>>
teacher_force(const nn::GPT<float>& model, std::span<const std::vector<std::int32_t>> texts,
              const gen::ContextOptions& context, std::int32_t end_token, std::int64_t batch_size) {
    std::vector<std::vector<TokenScore>> out(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i)
        out[i].reserve(texts[i].size() > 0 ? texts[i].size() - 1 : 0);
    // Each text's scores are written by the one thread that feeds it.
    gen::teacher_force(model, texts, context, batch_size,
                       [&](const gen::InferenceSession& session, std::size_t text, std::size_t t,
                           std::int64_t slot) {
                           TokenScore score;
                           score_token(session.logits(slot), texts[text][t], end_token, score);
                           out[text].push_back(score);
                       });
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
