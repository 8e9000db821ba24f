// Training a byte-level BPE (Sennrich et al. 2016): count the pre-tokens of the corpus once, then
// repeatedly merge the most frequent adjacent pair. Pair counts are kept up to date incrementally:
// merging (L, R) into C touches only the words that contain L R, and only the pairs around each
// merge site change (x L R y loses xL, LR, Ry and gains xC, Cy). A max-heap with lazy deletion
// finds the next pair; an entry is stale when its count no longer matches the pair's count.
// train_reference recounts everything before each merge instead, for tests.
#include "ouro/data/tokenizer.hpp"

#include "ouro/core/error.hpp"
#include "tokenizer_model.hpp"

#include "ouro/core/parallel.hpp"

#include <omp.h>

#include <algorithm>
#include <exception>
#include <map>
#include <mutex>
#include <queue>
#include <set>
#include <unordered_set>

namespace ouro::data {

namespace {

struct Word {
    std::vector<std::int32_t> symbols;
    std::int64_t count;
};

// The most frequent pair on top; among equal counts the smallest pair_key (left id, then right).
struct HeapEntry {
    std::int64_t count;
    std::uint64_t key;
    bool operator<(const HeapEntry& other) const {
        return count != other.count ? count < other.count : key > other.key;
    }
};

using WordCounts = std::unordered_map<std::string_view, std::int64_t>;

// Counts the pre-tokens of all texts, in parallel over texts. Integer sums do not depend on the
// order they are added in, so the counts do not depend on the thread count.
WordCounts count_words(std::span<const std::string> texts, const Pretokenizer& pretokenizer) {
    std::vector<WordCounts> partial(static_cast<std::size_t>(omp_get_max_threads()));
    ParallelErrors errors;
    const auto n = std::int64_t(texts.size());
#pragma omp parallel
    {
        WordCounts& local = partial[std::size_t(omp_get_thread_num())];
        std::vector<std::string_view> pieces;
#pragma omp for schedule(dynamic, 256)
        for (std::int64_t i = 0; i < n; ++i) {
            try {
                pieces.clear();
                pretokenizer.split(texts[std::size_t(i)], pieces);
                for (std::string_view p : pieces)
                    ++local[p];
            } catch (...) {
                errors.capture();
            }
        }
    }
    errors.rethrow();
    for (std::size_t t = 1; t < partial.size(); ++t)
        for (const auto& [word, count] : partial[t])
            partial[0][word] += count;
    return std::move(partial[0]);
}

void check_options(const TrainOptions& options) {
    const std::string where = "Tokenizer::train: ";
    std::set<std::string_view> seen;
    for (const std::string& s : options.special_tokens) {
        if (s.empty())
            throw ConfigError(where + "a special token is empty");
        if (!seen.insert(s).second)
            throw ConfigError(where + "special token \"" + s + "\" is given twice");
    }
    const auto min_size = 256 + std::int64_t(options.special_tokens.size());
    if (options.vocab_size < min_size)
        throw ConfigError(where + "vocab_size " + std::to_string(options.vocab_size) +
                          " leaves no room for the 256 byte tokens and " +
                          std::to_string(options.special_tokens.size()) +
                          " special tokens (at least " + std::to_string(min_size) + ")");
}

// The distinct pre-tokens of the texts as byte ids with their counts, in byte order (a fixed
// order, though the result would not depend on it). Words of one byte have no pairs; left out.
std::vector<Word> word_list(std::span<const std::string> texts, const Pretokenizer& pretokenizer) {
    const WordCounts counts = count_words(texts, pretokenizer);
    std::vector<std::string_view> keys;
    keys.reserve(counts.size());
    for (const auto& [word, count] : counts)
        if (word.size() > 1)
            keys.push_back(word);
    std::sort(keys.begin(), keys.end());
    std::vector<Word> words;
    words.reserve(keys.size());
    for (std::string_view k : keys) {
        Word w{{}, counts.at(k)};
        for (char c : k)
            w.symbols.push_back(std::uint8_t(c));
        words.push_back(std::move(w));
    }
    return words;
}

// The tokens and merges so far, with the lookup that finds an existing token with the same bytes.
struct Vocabulary {
    std::vector<std::string> tokens;
    std::unordered_map<std::string, std::int32_t> ids;
    std::vector<std::pair<std::int32_t, std::int32_t>> merges;

    Vocabulary() {
        for (int b = 0; b < 256; ++b) {
            tokens.emplace_back(1, char(b));
            ids.emplace(tokens.back(), b);
        }
    }
    // Records the merge of (left, right) and returns the id of its result: a new token, or, should
    // the same bytes have been reached before by another split, that token (a vocabulary lists
    // each byte string once; random searches over small corpora never produced this case, but
    // nothing here relies on it not happening).
    std::int32_t add_merge(std::int32_t left, std::int32_t right) {
        merges.emplace_back(left, right);
        std::string bytes = tokens[std::size_t(left)] + tokens[std::size_t(right)];
        const auto [it, fresh] = ids.emplace(bytes, std::int32_t(tokens.size()));
        if (fresh)
            tokens.push_back(std::move(bytes));
        return it->second;
    }
};

// Appends the special tokens and builds the tokenizer's tables.
std::shared_ptr<detail::TokenizerModel> finish(Vocabulary& v, const TrainOptions& options) {
    for (const std::string& s : options.special_tokens) {
        if (v.ids.contains(s))
            throw ConfigError("Tokenizer::train: special token \"" + s +
                              "\" is also an ordinary token");
        v.tokens.push_back(s);
    }
    return detail::make_model(std::move(v.tokens), std::move(v.merges));
}

} // namespace

Tokenizer Tokenizer::train(std::span<const std::string> texts, const TrainOptions& options) {
    check_options(options);
    const Tokenizer bytes_only;
    std::vector<Word> words = word_list(texts, bytes_only.model_->pretokenizer);

    // Pair counts and, for each pair, the words it occurs in (with repeats and stale entries;
    // cleaned up when the pair is merged).
    std::unordered_map<std::uint64_t, std::int64_t> pair_counts;
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> where;
    for (std::size_t w = 0; w < words.size(); ++w) {
        const auto& s = words[w].symbols;
        for (std::size_t i = 0; i + 1 < s.size(); ++i) {
            const std::uint64_t key = detail::pair_key(s[i], s[i + 1]);
            pair_counts[key] += words[w].count;
            where[key].push_back(std::uint32_t(w));
        }
    }
    std::priority_queue<HeapEntry> heap;
    for (const auto& [key, count] : pair_counts)
        heap.push({count, key});

    Vocabulary vocab;
    // Pairs merged already. Only a merge whose result is an existing token (see add_merge) could
    // make such a pair adjacent again; it is not merged twice (a merges file lists each pair
    // once), so its count is no longer kept.
    std::unordered_set<std::uint64_t> merged;

    const auto target = std::size_t(options.vocab_size) - options.special_tokens.size();
    auto progress = [&](std::size_t done) {
        if (options.on_progress)
            options.on_progress(done, target - 256);
    };
    std::vector<std::uint64_t> changed;
    while (vocab.tokens.size() < target) {
        // The most frequent pair, skipping stale heap entries.
        std::uint64_t key = 0;
        bool found = false;
        while (!heap.empty()) {
            const HeapEntry top = heap.top();
            heap.pop();
            const auto it = pair_counts.find(top.key);
            if (it != pair_counts.end() && it->second == top.count && top.count > 0) {
                key = top.key;
                found = true;
                break;
            }
        }
        if (!found)
            break;
        const auto left = std::int32_t(key >> 32);
        const auto right = std::int32_t(key & 0xFFFFFFFFu);
        const std::int32_t merged_id = vocab.add_merge(left, right);
        merged.insert(key);

        std::vector<std::uint32_t> affected = std::move(where[key]);
        where.erase(key);
        std::sort(affected.begin(), affected.end());
        affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
        changed.clear();
        const auto add = [&](std::int32_t a, std::int32_t b, std::int64_t delta, std::uint32_t w) {
            const std::uint64_t k = detail::pair_key(a, b);
            if (merged.contains(k))
                return;
            pair_counts[k] += delta;
            if (delta > 0)
                where[k].push_back(w);
            changed.push_back(k);
        };
        for (std::uint32_t w : affected) {
            auto& s = words[w].symbols;
            const std::int64_t c = words[w].count;
            // Merge left to right in place (out <= i); the left neighbour is read from the output,
            // so a merge right after another sees the new token.
            const std::size_t n = s.size();
            std::size_t out = 0;
            for (std::size_t i = 0; i < n;) {
                if (i + 1 < n && s[i] == left && s[i + 1] == right) {
                    if (out > 0) {
                        add(s[out - 1], left, -c, w);
                        add(s[out - 1], merged_id, c, w);
                    }
                    if (i + 2 < n) {
                        add(right, s[i + 2], -c, w);
                        add(merged_id, s[i + 2], c, w);
                    }
                    s[out++] = merged_id;
                    i += 2;
                } else {
                    s[out++] = s[i++];
                }
            }
            s.resize(out);
        }
        pair_counts.erase(key);
        std::sort(changed.begin(), changed.end());
        changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
        for (std::uint64_t k : changed) {
            const auto it = pair_counts.find(k);
            if (it == pair_counts.end())
                continue;
            if (it->second > 0) {
                heap.push({it->second, k});
            } else {
                pair_counts.erase(it);
                where.erase(k);
            }
        }
        progress(vocab.tokens.size() - 256);
    }
    progress(vocab.tokens.size() - 256);
    return Tokenizer(finish(vocab, options));
}

Tokenizer Tokenizer::train_reference(std::span<const std::string> texts,
                                     const TrainOptions& options) {
    check_options(options);
    const Tokenizer bytes_only;
    std::vector<Word> words = word_list(texts, bytes_only.model_->pretokenizer);
    Vocabulary vocab;
    std::set<std::uint64_t> merged;
    const auto target = std::size_t(options.vocab_size) - options.special_tokens.size();
    while (vocab.tokens.size() < target) {
        // Count every adjacent pair of every word (pairs merged before are not candidates again).
        std::map<std::uint64_t, std::int64_t> counts;
        for (const Word& w : words)
            for (std::size_t i = 0; i + 1 < w.symbols.size(); ++i)
                counts[detail::pair_key(w.symbols[i], w.symbols[i + 1])] += w.count;
        std::uint64_t best = 0;
        std::int64_t best_count = 0;
        for (const auto& [key, count] : counts) // ascending keys: the first maximum wins ties
            if (count > best_count && !merged.contains(key)) {
                best = key;
                best_count = count;
            }
        if (best_count == 0)
            break;
        const auto left = std::int32_t(best >> 32);
        const auto right = std::int32_t(best & 0xFFFFFFFFu);
        const std::int32_t merged_id = vocab.add_merge(left, right);
        merged.insert(best);
        // Merge every occurrence, left to right, without overlap.
        for (Word& w : words) {
            std::vector<std::int32_t> out;
            for (std::size_t i = 0; i < w.symbols.size();) {
                if (i + 1 < w.symbols.size() && w.symbols[i] == left && w.symbols[i + 1] == right) {
                    out.push_back(merged_id);
                    i += 2;
                } else {
                    out.push_back(w.symbols[i++]);
                }
            }
            w.symbols = std::move(out);
        }
    }
    return Tokenizer(finish(vocab, options));
}

} // namespace ouro::data
