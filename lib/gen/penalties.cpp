// Penalties that read the history, and the logit bias; then the naive DRY reference kept for
// tests.
#include "ouro/gen/penalties.hpp"

#include "checks.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace ouro::gen {

namespace {

constexpr float inf = std::numeric_limits<float>::infinity();

void check_tokens(std::span<const std::int32_t> tokens, std::int64_t vocab) {
    for (const std::int32_t t : tokens)
        if (t < 0 || t >= vocab)
            throw ConfigError("sampler: history token " + std::to_string(t) +
                              " is outside the vocabulary (V = " + std::to_string(vocab) + ")");
}

// A stage that raised a finite logit past the float range: +inf would make the weights NaN
// (inf - inf) and leave nothing to draw, so it is an error naming the stage.
[[noreturn]] void overflow(const char* stage, std::int32_t token, float before) {
    throw ConfigError(std::string("sampler: ") + stage + " turned the logit " +
                      detail::format_number(before) + " of token " + std::to_string(token) +
                      " into inf (beyond the float range)");
}

// Applies f to the logit of every candidate token listed in `tokens`; a result above the float
// range throws (naming `stage`), one below it is -inf (the token is banned).
template <typename F>
void for_candidates(CandidateSet& c, std::span<const std::int32_t> tokens, const char* stage, F f) {
    const std::span<float> z = c.mutable_logits();
    for (const std::int32_t t : tokens) {
        const std::int64_t p = c.find(t);
        if (p < 0)
            continue;
        float& zp = z[std::size_t(p)];
        const float after = f(t, zp);
        if (!(after < inf))
            overflow(stage, t, zp);
        zp = after;
    }
    c.logits_changed();
}

} // namespace

void TokenCounts::build(std::span<const std::int32_t> window, std::int64_t vocab) {
    check_tokens(window, vocab);
    for (const std::int32_t t : distinct_)
        count_[std::size_t(t)] = 0;
    distinct_.clear();
    if (std::int64_t(count_.size()) < vocab) {
        count_.assign(std::size_t(vocab), 0);
        distinct_.reserve(std::size_t(vocab));
    }
    for (const std::int32_t t : window)
        if (count_[std::size_t(t)]++ == 0)
            distinct_.push_back(t);
}

void repetition_penalty(CandidateSet& c, const TokenCounts& counts, double theta) {
    detail::check_positive("repetition_penalty", theta);
    for_candidates(c, counts.distinct(), "repetition_penalty", [theta](std::int32_t, float z) {
        return z > 0.0f ? float(double(z) / theta) : float(double(z) * theta);
    });
}

void frequency_penalty(CandidateSet& c, const TokenCounts& counts, double a) {
    detail::check_finite("frequency_penalty", a);
    for_candidates(c, counts.distinct(), "frequency_penalty", [&](std::int32_t t, float z) {
        return float(double(z) - double(counts.count(t)) * a);
    });
}

void presence_penalty(CandidateSet& c, const TokenCounts& counts, double a) {
    detail::check_finite("presence_penalty", a);
    for_candidates(c, counts.distinct(), "presence_penalty",
                   [a](std::int32_t, float z) { return float(double(z) - a); });
}

void logit_bias(CandidateSet& c, std::span<const std::pair<std::int32_t, float>> bias) {
    const std::span<float> z = c.mutable_logits();
    for (const auto& [t, b] : bias) {
        if (!(b < inf))
            throw ConfigError("sampler: logit_bias for token " + std::to_string(t) +
                              " must be finite or -inf, got " + detail::format_number(b));
        if (t < 0 || t >= c.vocab_size())
            throw ConfigError("sampler: logit_bias token " + std::to_string(t) +
                              " is outside the vocabulary (V = " + std::to_string(c.vocab_size()) +
                              ")");
        const std::int64_t p = c.find(t);
        if (p < 0)
            continue;
        const float after = float(double(z[std::size_t(p)]) + double(b));
        if (!(after < inf))
            overflow("logit_bias", t, z[std::size_t(p)]);
        z[std::size_t(p)] = after;
    }
    c.logits_changed();
}

void no_repeat_ngram(CandidateSet& c, std::span<const std::int32_t> history, std::int64_t n) {
    detail::check_count("no_repeat_ngram", n);
    const auto L = std::int64_t(history.size());
    if (n == 0 || L < n)
        return;
    check_tokens(history, c.vocab_size());
    // The n-grams h_i .. h_{i+n-1}, i <= L - n, whose first n - 1 tokens equal the last n - 1.
    const std::int32_t* h = history.data();
    const std::int32_t* tail = h + (L - n + 1);
    const std::span<float> z = c.mutable_logits();
    for (std::int64_t i = 0; i <= L - n; ++i)
        if (std::equal(h + i, h + i + n - 1, tail)) {
            const std::int64_t p = c.find(h[i + n - 1]);
            if (p >= 0)
                z[std::size_t(p)] = -inf;
        }
    c.logits_changed();
}

std::span<const std::pair<std::int32_t, std::int32_t>>
DryRepeats::compute(std::span<const std::int32_t> window, std::int64_t vocab) {
    check_tokens(window, vocab);
    found_.clear();
    const auto L = std::int64_t(window.size());
    if (L < 2)
        return found_;
    if (std::int64_t(longest_.size()) < vocab) {
        longest_.assign(std::size_t(vocab), 0);
        found_.reserve(std::size_t(vocab));
    }
    if (std::int64_t(z_.size()) < L)
        z_.resize(2 * std::max<std::size_t>(std::size_t(L), z_.size()));
    // Z-algorithm on r, the window reversed (r_k = h_{L-1-k}): z_i = the longest common prefix
    // of r and r_i.., which is l(j) for j = L - 1 - i; the token after h_j is h_{j+1} = r_{i-1}.
    const std::int32_t* h = window.data();
    auto r = [h, L](std::int64_t k) { return h[L - 1 - k]; };
    std::int32_t* z = z_.data();
    z[0] = std::int32_t(L);
    for (std::int64_t i = 1, lo = 0, hi = 0; i < L; ++i) {
        std::int64_t len = i < hi ? std::min<std::int64_t>(hi - i, z[i - lo]) : 0;
        while (i + len < L && r(len) == r(i + len))
            ++len;
        z[i] = std::int32_t(len);
        if (i + len > hi) {
            lo = i;
            hi = i + len;
        }
    }
    for (std::int64_t i = 1; i < L; ++i) {
        if (z[i] == 0)
            continue;
        const std::int32_t t = r(i - 1);
        std::int32_t& best = longest_[std::size_t(t)];
        if (best == 0)
            found_.emplace_back(t, z[i]);
        best = std::max(best, z[i]);
    }
    for (auto& [t, len] : found_) {
        len = longest_[std::size_t(t)];
        longest_[std::size_t(t)] = 0;
    }
    return found_;
}

void dry(CandidateSet& c, std::span<const std::pair<std::int32_t, std::int32_t>> lengths,
         double multiplier, double base, std::int64_t allowed_length) {
    detail::check_at_least("dry_multiplier", multiplier, 0.0);
    detail::check_at_least("dry_base", base, 1.0);
    if (allowed_length < 1)
        detail::bad_setting("dry_allowed_length", ">= 1", std::to_string(allowed_length));
    if (multiplier == 0.0)
        return;
    const std::span<float> z = c.mutable_logits();
    for (const auto& [t, len] : lengths) {
        if (len < allowed_length)
            continue;
        const std::int64_t p = c.find(t);
        if (p >= 0)
            z[std::size_t(p)] = float(double(z[std::size_t(p)]) -
                                      multiplier * std::pow(base, double(len - allowed_length)));
    }
    c.logits_changed();
}

std::vector<std::pair<std::int32_t, std::int32_t>>
dry_repeat_lengths_reference(std::span<const std::int32_t> window) {
    const auto L = std::int64_t(window.size());
    std::vector<std::pair<std::int32_t, std::int32_t>> out;
    for (std::int64_t j = 0; j + 1 < L; ++j) {
        std::int32_t len = 0;
        while (len <= j && window[j - len] == window[L - 1 - len])
            ++len;
        if (len == 0)
            continue;
        const std::int32_t t = window[j + 1];
        auto it = std::find_if(out.begin(), out.end(), [t](const auto& p) { return p.first == t; });
        if (it == out.end())
            out.emplace_back(t, len);
        else
            it->second = std::max(it->second, len);
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace ouro::gen
