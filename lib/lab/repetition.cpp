// rep-n, diversity, seq-rep-n and the seen-n-gram flags. See the header for the definitions and
// their sources; ngram_keys.hpp for how n-grams are hashed.
#include "ouro/lab/repetition.hpp"

#include "ngram_keys.hpp"
#include "ouro/core/error.hpp"

#include <string>

namespace ouro::lab {

namespace {

void check_n(const char* op, int n) {
    if (n < 1)
        throw ConfigError(std::string(op) + ": n must be at least 1, got " + std::to_string(n));
}

void check_max_n(const char* op, int max_n) {
    if (max_n < 1 || max_n > 8)
        throw ConfigError(std::string(op) + ": max_n must be in [1, 8], got " +
                          std::to_string(max_n));
}

// Counts with a keyer and a map the caller reuses across samples.
NgramCounts count_with(std::span<const std::int32_t> tokens, int n, detail::KeyMap& seen,
                       std::vector<std::uint64_t>& keys) {
    detail::NgramKeyer keyer(n, detail::token_bits(tokens));
    keyer.keys(tokens, keys);
    seen.clear();
    for (const std::uint64_t k : keys)
        seen.increment(k);
    return {std::int64_t(seen.size()), std::int64_t(keys.size())};
}

double repeated_fraction(const NgramCounts& c) {
    return c.total == 0 ? 0.0 : 1.0 - double(c.unique) / double(c.total);
}

} // namespace

NgramCounts count_ngrams(std::span<const std::int32_t> tokens, int n) {
    check_n("count_ngrams", n);
    detail::KeyMap seen(tokens.size());
    std::vector<std::uint64_t> keys;
    return count_with(tokens, n, seen, keys);
}

double rep_n(std::span<const std::int32_t> tokens, int n) {
    check_n("rep_n", n);
    return 100.0 * repeated_fraction(count_ngrams(tokens, n));
}

double rep_n(std::span<const std::vector<std::int32_t>> samples, int n) {
    check_n("rep_n", n);
    detail::KeyMap seen;
    std::vector<std::uint64_t> keys;
    NgramCounts pooled;
    for (const auto& s : samples) {
        const NgramCounts c = count_with(s, n, seen, keys);
        pooled.unique += c.unique;
        pooled.total += c.total;
    }
    return 100.0 * repeated_fraction(pooled);
}

double diversity(std::span<const std::int32_t> tokens) {
    return (1.0 - rep_n(tokens, 2) / 100.0) * (1.0 - rep_n(tokens, 3) / 100.0) *
           (1.0 - rep_n(tokens, 4) / 100.0);
}

double diversity(std::span<const std::vector<std::int32_t>> samples) {
    return (1.0 - rep_n(samples, 2) / 100.0) * (1.0 - rep_n(samples, 3) / 100.0) *
           (1.0 - rep_n(samples, 4) / 100.0);
}

namespace {

void check_seq_rep(const char* op, int n, std::int64_t last) {
    check_n(op, n);
    if (last < 1)
        throw ConfigError(std::string(op) + ": last must be at least 1, got " +
                          std::to_string(last));
}

std::span<const std::int32_t> last_tokens(std::span<const std::int32_t> tokens, std::int64_t last) {
    const auto L = std::int64_t(tokens.size());
    return last >= L ? tokens : tokens.subspan(std::size_t(L - last));
}

} // namespace

double seq_rep_n(std::span<const std::int32_t> tokens, int n, std::int64_t last) {
    check_seq_rep("seq_rep_n", n, last);
    return repeated_fraction(count_ngrams(last_tokens(tokens, last), n));
}

double mean_seq_rep_n(std::span<const std::vector<std::int32_t>> samples, int n,
                      std::int64_t last) {
    check_seq_rep("mean_seq_rep_n", n, last);
    if (samples.empty())
        throw ConfigError("mean_seq_rep_n: no samples");
    detail::KeyMap seen;
    std::vector<std::uint64_t> keys;
    double sum = 0.0;
    for (const auto& s : samples)
        sum += repeated_fraction(count_with(last_tokens(s, last), n, seen, keys));
    return sum / double(samples.size());
}

// Level k (0-based) of the tracker numbers the (k + 1)-grams in order of first appearance; the
// (k + 1)-gram ending at a token is the pair (k-gram ending at the token before, this token), so
// one lookup per level and token tells whether it was seen.
struct SeenNgramTracker::State {
    int max_n;
    std::vector<detail::KeyMap> levels;
    std::vector<std::uint32_t> previous; // ids of the 1..max_n-grams ending at the last token
    std::vector<std::uint32_t> current;
    std::int64_t size = 0;
};

SeenNgramTracker::SeenNgramTracker(int max_n) {
    check_max_n("SeenNgramTracker", max_n);
    state_ = std::make_unique<State>();
    state_->max_n = max_n;
    state_->levels.resize(std::size_t(max_n));
    state_->previous.resize(std::size_t(max_n));
    state_->current.resize(std::size_t(max_n));
}

SeenNgramTracker::~SeenNgramTracker() = default;
SeenNgramTracker::SeenNgramTracker(SeenNgramTracker&&) noexcept = default;
SeenNgramTracker& SeenNgramTracker::operator=(SeenNgramTracker&&) noexcept = default;

std::uint8_t SeenNgramTracker::push(std::int32_t token) {
    State& s = *state_;
    bool inserted = false;
    const std::uint32_t token_id =
        s.levels[0].insert(detail::token_key(token), std::uint32_t(s.levels[0].size()), inserted);
    std::uint8_t flags = inserted ? 0 : 1;
    s.current[0] = token_id;
    // The (k + 1)-gram ending here needs k tokens before this one.
    for (int k = 1; k < s.max_n && k <= s.size; ++k) {
        detail::KeyMap& level = s.levels[std::size_t(k)];
        const std::uint64_t pair = (std::uint64_t(s.previous[std::size_t(k - 1)]) << 32) | token_id;
        s.current[std::size_t(k)] = level.insert(pair, std::uint32_t(level.size()), inserted);
        if (!inserted)
            flags = std::uint8_t(flags | (1u << k));
    }
    s.previous.swap(s.current);
    ++s.size;
    return flags;
}

std::int64_t SeenNgramTracker::size() const {
    return state_->size;
}

std::vector<std::uint8_t> seen_ngram_flags(std::span<const std::int32_t> tokens, int max_n) {
    check_max_n("seen_ngram_flags", max_n);
    SeenNgramTracker tracker(max_n);
    std::vector<std::uint8_t> flags(tokens.size());
    for (std::size_t t = 0; t < tokens.size(); ++t)
        flags[t] = tracker.push(tokens[t]);
    return flags;
}

} // namespace ouro::lab
