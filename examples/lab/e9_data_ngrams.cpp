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
#include "lab.hpp"

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

constexpr int min_n = 2, max_n = 6;

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

struct Unit {
    std::vector<std::int32_t> tokens; // the most frequent rotation
    std::int64_t samples = 0;         // samples that loop on it
    TrainingIndex::Count count;
};

// Rates of one set of n-grams: mean and median per-million rate, and how many never occur.
struct RateStats {
    std::int64_t ngrams = 0, unseen = 0;
    double mean = std::numeric_limits<double>::quiet_NaN();
    double median = std::numeric_limits<double>::quiet_NaN();
};

RateStats stats_of(std::vector<double> rates, std::int64_t unseen) {
    RateStats s;
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

} // namespace

ExperimentResult run_e9_data_ngrams(Lab& lab) {
    const std::vector<std::vector<std::int32_t>>& train = lab.train_stories();
    if (train.empty())
        throw ouro::ConfigError("E9 needs the training text: pass --train FILE");
    const LabSettings& settings = lab.settings();

    Decoder greedy;
    greedy.name = "greedy";
    greedy.settings.greedy = true;
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
        set = decode(lab, greedy, request, &bar, &done);
    }
    const TrainingIndex index(train);

    // The loops, their units in the most frequent rotation, and the positions outside loops.
    std::vector<Unit> units;
    std::vector<std::optional<olab::Loop>> loops;
    std::set<std::string> loop_ngrams[max_n + 1];
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
                loop_ngrams[n].insert(key_of(region.subspan(t, std::size_t(n))));
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
                                 [&](const Unit& u) { return u.tokens == best; });
        if (same != units.end()) {
            ++same->samples;
        } else {
            units.push_back({best, 1, best_count});
        }
    }
    std::sort(units.begin(), units.end(), [](const Unit& a, const Unit& b) {
        if (a.count.occurrences != b.count.occurrences)
            return a.count.occurrences > b.count.occurrences;
        return a.tokens < b.tokens;
    });

    // Random n-grams of the same samples outside their loops: as many distinct ones per n as the
    // loops have (drawn without replacement from the positions before each loop's onset, or from
    // the whole sample when it does not loop).
    ouro::Rng rng(settings.seed);
    std::set<std::string> other_ngrams[max_n + 1];
    for (int n = min_n; n <= max_n; ++n) {
        std::vector<std::pair<std::size_t, std::size_t>> positions;
        for (std::size_t i = 0; i < set.samples.size(); ++i) {
            const std::size_t end = loops[i] ? std::size_t(loops[i]->onset) : set.samples[i].size();
            for (std::size_t t = 0; t + std::size_t(n) <= end; ++t)
                positions.push_back({i, t});
        }
        const std::size_t want = std::max<std::size_t>(loop_ngrams[n].size(), 1);
        while (other_ngrams[n].size() < want && !positions.empty()) {
            const std::size_t pick = std::size_t(rng.below(positions.size()));
            const auto [i, t] = positions[pick];
            positions[pick] = positions.back();
            positions.pop_back();
            const std::string key = key_of(std::span(set.samples[i]).subspan(t, std::size_t(n)));
            if (!loop_ngrams[n].count(key))
                other_ngrams[n].insert(key);
        }
    }

    // Training frequency (per million n-grams of the same length) of both sets, by n.
    RateStats loop_stats[max_n + 1], other_stats[max_n + 1];
    for (int n = min_n; n <= max_n; ++n) {
        const double total = double(index.ngrams(n));
        auto rates = [&](const std::set<std::string>& keys, RateStats& out) {
            std::vector<double> r;
            std::int64_t unseen = 0;
            for (const std::string& k : keys) {
                const std::span<const std::int32_t> seq(
                    reinterpret_cast<const std::int32_t*>(k.data()), std::size_t(n));
                const std::int64_t c = index.count(seq).occurrences;
                unseen += c == 0;
                r.push_back(total > 0 ? 1e6 * double(c) / total : 0.0);
            }
            out = stats_of(std::move(r), unseen);
        };
        rates(loop_ngrams[n], loop_stats[n]);
        rates(other_ngrams[n], other_stats[n]);
    }

    ExperimentResult r;
    r.id = "e9";
    r.title = "Where do the loops come from?";
    r.question = "Where do the loops come from? (frequency in the training data of the n-grams "
                 "that appear in loops)";
    r.method = "Greedy samples of " + std::to_string(request.max_new_tokens) + " new tokens from " +
               std::to_string(lab.prompts().size()) +
               " prompts (end token ignored); loops by find_loop with 3 copies; their units and "
               "n-grams (n = 2..6) counted in " +
               std::to_string(train.size()) + " training stories (" +
               std::to_string(index.tokens()) +
               " tokens), against as many random n-grams of the same samples outside the loops "
               "(seed " +
               std::to_string(settings.seed) + ").";
    r.table = olab::Table({"loop unit", "period", "samples", "count in training data",
                           "per million", "stories containing it", "stories %"});
    for (const Unit& u : units) {
        const double total = double(index.ngrams(std::int64_t(u.tokens.size())));
        r.table.add_row(
            {"\"" + one_line(lab.text(u.tokens)) + "\"", fmt(std::int64_t(u.tokens.size())),
             fmt(u.samples), fmt(u.count.occurrences),
             fmt(total > 0 ? 1e6 * double(u.count.occurrences) / total : 0.0, 1),
             fmt(u.count.stories), fmt(100.0 * double(u.count.stories) / double(train.size()), 2)});
    }

    std::vector<std::string> categories;
    olab::Series loop_mean{"loop n-grams", {}, {}, olab::Series::Style::bars};
    olab::Series other_mean{"other n-grams of the samples", {}, {}, olab::Series::Style::bars};
    olab::Series loop_seen{"loop n-grams", {}, {}, olab::Series::Style::bars};
    olab::Series other_seen{"other n-grams of the samples", {}, {}, olab::Series::Style::bars};
    auto seen = [](const RateStats& s) {
        return s.ngrams ? 100.0 * double(s.ngrams - s.unseen) / double(s.ngrams)
                        : std::numeric_limits<double>::quiet_NaN();
    };
    for (int n = min_n; n <= max_n; ++n) {
        categories.push_back("n=" + std::to_string(n));
        const double x = double(n - min_n);
        loop_mean.x.push_back(x);
        loop_mean.y.push_back(loop_stats[n].mean);
        other_mean.x.push_back(x);
        other_mean.y.push_back(other_stats[n].mean);
        loop_seen.x.push_back(x);
        loop_seen.y.push_back(seen(loop_stats[n]));
        other_seen.x.push_back(x);
        other_seen.y.push_back(seen(other_stats[n]));
    }
    olab::PlotSpec rate_plot;
    rate_plot.title = "Training frequency: loop n-grams vs other n-grams";
    rate_plot.x_label = "n-gram length";
    rate_plot.y_label = "mean occurrences per million training n-grams";
    rate_plot.x_categories = categories;
    rate_plot.y_min = 0.0;
    rate_plot.series = {loop_mean, other_mean};
    r.plots.push_back(std::move(rate_plot));
    olab::PlotSpec seen_plot;
    seen_plot.title = "n-grams found in the training stories";
    seen_plot.x_label = "n-gram length";
    seen_plot.y_label = "% of the n-grams";
    seen_plot.x_categories = categories;
    seen_plot.y_min = 0.0;
    seen_plot.y_max = 100.0;
    seen_plot.series = {loop_seen, other_seen};
    r.plots.push_back(std::move(seen_plot));

    std::int64_t looping = 0;
    for (const auto& l : loops)
        looping += l.has_value();
    r.findings.push_back(std::to_string(looping) + " of " + std::to_string(set.samples.size()) +
                         " greedy samples end in a loop (3 copies), with " +
                         std::to_string(units.size()) + " distinct loop units.");
    if (!units.empty()) {
        const Unit& top = units.front();
        r.findings.push_back(
            "The most frequent unit in the training data, \"" + one_line(lab.text(top.tokens)) +
            "\" (period " + std::to_string(top.tokens.size()) + "), occurs " +
            fmt(top.count.occurrences) + " times in " + fmt(top.count.stories) + " of " +
            std::to_string(train.size()) + " training stories (" +
            fmt(100.0 * double(top.count.stories) / double(train.size()), 1) + "%).");
        for (const int n : {2, 4, 6}) {
            const RateStats& a = loop_stats[n];
            const RateStats& b = other_stats[n];
            r.findings.push_back(
                std::to_string(n) + "-grams: loop n-grams occur " + fmt(a.mean, 1) +
                " times per million training n-grams on average (median " + fmt(a.median, 1) +
                ", " + fmt(a.unseen) + " of " + fmt(a.ngrams) +
                " never), other n-grams of the samples " + fmt(b.mean, 1) + " (median " +
                fmt(b.median, 1) + ", " + fmt(b.unseen) + " of " + fmt(b.ngrams) + " never)" +
                (b.mean > 0 ? ": a ratio of " + fmt(a.mean / b.mean, 2) + "." : "."));
        }
    } else {
        r.findings.push_back("No greedy sample ends in a loop of 3 copies at this length, so "
                             "there are no loop n-grams to look up.");
    }
    for (int n = min_n; n <= max_n; ++n) {
        const std::string k = "e9_n" + std::to_string(n);
        r.numbers[k + "_loop_rate"] = loop_stats[n].mean;
        r.numbers[k + "_other_rate"] = other_stats[n].mean;
        r.numbers[k + "_loop_median_rate"] = loop_stats[n].median;
        r.numbers[k + "_other_median_rate"] = other_stats[n].median;
    }
    r.numbers["e9_looping_samples"] = double(looping);
    r.numbers["e9_loop_units"] = double(units.size());
    if (!units.empty())
        r.numbers["e9_top_unit_story_percent"] =
            100.0 * double(units.front().count.stories) / double(train.size());
    return r;
}

} // namespace collapse
