// Repeated-sentence contexts and the TP / IP / WR curves. See the header for the definitions.
#include "ouro/lab/self_reinforcement.hpp"

namespace ouro::lab {

std::int64_t RepeatedSentence::position(std::int64_t copy, std::int64_t index) const {
    if (copy < 1 || copy > copies)
        throw ConfigError("RepeatedSentence::position: copy " + std::to_string(copy) +
                          " out of range [1, " + std::to_string(copies) + "]");
    if (index < 0 || index >= sentence_length)
        throw ConfigError("RepeatedSentence::position: index " + std::to_string(index) +
                          " out of range [0, " + std::to_string(sentence_length) + ")");
    return prefix_length + (copy - 1) * sentence_length + index;
}

std::int64_t RepeatedSentence::copy_of(std::int64_t position) const {
    if (position < 0 || position >= std::int64_t(tokens.size()))
        throw ConfigError("RepeatedSentence::copy_of: position " + std::to_string(position) +
                          " out of range [0, " + std::to_string(tokens.size()) + ")");
    return position < prefix_length ? 0 : 1 + (position - prefix_length) / sentence_length;
}

RepeatedSentence repeat_sentence(std::span<const std::int32_t> sentence, std::int64_t copies,
                                 std::span<const std::int32_t> prefix) {
    if (sentence.empty())
        throw ConfigError("repeat_sentence: the sentence is empty");
    if (copies < 1)
        throw ConfigError("repeat_sentence: copies must be at least 1, got " +
                          std::to_string(copies));
    RepeatedSentence r;
    r.prefix_length = std::int64_t(prefix.size());
    r.sentence_length = std::int64_t(sentence.size());
    r.copies = copies;
    r.tokens.reserve(prefix.size() + std::size_t(copies) * sentence.size());
    r.tokens.assign(prefix.begin(), prefix.end());
    for (std::int64_t k = 0; k < copies; ++k)
        r.tokens.insert(r.tokens.end(), sentence.begin(), sentence.end());
    return r;
}

std::vector<CopyStats> self_reinforcement(std::span<const double> probs,
                                          std::span<const std::uint8_t> is_argmax,
                                          std::int64_t sentence_length) {
    if (sentence_length < 1)
        throw ConfigError("self_reinforcement: sentence_length must be at least 1, got " +
                          std::to_string(sentence_length));
    if (probs.size() != is_argmax.size())
        throw ShapeError("self_reinforcement: probs and is_argmax differ in length: " +
                         std::to_string(probs.size()) + " and " + std::to_string(is_argmax.size()));
    const auto L = sentence_length;
    const auto n = std::int64_t(probs.size());
    if (n == 0 || n % L != 0)
        throw ShapeError("self_reinforcement: " + std::to_string(n) +
                         " values do not make one or more whole copies of a " + std::to_string(L) +
                         "-token sentence");
    const std::int64_t copies = n / L;
    std::vector<CopyStats> out(static_cast<std::size_t>(copies));
    for (std::int64_t k = 0; k < copies; ++k) {
        CopyStats& c = out[std::size_t(k)];
        c.copy = k + 1;
        c.tokens = L;
        for (std::int64_t l = 0; l < L; ++l) {
            const double p = probs[std::size_t(k * L + l)];
            const bool top = is_argmax[std::size_t(k * L + l)] != 0;
            const bool rose = p > probs[std::size_t(l)];
            c.prob_sum += p;
            c.increased += rose ? 1 : 0;
            c.winners += rose && top ? 1 : 0;
            c.argmax += top ? 1 : 0;
        }
    }
    return out;
}

std::vector<CopyStats> pool_self_reinforcement(std::span<const std::vector<CopyStats>> curves) {
    if (curves.empty())
        throw ConfigError("pool_self_reinforcement: no curves");
    for (std::size_t i = 1; i < curves.size(); ++i)
        if (curves[i].size() != curves[0].size())
            throw ShapeError("pool_self_reinforcement: curve " + std::to_string(i) + " has " +
                             std::to_string(curves[i].size()) + " copies, curve 0 has " +
                             std::to_string(curves[0].size()));
    std::vector<CopyStats> out(curves[0].size());
    for (std::size_t k = 0; k < out.size(); ++k)
        out[k].copy = std::int64_t(k + 1);
    for (const auto& curve : curves)
        for (std::size_t k = 0; k < out.size(); ++k) {
            out[k].tokens += curve[k].tokens;
            out[k].prob_sum += curve[k].prob_sum;
            out[k].increased += curve[k].increased;
            out[k].winners += curve[k].winners;
            out[k].argmax += curve[k].argmax;
        }
    return out;
}

} // namespace ouro::lab
