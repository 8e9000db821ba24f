// E9: where do the loops come from? The greedy samples' loops (find_loop with 3 copies: the unit
// is the loop's repeated tokens) are looked up in the training stories. If the loops are made of
// phrases the stories use over and over ("The moral of the story is", "help others"), the model
// is replaying the data's most frequent n-grams, which MLE training over-predicts (Welleck et al.
// 2020); if loop n-grams are no more frequent than the rest of the samples' n-grams, the loops
// come from decoding, not from the data.
//
// Counts are over token n-grams within one story (never across two), in the lab's tokenizer.
// A unit is reported in the rotation that occurs most often in the training stories (a loop of
// "help others and" may be found starting at "others and help").
#include "experiments.hpp"

#include <ouro/core/error.hpp>
#include <ouro/core/rng.hpp>
#include <ouro/lab/loops.hpp>
#include <ouro/lab/table.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>

namespace collapse {

namespace olab = ouro::lab;
using olab::fmt;

namespace {

constexpr int min_n = E9Result::min_n, max_n = E9Result::max_n;

// An n-gram as a byte string (4 bytes per token), the key of the count tables.
std::string key_of(std::span<const std::int32_t> tokens) {
    return std::string(reinterpret_cast<const char*>(tokens.data()),
                       tokens.size() * sizeof(std::int32_t));
}

// Where each token occurs in the training stories: (story, position) pairs by token, so that a
// token sequence is counted by checking only the places its first token occurs.
class TrainingIndex {
public:
    explicit TrainingIndex(const std::vector<std::vector<std::int32_t>>& stories)
        : stories_(stories) {
        for (std::size_t s = 0; s < stories.size(); ++s)
            for (std::size_t t = 0; t < stories[s].size(); ++t)
                at_[stories[s][t]].push_back({std::uint32_t(s), std::uint32_t(t)});
        for (const auto& story : stories)
            tokens_ += std::int64_t(story.size());
    }

    struct Count {
        std::int64_t occurrences = 0, stories = 0;
    };
    Count count(std::span<const std::int32_t> seq) const {
        Count c;
        const auto it = at_.find(seq[0]);
        if (it == at_.end())
            return c;
        std::uint32_t last_story = std::numeric_limits<std::uint32_t>::max();
        for (const auto& [s, t] : it->second) {
            const std::vector<std::int32_t>& story = stories_[s];
            if (t + seq.size() > story.size() ||
                !std::equal(seq.begin(), seq.end(), story.begin() + t))
                continue;
            ++c.occurrences;
            if (s != last_story) {
                ++c.stories;
                last_story = s;
            }
        }
        return c;
    }
    /// n-grams of length n in the stories.
    std::int64_t ngrams(std::int64_t n) const {
        std::int64_t total = 0;
        for (const auto& story : stories_)
            total += std::max<std::int64_t>(0, std::int64_t(story.size()) - n + 1);
        return total;
    }
    std::int64_t tokens() const { return tokens_; }

private:
    const std::vector<std::vector<std::int32_t>>& stories_;
    std::unordered_map<std::int32_t, std::vector<std::pair<std::uint32_t, std::uint32_t>>> at_;
    std::int64_t tokens_ = 0;
};

// Rates of one set of n-grams: mean and median per-million rate, and how many never occur.
E9Rates stats_of(std::vector<double> rates, std::int64_t unseen) {
    E9Rates s;
    s.ngrams = std::int64_t(rates.size());
    s.unseen = unseen;
    if (rates.empty())
        return s;
    double sum = 0;
    for (const double r : rates)
        sum += r;
    s.mean = sum / double(rates.size());
    std::sort(rates.begin(), rates.end());
    const std::size_t m = rates.size() / 2;
    s.median = rates.size() % 2 ? rates[m] : 0.5 * (rates[m - 1] + rates[m]);
    return s;
}

std::string one_line(std::string text) {
    std::string out;
    for (const char c : text)
        if (c == '\n')
            out += "\\n";
        else
            out += c;
    return out;
}

using NgramSets = std::array<std::set<std::string>, max_n + 1>;

// The loop units of the samples (each loop's most frequent rotation in the training data), the
// n-grams of the loops, by n, and each sample's loop.
std::vector<E9Unit> loop_units(const Lab& lab, const DecodedSet& set, const TrainingIndex& index,
                               std::vector<std::optional<olab::Loop>>& loops,
                               NgramSets& loop_ngrams) {
    std::vector<E9Unit> units;
    for (const std::vector<std::int32_t>& sample : set.samples) {
        const std::optional<olab::Loop> loop = olab::find_loop(sample, 3);
        loops.push_back(loop);
        if (!loop)
            continue;
        const std::span<const std::int32_t> region =
            std::span(sample).subspan(std::size_t(loop->onset));
        for (int n = min_n; n <= max_n; ++n)
            for (std::size_t t = 0;
                 t + std::size_t(n) <= region.size() && t < std::size_t(loop->period); ++t)
                loop_ngrams[std::size_t(n)].insert(key_of(region.subspan(t, std::size_t(n))));
        std::vector<std::int32_t> best;
        TrainingIndex::Count best_count{-1, -1};
        for (std::int64_t k = 0; k < loop->period; ++k) {
            const std::vector<std::int32_t> rot(region.begin() + k,
                                                region.begin() + k + loop->period);
            const TrainingIndex::Count c = index.count(rot);
            // The most frequent rotation; among equally frequent ones the smallest (so that a
            // loop gets the same unit whichever token it starts at).
            if (c.occurrences > best_count.occurrences ||
                (c.occurrences == best_count.occurrences && rot < best)) {
                best = rot;
                best_count = c;
            }
        }
        auto same = std::find_if(units.begin(), units.end(),
                                 [&](const E9Unit& u) { return u.tokens == best; });
        if (same != units.end())
            ++same->samples;
        else
            units.push_back(
                {best, one_line(lab.text(best)), 1, best_count.occurrences, best_count.stories});
    }
    std::sort(units.begin(), units.end(), [](const E9Unit& a, const E9Unit& b) {
        if (a.occurrences != b.occurrences)
            return a.occurrences > b.occurrences;
        return a.tokens < b.tokens;
    });
    return units;
}

// Random n-grams of the same samples outside their loops: as many distinct ones per n as the
// loops have (drawn without replacement from the positions before each loop's onset, or from
// the whole sample when it does not loop).
NgramSets other_ngrams(const DecodedSet& set, const std::vector<std::optional<olab::Loop>>& loops,
                       const NgramSets& loop_ngrams, std::uint64_t seed) {
    ouro::Rng rng(seed);
    NgramSets other;
    for (int n = min_n; n <= max_n; ++n) {
        const std::size_t un = std::size_t(n);
        std::vector<std::pair<std::size_t, std::size_t>> positions;
        for (std::size_t i = 0; i < set.samples.size(); ++i) {
            const std::size_t end = loops[i] ? std::size_t(loops[i]->onset) : set.samples[i].size();
            for (std::size_t t = 0; t + un <= end; ++t)
                positions.push_back({i, t});
        }
        const std::size_t want = std::max<std::size_t>(loop_ngrams[un].size(), 1);
        while (other[un].size() < want && !positions.empty()) {
            const std::size_t pick = std::size_t(rng.below(positions.size()));
            const auto [i, t] = positions[pick];
            positions[pick] = positions.back();
            positions.pop_back();
            const std::string key = key_of(std::span(set.samples[i]).subspan(t, un));
            if (!loop_ngrams[un].count(key))
                other[un].insert(key);
        }
    }
    return other;
}

// Training frequency (per million n-grams of the same length) of a set of n-grams, by n.
std::array<E9Rates, max_n + 1> rates(const TrainingIndex& index, const NgramSets& sets) {
    std::array<E9Rates, max_n + 1> out{};
    for (int n = min_n; n <= max_n; ++n) {
        const double total = double(index.ngrams(n));
        std::vector<double> r;
        std::int64_t unseen = 0;
        for (const std::string& k : sets[std::size_t(n)]) {
            const std::span<const std::int32_t> seq(reinterpret_cast<const std::int32_t*>(k.data()),
                                                    std::size_t(n));
            const std::int64_t c = index.count(seq).occurrences;
            unseen += c == 0;
            r.push_back(total > 0 ? 1e6 * double(c) / total : 0.0);
        }
        out[std::size_t(n)] = stats_of(std::move(r), unseen);
    }
    return out;
}

} // namespace

E9Result measure_e9(Lab& lab) {
    const std::vector<std::vector<std::int32_t>>& train = lab.train_stories();
    if (train.empty())
        throw ouro::ConfigError("E9 needs the training text: pass --train FILE");
    const LabSettings& settings = lab.settings();
    DecodeRequest request;
    // Loops take a while to set in (the blog post's loop came far past the story's end): at least
    // 4 x block_size tokens (2 x in quick mode), past the context by the lab's long-context policy.
    const std::int64_t T = lab.config().block_size;
    request.max_new_tokens = std::max(settings.max_new_tokens, (settings.quick ? 2 : 4) * T);
    request.context = lab.long_context();
    request.seed = settings.seed;
    DecodedSet set;
    {
        ouro::examples::ProgressBar bar = progress_bar(lab, "e9 greedy samples",
                                                       std::uint64_t(lab.prompts().size()) *
                                                           std::uint64_t(request.max_new_tokens));
        std::uint64_t done = 0;
        set = decode(lab, find_decoder("greedy"), request, &bar, &done);
    }
    const TrainingIndex index(train);
    E9Result m;
    std::vector<std::optional<olab::Loop>> loops;
    NgramSets loop_ngrams;
    m.units = loop_units(lab, set, index, loops, loop_ngrams);
    for (const E9Unit& u : m.units) {
        const double total = double(index.ngrams(std::int64_t(u.tokens.size())));
        m.unit_per_million.push_back(total > 0 ? 1e6 * double(u.occurrences) / total : 0.0);
    }
    m.loop_rates = rates(index, loop_ngrams);
    m.other_rates = rates(index, other_ngrams(set, loops, loop_ngrams, settings.seed));
    m.max_new_tokens = request.max_new_tokens;
    m.prompts = std::int64_t(lab.prompts().size());
    m.train_stories = std::int64_t(train.size());
    m.train_tokens = index.tokens();
    m.seed = settings.seed;
    m.samples = std::int64_t(set.samples.size());
    for (const auto& l : loops)
        m.looping += l.has_value();
    return m;
}

} // namespace collapse
