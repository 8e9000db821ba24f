// distinct-n and the Zipf coefficient. See the header for the definitions.
#include "ouro/lab/diversity.hpp"

#include "ngram_keys.hpp"
#include "ouro/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

namespace ouro::lab {

namespace {

void check_n(int n) {
    if (n < 1)
        throw ConfigError("distinct_n: n must be at least 1, got " + std::to_string(n));
}

} // namespace

namespace {

struct NgramCounts {
    std::int64_t total = 0;    // n-grams
    std::int64_t distinct = 0; // different n-grams
    std::int64_t once = 0;     // n-grams that occur exactly once
};

// The n-gram counts of sequences given as anything whose elements convert to spans of tokens.
template <typename Sequences> NgramCounts count_ngrams(const Sequences& sequences, int n) {
    check_n(n);
    int bits = 1;
    std::size_t total_tokens = 0;
    for (std::span<const std::int32_t> s : sequences) {
        bits = std::max(bits, detail::token_bits(s));
        total_tokens += s.size();
    }
    // One keyer and one map for all sequences: an n-gram is distinct once over the whole set.
    detail::NgramKeyer keyer(n, bits);
    detail::KeyMap seen(total_tokens);
    std::vector<std::uint64_t> keys;
    NgramCounts c;
    for (std::span<const std::int32_t> s : sequences) {
        keyer.keys(s, keys);
        for (const std::uint64_t g : keys) {
            const std::uint32_t k = seen.increment(g);
            c.once += k == 1 ? 1 : k == 2 ? -1 : 0;
        }
        c.total += std::int64_t(keys.size());
    }
    c.distinct = std::int64_t(seen.size());
    return c;
}

// part / total of the n-grams of `sequences`, part being the distinct ones or those seen once.
template <typename Sequences>
double share(const Sequences& sequences, int n, std::int64_t NgramCounts::*part) {
    const NgramCounts c = count_ngrams(sequences, n);
    return c.total == 0 ? 0.0 : double(c.*part) / double(c.total);
}

std::span<const std::span<const std::int32_t>> one(const std::span<const std::int32_t>& tokens) {
    return {&tokens, 1};
}

} // namespace

double distinct_n(std::span<const std::vector<std::int32_t>> samples, int n) {
    return share(samples, n, &NgramCounts::distinct);
}

double distinct_n(std::span<const std::int32_t> tokens, int n) {
    return share(one(tokens), n, &NgramCounts::distinct);
}

double distinct_n_degen(std::span<const std::vector<std::int32_t>> samples, int n) {
    return share(samples, n, &NgramCounts::once);
}

double distinct_n_degen(std::span<const std::int32_t> tokens, int n) {
    return share(one(tokens), n, &NgramCounts::once);
}

ZipfFit zipf_coefficient(std::span<const std::vector<std::int32_t>> samples,
                         std::int64_t top_types) {
    if (top_types < 1)
        throw ConfigError("zipf_coefficient: top_types must be at least 1, got " +
                          std::to_string(top_types));
    detail::KeyMap counts;
    for (const auto& s : samples)
        for (const std::int32_t t : s)
            counts.increment(detail::token_key(t));
    std::vector<std::uint32_t> freq;
    freq.reserve(counts.size());
    counts.for_each([&](std::uint64_t, std::uint32_t c) { freq.push_back(c); });
    const auto K = std::min<std::int64_t>(top_types, std::int64_t(freq.size()));
    std::partial_sort(freq.begin(), freq.begin() + K, freq.end(), std::greater<>());

    ZipfFit fit;
    fit.types = K;
    if (K < 2) {
        fit.coefficient = fit.r = std::numeric_limits<double>::quiet_NaN();
        return fit;
    }
    // Least squares on centred values, summed in rank order.
    double mx = 0.0, my = 0.0;
    for (std::int64_t i = 0; i < K; ++i) {
        mx += std::log(double(i + 1));
        my += std::log(double(freq[std::size_t(i)]));
    }
    mx /= double(K);
    my /= double(K);
    double sxx = 0.0, sxy = 0.0, syy = 0.0;
    for (std::int64_t i = 0; i < K; ++i) {
        const double dx = std::log(double(i + 1)) - mx;
        const double dy = std::log(double(freq[std::size_t(i)])) - my;
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    fit.coefficient = -sxy / sxx;
    const double den = std::sqrt(sxx * syy);
    fit.r = den == 0.0 ? 0.0 : std::clamp(sxy / den, -1.0, 1.0);
    return fit;
}

} // namespace ouro::lab
