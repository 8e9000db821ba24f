// Helpers shared by the generation-layer tests: logits from probabilities, the ids a
// CandidateSet holds, random logits that look like a language model's.
#pragma once

#include <ouro/core/rng.hpp>
#include <ouro/gen/candidates.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace ouro::testing {

inline constexpr float inf = std::numeric_limits<float>::infinity();
/// Token ids: a candidate set's (Ids), a history's (Tokens).
using Ids = std::vector<std::int32_t>;
using Tokens = std::vector<std::int32_t>;

/// z_i = ln p_i, so that softmax(z) = p (up to the float rounding of the logarithms).
inline std::vector<float> logits_of(std::initializer_list<double> p) {
    std::vector<float> z;
    for (const double v : p)
        z.push_back(float(std::log(v)));
    return z;
}

/// A candidate set loaded with `logits`.
inline gen::CandidateSet candidates(const std::vector<float>& logits) {
    gen::CandidateSet c;
    c.assign(logits);
    return c;
}

/// The candidates' ids in increasing order.
inline std::vector<std::int32_t> ids_of(const gen::CandidateSet& c) {
    std::vector<std::int32_t> ids(c.ids().begin(), c.ids().end());
    std::sort(ids.begin(), ids.end());
    return ids;
}

/// V logits, normal with standard deviation `sigma` (sigma 3 is about as peaked as a trained
/// small GPT on TinyStories, sigma 0.5 as flat as an untrained one). With `step` > 0 the logits
/// are rounded to multiples of step, which makes many ties.
inline std::vector<float> random_logits(std::int64_t V, double sigma, std::uint64_t seed,
                                        double step = 0.0) {
    Rng rng(seed);
    std::vector<float> z(static_cast<std::size_t>(V));
    for (float& v : z) {
        const double x = sigma * rng.normal();
        v = float(step > 0.0 ? step * std::round(x / step) : x);
    }
    return z;
}

} // namespace ouro::testing
