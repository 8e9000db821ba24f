// Sentence BLEU and self-BLEU. See the header for the definition (nltk's sentence_bleu with
// method1 smoothing) and for self-BLEU's leave-one-out references.
#include "ouro/lab/bleu.hpp"

#include "ngram_keys.hpp"
#include "ouro/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>

namespace ouro::lab {

namespace {

void check_max_n(const char* op, int max_n) {
    if (max_n < 1)
        throw ConfigError(std::string(op) + ": max_n must be at least 1, got " +
                          std::to_string(max_n));
}

// BLEU from its statistics: matches[k] and totals[k] for order k + 1 (m_k and the number of
// k-grams of the hypothesis), the hypothesis length and the closest reference length.
double bleu_from_counts(const std::vector<std::int64_t>& matches,
                        const std::vector<std::int64_t>& totals, std::int64_t hyp_len,
                        std::int64_t ref_len) {
    if (matches[0] == 0) // also covers the empty hypothesis
        return 0.0;
    const double bp = hyp_len > ref_len ? 1.0 : std::exp(1.0 - double(ref_len) / double(hyp_len));
    const double w = 1.0 / double(matches.size());
    double s = 0.0;
    for (std::size_t k = 0; k < matches.size(); ++k) {
        const double d = double(std::max<std::int64_t>(1, totals[k]));
        const double p = matches[k] == 0 ? 0.1 / d : double(matches[k]) / d;
        s += w * std::log(p);
    }
    return bp * std::exp(s);
}

// The length closest to hyp_len, the shorter on ties (nltk's closest_ref_length).
bool closer(std::int64_t candidate, std::int64_t best, std::int64_t hyp_len) {
    const std::int64_t dc = std::abs(candidate - hyp_len), db = std::abs(best - hyp_len);
    return dc < db || (dc == db && candidate < best);
}

} // namespace

double sentence_bleu(std::span<const std::vector<std::int32_t>> references,
                     std::span<const std::int32_t> hypothesis, int max_n) {
    check_max_n("sentence_bleu", max_n);
    if (references.empty())
        throw ConfigError("sentence_bleu: no references");
    int bits = detail::token_bits(hypothesis);
    for (const auto& r : references)
        bits = std::max(bits, detail::token_bits(r));

    const auto orders = std::size_t(max_n);
    std::vector<std::int64_t> matches(orders), totals(orders);
    std::vector<std::uint64_t> hyp_keys, ref_keys;
    detail::KeyMap hyp_counts, max_ref, ref_counts;
    for (int k = 1; k <= max_n; ++k) {
        detail::NgramKeyer keyer(k, bits);
        keyer.keys(hypothesis, hyp_keys);
        hyp_counts.clear();
        max_ref.clear();
        for (const std::uint64_t g : hyp_keys)
            hyp_counts.increment(g);
        hyp_counts.for_each([&](std::uint64_t g, std::uint32_t) {
            bool inserted = false;
            max_ref.insert(g, 0, inserted);
        });
        // The largest count of each of the hypothesis' k-grams in any one reference.
        for (const auto& r : references) {
            keyer.keys(r, ref_keys);
            ref_counts.clear();
            for (const std::uint64_t g : ref_keys)
                ref_counts.increment(g);
            ref_counts.for_each([&](std::uint64_t g, std::uint32_t c) {
                if (std::uint32_t* m = max_ref.find(g))
                    *m = std::max(*m, c);
            });
        }
        std::int64_t m = 0;
        hyp_counts.for_each(
            [&](std::uint64_t g, std::uint32_t c) { m += std::min(c, *max_ref.find(g)); });
        matches[std::size_t(k - 1)] = m;
        totals[std::size_t(k - 1)] = std::int64_t(hyp_keys.size());
    }

    const auto hyp_len = std::int64_t(hypothesis.size());
    std::int64_t ref_len = std::int64_t(references[0].size());
    for (const auto& r : references)
        if (closer(std::int64_t(r.size()), ref_len, hyp_len))
            ref_len = std::int64_t(r.size());
    return bleu_from_counts(matches, totals, hyp_len, ref_len);
}

namespace {

// The two largest counts of one n-gram over the samples, and the sample holding the largest:
// the largest count over "every sample but i" is `second` when i is `best_sample`, else `best`.
struct TopTwo {
    std::uint32_t best = 0;
    std::uint32_t second = 0;
    std::uint32_t best_sample = std::numeric_limits<std::uint32_t>::max();

    void add(std::uint32_t count, std::uint32_t sample) {
        if (count > best) {
            second = best;
            best = count;
            best_sample = sample;
        } else if (count > second) {
            second = count;
        }
    }
    std::uint32_t excluding(std::uint32_t sample) const {
        return sample == best_sample ? second : best;
    }
};

// For each sample, the length closest to its own among the other samples' lengths, the shorter
// on ties. With the lengths sorted only the neighbours of its own value can win.
std::vector<std::int64_t> leave_one_out_closest(const std::vector<std::int64_t>& lengths) {
    std::vector<std::int64_t> sorted = lengths;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::int64_t> closest(lengths.size());
    for (std::size_t i = 0; i < lengths.size(); ++i) {
        const std::int64_t h = lengths[i];
        const auto lo = std::lower_bound(sorted.begin(), sorted.end(), h);
        const auto hi = std::upper_bound(sorted.begin(), sorted.end(), h);
        if (hi - lo >= 2) { // another sample has the same length
            closest[i] = h;
            continue;
        }
        std::int64_t best = -1;
        if (lo != sorted.begin())
            best = *(lo - 1);
        if (hi != sorted.end() && (best < 0 || closer(*hi, best, h)))
            best = *hi;
        closest[i] = best;
    }
    return closest;
}

} // namespace

double self_bleu(std::span<const std::vector<std::int32_t>> samples, int max_n) {
    check_max_n("self_bleu", max_n);
    if (samples.size() < 2)
        throw ConfigError("self_bleu: needs at least 2 samples, got " +
                          std::to_string(samples.size()));
    const std::size_t S = samples.size();
    int bits = 1;
    std::size_t longest = 0, total = 0;
    for (const auto& s : samples) {
        bits = std::max(bits, detail::token_bits(s));
        longest = std::max(longest, s.size());
        total += s.size();
    }

    std::vector<std::vector<std::int64_t>> matches(S,
                                                   std::vector<std::int64_t>(std::size_t(max_n)));
    std::vector<std::vector<std::int64_t>> totals(S, std::vector<std::int64_t>(std::size_t(max_n)));
    std::vector<std::uint64_t> keys;
    detail::KeyMap local(longest);
    // Per sample, its distinct n-grams as (entry in tops, count in the sample).
    std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> entries(S);
    for (int k = 1; k <= max_n; ++k) {
        detail::NgramKeyer keyer(k, bits);
        detail::KeyMap index(total); // n-gram -> its entry in tops
        std::vector<TopTwo> tops;    // per n-gram over all samples
        // Pass 1: count each sample's n-grams and keep the two largest counts of every n-gram.
        for (std::size_t j = 0; j < S; ++j) {
            keyer.keys(samples[j], keys);
            local.clear();
            for (const std::uint64_t g : keys)
                local.increment(g);
            entries[j].clear();
            local.for_each([&](std::uint64_t g, std::uint32_t c) {
                bool inserted = false;
                const std::uint32_t e = index.insert(g, std::uint32_t(tops.size()), inserted);
                if (inserted)
                    tops.emplace_back();
                tops[e].add(c, std::uint32_t(j));
                entries[j].emplace_back(e, c);
            });
            totals[j][std::size_t(k - 1)] = std::int64_t(keys.size());
        }
        // Pass 2: each sample's matches against the largest count among the others.
        for (std::size_t i = 0; i < S; ++i) {
            std::int64_t m = 0;
            for (const auto& [e, c] : entries[i])
                m += std::min(c, tops[e].excluding(std::uint32_t(i)));
            matches[i][std::size_t(k - 1)] = m;
        }
    }

    std::vector<std::int64_t> lengths(S);
    for (std::size_t i = 0; i < S; ++i)
        lengths[i] = std::int64_t(samples[i].size());
    const std::vector<std::int64_t> closest = leave_one_out_closest(lengths);
    double sum = 0.0;
    for (std::size_t i = 0; i < S; ++i)
        sum += bleu_from_counts(matches[i], totals[i], lengths[i], closest[i]);
    return sum / double(S);
}

} // namespace ouro::lab
