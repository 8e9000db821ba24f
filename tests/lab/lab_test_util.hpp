// Helpers shared by the lab tests: random token sequences, and relabelling tokens so that the
// metrics' n-gram keys take their other path (packed keys need small non-negative ids; negative
// or very large ids force the chained ids).
#pragma once

#include <ouro/core/rng.hpp>

#include <cstdint>
#include <vector>

namespace ouro::testing {

using Tokens = std::vector<std::int32_t>;
using Samples = std::vector<Tokens>;

/// `length` tokens uniform in [0, vocab).
inline std::vector<std::int32_t> random_tokens(Rng& rng, std::size_t length, std::int32_t vocab) {
    std::vector<std::int32_t> t(length);
    for (auto& x : t)
        x = std::int32_t(rng.below(std::uint64_t(vocab)));
    return t;
}

/// Relabels every token one to one: t -> -1 - t (negative: 32 bits per token, chained keys for
/// n >= 2) or t -> 1,000,000 + 7 t (20 bits: packed up to n = 3, chained from n = 4).
inline std::vector<std::int32_t> relabel(const std::vector<std::int32_t>& tokens, bool negative) {
    std::vector<std::int32_t> out(tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i)
        out[i] = negative ? -1 - tokens[i] : 1000000 + 7 * tokens[i];
    return out;
}

inline Samples relabel(const Samples& samples, bool negative) {
    Samples out;
    for (const auto& s : samples)
        out.push_back(relabel(s, negative));
    return out;
}

} // namespace ouro::testing
