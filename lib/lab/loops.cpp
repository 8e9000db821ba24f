// Holtzman et al.'s repetition test and loop detection, both from the Z-array of the reversed
// sequence. See the header for the definitions.
#include "ouro/lab/loops.hpp"

#include "ouro/core/error.hpp"

#include <algorithm>
#include <string>

namespace ouro::lab {

namespace {

// z[i] = length of the longest common prefix of tokens reversed and its suffix from i (z[0] = L).
// The classic linear-time algorithm: [left, right) is the rightmost match found so far, and a
// position inside it starts from what the mirrored position already knows.
std::vector<std::int64_t> reversed_z_array(std::span<const std::int32_t> tokens) {
    const auto L = std::int64_t(tokens.size());
    std::vector<std::int32_t> r(tokens.rbegin(), tokens.rend());
    std::vector<std::int64_t> z(std::size_t(L), 0);
    if (L == 0)
        return z;
    z[0] = L;
    std::int64_t left = 0, right = 0;
    for (std::int64_t i = 1; i < L; ++i) {
        std::int64_t k = i < right ? std::min(right - i, z[std::size_t(i - left)]) : 0;
        while (i + k < L && r[std::size_t(k)] == r[std::size_t(i + k)])
            ++k;
        z[std::size_t(i)] = k;
        if (i + k > right) {
            left = i;
            right = i + k;
        }
    }
    return z;
}

void check_max_n(const char* op, std::int64_t max_n) {
    if (max_n < 1)
        throw ConfigError(std::string(op) + ": max_n must be at least 1, got " +
                          std::to_string(max_n));
}

HoltzmanRepetition holtzman_unchecked(std::span<const std::int32_t> tokens, std::int64_t max_n) {
    const auto L = std::int64_t(tokens.size());
    if (L == 0)
        return {};
    const std::vector<std::int64_t> z = reversed_z_array(tokens);
    // copies(n) = 1 + floor(z[n] / n) for n < L; a phrase as long as the sample or longer has one.
    auto copies = [&](std::int64_t n) { return n < L ? 1 + z[std::size_t(n)] / n : 1; };
    HoltzmanRepetition best{false, 1, copies(1)};
    for (std::int64_t n = 2; n <= std::min(max_n, L - 1); ++n) {
        const std::int64_t c = copies(n);
        if (c > best.copies) {
            best.phrase_length = n;
            best.copies = c;
        }
    }
    best.repeating = best.copies > 1 && (best.phrase_length >= 3 || best.copies > 50);
    return best;
}

} // namespace

HoltzmanRepetition holtzman_repetition(std::span<const std::int32_t> tokens, std::int64_t max_n) {
    check_max_n("holtzman_repetition", max_n);
    return holtzman_unchecked(tokens, max_n);
}

double holtzman_repetition_percent(std::span<const std::vector<std::int32_t>> samples,
                                   std::int64_t max_n) {
    check_max_n("holtzman_repetition_percent", max_n);
    if (samples.empty())
        throw ConfigError("holtzman_repetition_percent: no samples");
    std::int64_t repeating = 0;
    for (const auto& s : samples)
        repeating += holtzman_unchecked(s, max_n).repeating ? 1 : 0;
    return 100.0 * double(repeating) / double(samples.size());
}

std::optional<Loop> find_loop(std::span<const std::int32_t> tokens, std::int64_t min_copies) {
    if (min_copies < 2)
        throw ConfigError("find_loop: min_copies must be at least 2, got " +
                          std::to_string(min_copies));
    const auto L = std::int64_t(tokens.size());
    const std::vector<std::int64_t> z = reversed_z_array(tokens);
    // For period p the longest p-periodic suffix has p + z[p] tokens, so the earliest onset is
    // L - p - z[p]; it is a loop when that suffix holds min_copies periods. Periods ascend, and
    // only a strictly earlier onset replaces the best, so ties keep the smallest period.
    std::optional<Loop> best;
    for (std::int64_t p = 1; min_copies * p <= L; ++p) {
        const std::int64_t run = p + z[std::size_t(p)];
        if (run < min_copies * p)
            continue;
        if (!best || L - run < best->onset)
            best = Loop{L - run, p, run};
    }
    return best;
}

} // namespace ouro::lab
