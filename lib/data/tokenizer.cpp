// Byte-level BPE: GPT-2's byte alphabet, loading and saving GPT-2's files, encoding (the fast merge
// and the reference merge kept for tests), decoding. Training is in bpe_train.cpp; the llama2.c
// kind is in llama2c_tokenizer.cpp, and the members here hand over to it.
#include "ouro/data/tokenizer.hpp"

#include "llama2c_model.hpp"
#include "ouro/core/atomic_file.hpp"
#include "ouro/core/error.hpp"
#include "tokenizer_model.hpp"

#include "ouro/core/parallel.hpp"
#include "ouro/data/sha256.hpp"

#include "json_error.hpp"

#include <nlohmann/json.hpp>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <exception>
#include <functional>
#include <mutex>
#include <queue>

namespace ouro::data {

// ---------------------------------------------------------------------------------------------
// GPT-2's byte alphabet

namespace {

// byte -> code point of its printable stand-in, and code point -> byte (-1 when not in the
// alphabet; every stand-in is below U+0144).
struct ByteAlphabet {
    std::array<char32_t, 256> to_char{};
    std::array<int, 324> to_byte{};

    ByteAlphabet() {
        to_byte.fill(-1);
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
            to_char[std::size_t(b)] = printable ? char32_t(b) : next++;
            to_byte[to_char[std::size_t(b)]] = b;
        }
    }
};

const ByteAlphabet& alphabet() {
    static const ByteAlphabet a;
    return a;
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += char(c);
    } else if (c < 0x800) {
        out += char(0xC0 | (c >> 6));
        out += char(0x80 | (c & 0x3F));
    } else {
        // The alphabet stops at U+0143, so two bytes always suffice; general code kept short.
        out += char(0xE0 | (c >> 12));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    }
}

std::string hex_code_point(char32_t c) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "U+%04X", unsigned(c));
    return buf;
}

} // namespace

std::string to_byte_level(std::string_view bytes) {
    const ByteAlphabet& a = alphabet();
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char ch : bytes)
        append_utf8(out, a.to_char[std::uint8_t(ch)]);
    return out;
}

std::string from_byte_level(std::string_view text) {
    const ByteAlphabet& a = alphabet();
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        // Decode one UTF-8 character (one or two bytes in this alphabet).
        const auto b0 = std::uint8_t(text[i]);
        char32_t c;
        std::size_t len;
        if (b0 < 0x80) {
            c = b0;
            len = 1;
        } else if ((b0 & 0xE0) == 0xC0 && i + 1 < text.size() &&
                   (std::uint8_t(text[i + 1]) & 0xC0) == 0x80) {
            c = char32_t(b0 & 0x1F) << 6 | (std::uint8_t(text[i + 1]) & 0x3F);
            len = 2;
        } else {
            // A longer or broken sequence: never part of the alphabet.
            std::size_t n = 1;
            while (i + n < text.size() && (std::uint8_t(text[i + n]) & 0xC0) == 0x80)
                ++n;
            c = 0;
            if ((b0 & 0xF0) == 0xE0 && n == 3)
                c = char32_t(b0 & 0x0F) << 12 | char32_t(std::uint8_t(text[i + 1]) & 0x3F) << 6 |
                    (std::uint8_t(text[i + 2]) & 0x3F);
            else if ((b0 & 0xF8) == 0xF0 && n == 4)
                c = char32_t(b0 & 0x07) << 18 | char32_t(std::uint8_t(text[i + 1]) & 0x3F) << 12 |
                    char32_t(std::uint8_t(text[i + 2]) & 0x3F) << 6 |
                    (std::uint8_t(text[i + 3]) & 0x3F);
            if (c == 0)
                throw FormatError("byte-level text: invalid UTF-8");
            throw FormatError("byte-level text: character " + hex_code_point(c) +
                              " is not in GPT-2's byte alphabet");
        }
        if (c >= a.to_byte.size() || a.to_byte[c] < 0)
            throw FormatError("byte-level text: character " + hex_code_point(c) +
                              " is not in GPT-2's byte alphabet");
        out += char(a.to_byte[c]);
        i += len;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Tables

namespace detail {

std::shared_ptr<TokenizerModel>
make_model(std::vector<std::string> tokens,
           std::vector<std::pair<std::int32_t, std::int32_t>> merges) {
    auto m = std::make_shared<TokenizerModel>();
    m->tokens = std::move(tokens);
    m->merges = std::move(merges);
    m->ids.reserve(m->tokens.size());
    for (std::size_t id = 0; id < m->tokens.size(); ++id)
        m->ids.emplace(m->tokens[id], std::int32_t(id));
    for (int b = 0; b < 256; ++b)
        m->byte_ids[std::size_t(b)] = m->ids.at(std::string(1, char(b)));
    m->ranks.reserve(m->merges.size());
    m->merge_results.reserve(m->merges.size());
    std::vector<char> made(m->tokens.size(), 0);
    for (std::size_t r = 0; r < m->merges.size(); ++r) {
        const auto [left, right] = m->merges[r];
        const std::int32_t result =
            m->ids.at(m->tokens[std::size_t(left)] + m->tokens[std::size_t(right)]);
        m->merge_results.push_back(result);
        m->ranks.emplace(pair_key(left, right), std::int32_t(r));
        made[std::size_t(result)] = 1;
    }
    m->special.assign(m->tokens.size(), 0);
    for (std::size_t id = 0; id < m->tokens.size(); ++id)
        if (m->tokens[id].size() > 1 && !made[id]) {
            m->special[id] = 1;
            m->special_ids.push_back(std::int32_t(id));
        }
    return m;
}

} // namespace detail

using detail::TokenizerModel;

Tokenizer::Tokenizer(std::shared_ptr<const TokenizerModel> model) : model_(std::move(model)) {}

Tokenizer::Tokenizer() {
    std::vector<std::string> tokens;
    for (int b = 0; b < 256; ++b)
        tokens.emplace_back(1, char(b));
    model_ = detail::make_model(std::move(tokens), {});
}

std::int32_t Tokenizer::vocab_size() const {
    return std::int32_t(llama2c_ ? llama2c_->pieces.size() : model_->tokens.size());
}

std::size_t Tokenizer::num_merges() const {
    return llama2c_ ? 0 : model_->merges.size();
}

std::pair<std::int32_t, std::int32_t> Tokenizer::merge(std::size_t k) const {
    if (k >= num_merges())
        throw ConfigError("Tokenizer::merge: merge " + std::to_string(k) + " out of range (" +
                          std::to_string(num_merges()) + " merges)");
    return model_->merges[k];
}

std::int32_t Tokenizer::merge_result(std::size_t k) const {
    if (k >= num_merges())
        throw ConfigError("Tokenizer::merge_result: merge " + std::to_string(k) +
                          " out of range (" + std::to_string(num_merges()) + " merges)");
    return model_->merge_results[k];
}

const std::string& Tokenizer::token(std::int32_t id) const {
    if (id < 0 || id >= vocab_size())
        throw ConfigError("Tokenizer::token: id " + std::to_string(id) + " out of range [0, " +
                          std::to_string(vocab_size()) + ")");
    return llama2c_ ? llama2c_->texts[std::size_t(id)] : model_->tokens[std::size_t(id)];
}

namespace {

void require_llama2c(bool is_llama2c, const char* what) {
    if (!is_llama2c)
        throw ConfigError(std::string("Tokenizer::") + what +
                          ": a byte-level BPE tokenizer has no llama2.c pieces (use token)");
}

} // namespace

const std::string& Tokenizer::piece(std::int32_t id) const {
    require_llama2c(llama2c_ != nullptr, "piece");
    token(id); // the range check
    return llama2c_->pieces[std::size_t(id)];
}

float Tokenizer::score(std::int32_t id) const {
    require_llama2c(llama2c_ != nullptr, "score");
    token(id);
    return llama2c_->scores[std::size_t(id)];
}

std::optional<std::int32_t> Tokenizer::find(std::string_view token_bytes) const {
    if (llama2c_) {
        const auto it = llama2c_->text_ids.find(token_bytes);
        if (it == llama2c_->text_ids.end())
            return std::nullopt;
        return it->second;
    }
    const auto it = model_->ids.find(std::string(token_bytes));
    if (it == model_->ids.end())
        return std::nullopt;
    return it->second;
}

const std::vector<std::int32_t>& Tokenizer::special_ids() const {
    return llama2c_ ? llama2c_->special_ids : model_->special_ids;
}

bool Tokenizer::is_special(std::int32_t id) const {
    if (llama2c_)
        return id >= 0 && id < 3;
    return id >= 0 && id < vocab_size() && model_->special[std::size_t(id)] != 0;
}

std::int32_t Tokenizer::eot_id() const {
    const auto id = find(end_of_text);
    if (!id || !is_special(*id))
        throw ConfigError("Tokenizer::eot_id: this tokenizer has no " + std::string(end_of_text) +
                          " token");
    return *id;
}

// ---------------------------------------------------------------------------------------------
// Merging one pre-token

namespace {

// Pre-tokens up to this many bytes are merged on the stack by rescanning all pairs after each
// merge (cheap for the short words that make up almost all text); longer ones use a heap.
constexpr std::size_t short_word = 64;

// A pre-token of n <= short_word bytes. Each round finds the lowest-ranked adjacent pair and
// merges all its occurrences left to right, as encoder.py does.
void merge_short(const TokenizerModel& m, std::string_view word, std::vector<std::int32_t>& out) {
    std::int32_t ids[short_word];
    std::int32_t ranks[short_word];
    std::size_t n = word.size();
    for (std::size_t i = 0; i < n; ++i)
        ids[i] = m.byte_ids[std::uint8_t(word[i])];
    for (std::size_t i = 0; i + 1 < n; ++i)
        ranks[i] = m.rank(ids[i], ids[i + 1]);
    while (n > 1) {
        std::int32_t best = INT_MAX;
        for (std::size_t i = 0; i + 1 < n; ++i)
            if (ranks[i] >= 0 && ranks[i] < best)
                best = ranks[i];
        if (best == INT_MAX)
            break;
        const std::int32_t merged = m.merge_results[std::size_t(best)];
        // Compact in place: w <= i, so reads stay ahead of writes. A pair whose left symbol was
        // consumed as the right half of the previous merge is not merged (non-overlapping).
        std::size_t w = 0;
        for (std::size_t i = 0; i < n;) {
            if (i + 1 < n && ranks[i] == best) {
                ids[w++] = merged;
                i += 2;
            } else {
                ids[w++] = ids[i++];
            }
        }
        n = w;
        for (std::size_t i = 0; i + 1 < n; ++i)
            ranks[i] = m.rank(ids[i], ids[i + 1]);
    }
    out.insert(out.end(), ids, ids + n);
}

// A long pre-token (e.g. a run of 10,000 spaces) in O(n log n): the symbols form a linked list
// over the byte positions and a min-heap holds (rank, position) of candidate pairs. All pairs of
// the current lowest rank are merged left to right before the pairs they create enter the heap,
// which reproduces encoder.py's rounds exactly.
void merge_long(const TokenizerModel& m, std::string_view word, std::vector<std::int32_t>& out) {
    const auto n = std::int32_t(word.size());
    // ids[i] is the token of the symbol starting at byte i (-1 once merged into its left
    // neighbour); next / prev link the live symbols.
    std::vector<std::int32_t> ids(word.size()), next(word.size()), prev(word.size());
    for (std::int32_t i = 0; i < n; ++i) {
        ids[i] = m.byte_ids[std::uint8_t(word[i])];
        next[i] = i + 1 < n ? i + 1 : -1;
        prev[i] = i - 1;
    }
    // Heap entries are rank << 32 | position: smallest rank first, then leftmost.
    std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> heap;
    const auto push = [&](std::int32_t pos) {
        if (pos < 0 || next[pos] < 0)
            return;
        const std::int32_t r = m.rank(ids[pos], ids[next[pos]]);
        if (r >= 0)
            heap.push(std::uint64_t(r) << 32 | std::uint32_t(pos));
    };
    for (std::int32_t i = 0; i + 1 < n; ++i)
        push(i);
    std::vector<std::int32_t> pending; // positions whose pairs changed in the current round
    while (!heap.empty()) {
        const std::uint64_t top = heap.top();
        heap.pop();
        const auto r = std::int32_t(top >> 32);
        const auto pos = std::int32_t(top & 0xFFFFFFFFu);
        // Skip stale entries: the symbol was merged away, or the pair at pos changed since.
        const std::int32_t nx = next[pos];
        const auto [left, right] = m.merges[r];
        if (ids[pos] == left && nx >= 0 && ids[nx] == right) {
            ids[pos] = m.merge_results[r];
            ids[nx] = -1;
            next[pos] = next[nx];
            if (next[pos] >= 0)
                prev[next[pos]] = pos;
            pending.push_back(prev[pos]);
            pending.push_back(pos);
        }
        // The round of rank r ends when the heap holds no more entries of rank r; only then do
        // the pairs it created become candidates.
        if (heap.empty() || std::int32_t(heap.top() >> 32) != r) {
            for (std::int32_t p : pending)
                if (p >= 0 && ids[p] >= 0)
                    push(p);
            pending.clear();
        }
    }
    for (std::int32_t i = 0; i >= 0; i = next[i])
        out.push_back(ids[i]);
}

void merge_into(const TokenizerModel& m, std::string_view word, std::vector<std::int32_t>& out) {
    if (word.size() <= short_word)
        merge_short(m, word, out);
    else
        merge_long(m, word, out);
}

} // namespace

namespace {

void no_pre_tokens(const char* what) {
    throw ConfigError(std::string(what) +
                      ": a llama2.c tokenizer has no pre-tokens to merge (use encode)");
}

} // namespace

std::vector<std::int32_t> Tokenizer::merge_word(std::string_view word) const {
    if (llama2c_)
        no_pre_tokens("Tokenizer::merge_word");
    std::vector<std::int32_t> out;
    if (!word.empty())
        merge_into(*model_, word, out);
    return out;
}

std::vector<std::int32_t> Tokenizer::merge_word_reference(std::string_view word) const {
    if (llama2c_)
        no_pre_tokens("Tokenizer::merge_word_reference");
    const TokenizerModel& m = *model_;
    std::vector<std::int32_t> ids;
    for (char c : word)
        ids.push_back(m.byte_ids[std::uint8_t(c)]);
    for (;;) {
        // The adjacent pair with the lowest rank.
        std::int32_t best = -1;
        for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
            const std::int32_t r = m.rank(ids[i], ids[i + 1]);
            if (r >= 0 && (best < 0 || r < best))
                best = r;
        }
        if (best < 0)
            return ids;
        // Every occurrence of it, left to right, without overlap.
        const auto [left, right] = m.merges[std::size_t(best)];
        std::vector<std::int32_t> merged;
        for (std::size_t i = 0; i < ids.size();) {
            if (i + 1 < ids.size() && ids[i] == left && ids[i + 1] == right) {
                merged.push_back(m.merge_results[std::size_t(best)]);
                i += 2;
            } else {
                merged.push_back(ids[i++]);
            }
        }
        ids = std::move(merged);
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding and decoding

// Pre-tokens longer than this are merged every time rather than remembered: they are rare, and
// this bounds the memory of a cache.
constexpr std::size_t longest_cached_word = 256;

EncodeCache::EncodeCache(std::size_t max_words) : max_words_(std::max<std::size_t>(max_words, 1)) {}

void EncodeCache::clear() {
    words_.clear();
    ids_.clear();
}

void Tokenizer::encode_ordinary(std::string_view text, std::vector<std::int32_t>& out,
                                EncodeCache& cache) const {
    if (cache.owner_ != model_) {
        cache.clear();
        cache.owner_ = model_;
    }
    cache.pieces_.clear();
    model_->pretokenizer.split(text, cache.pieces_);
    for (std::string_view piece : cache.pieces_) {
        const auto it = cache.words_.find(piece);
        if (it != cache.words_.end()) {
            const auto [first, count] = it->second;
            out.insert(out.end(), cache.ids_.begin() + first, cache.ids_.begin() + first + count);
            continue;
        }
        const std::size_t start = out.size();
        merge_into(*model_, piece, out);
        if (piece.size() > longest_cached_word)
            continue;
        if (cache.words_.size() >= cache.max_words_)
            cache.clear();
        const auto first = std::uint32_t(cache.ids_.size());
        cache.ids_.insert(cache.ids_.end(), out.begin() + std::ptrdiff_t(start), out.end());
        cache.words_.emplace(std::string(piece),
                             std::pair(first, std::uint32_t(out.size() - start)));
    }
}

void Tokenizer::encode_segment(std::string_view text, std::vector<std::int32_t>& out,
                               EncodeCache& cache) const {
    if (llama2c_)
        detail::llama2c_encode(*llama2c_, text, out);
    else
        encode_ordinary(text, out, cache);
}

void Tokenizer::encode(std::string_view text, std::vector<std::int32_t>& out,
                       EncodeCache& cache) const {
    encode_segment(text, out, cache);
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text) const {
    std::vector<std::int32_t> out;
    if (llama2c_) {
        detail::llama2c_encode(*llama2c_, text, out);
        return out;
    }
    EncodeCache cache;
    out.reserve(text.size() / 3);
    encode_ordinary(text, out, cache);
    return out;
}

std::vector<std::int32_t> Tokenizer::encode_with_special(std::string_view text) const {
    EncodeCache cache;
    std::vector<std::int32_t> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        // The earliest special token from pos; the longest one when several start there.
        std::size_t best_at = std::string_view::npos;
        std::int32_t best_id = -1;
        for (std::int32_t id : special_ids()) {
            const std::string& s = token(id);
            const std::size_t at = text.find(s, pos);
            if (at == std::string_view::npos)
                continue;
            if (at < best_at || (at == best_at && s.size() > token(best_id).size())) {
                best_at = at;
                best_id = id;
            }
        }
        if (best_id < 0) {
            encode_segment(text.substr(pos), out, cache);
            break;
        }
        encode_segment(text.substr(pos, best_at - pos), out, cache);
        out.push_back(best_id);
        pos = best_at + token(best_id).size();
    }
    return out;
}

std::vector<std::vector<std::int32_t>>
Tokenizer::encode_corpus(std::span<const std::string> texts, const EncodeOptions& options) const {
    std::vector<std::vector<std::int32_t>> result(texts.size());
    std::uint64_t total = 0;
    for (const std::string& t : texts)
        total += t.size();
    std::atomic<std::uint64_t> done{0};
    ParallelErrors errors;
    const auto n = std::int64_t(texts.size());
    // Each text is encoded on its own, so which thread takes it cannot change its ids. Dynamic
    // scheduling in chunks balances stories of different lengths.
#pragma omp parallel
    {
        EncodeCache cache;
#pragma omp for schedule(dynamic, 64)
        for (std::int64_t i = 0; i < n; ++i) {
            try {
                const std::string& text = texts[std::size_t(i)];
                std::vector<std::int32_t>& ids = result[std::size_t(i)];
                ids.reserve(text.size() / 3);
                encode_segment(text, ids, cache);
                const std::uint64_t now = done.fetch_add(text.size()) + text.size();
                if (options.on_progress && omp_get_thread_num() == 0)
                    options.on_progress(now, total);
            } catch (...) {
                errors.capture();
            }
        }
    }
    errors.rethrow();
    if (options.on_progress)
        options.on_progress(total, total);
    return result;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids) const {
    if (llama2c_) {
        std::string out;
        std::int32_t prev = -1;
        for (std::int32_t id : ids) {
            if (id < 0 || id >= vocab_size())
                throw ConfigError("Tokenizer::decode: token id " + std::to_string(id) +
                                  " out of range [0, " + std::to_string(vocab_size()) + ")");
            detail::llama2c_append_decoded(*llama2c_, prev, id, out);
            prev = id;
        }
        return out;
    }
    const auto& tokens = model_->tokens;
    std::size_t size = 0;
    for (std::int32_t id : ids) {
        if (id < 0 || std::size_t(id) >= tokens.size())
            throw ConfigError("Tokenizer::decode: token id " + std::to_string(id) +
                              " out of range [0, " + std::to_string(tokens.size()) + ")");
        size += tokens[std::size_t(id)].size();
    }
    std::string out;
    out.reserve(size);
    for (std::int32_t id : ids)
        out += tokens[std::size_t(id)];
    return out;
}

// ---------------------------------------------------------------------------------------------
// GPT-2's files

namespace {

// A token for messages: as written in the file (byte-level), in quotes.
std::string in_quotes(std::string_view byte_level) {
    return "\"" + std::string(byte_level) + "\"";
}

std::vector<std::string> read_vocab(const std::filesystem::path& path) {
    const std::string where = "Tokenizer::load: " + path.string() + ": ";
    const std::string text = read_file(path, "Tokenizer::load");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw FormatError(where + "not valid JSON (error at byte " + std::to_string(e.byte) + ")");
    } catch (const nlohmann::json::exception& e) { // a number out of range, e.g. 1e400
        throw FormatError(where + "not valid JSON (" + ouro::detail::json_error_text(e) + ")");
    }
    if (!j.is_object())
        throw FormatError(where + "expected a JSON object mapping tokens to ids");
    const std::size_t n = j.size();
    std::vector<std::string> tokens(n);
    std::vector<std::string> owner(n); // id -> its token as written, for messages
    for (const auto& [key, value] : j.items()) {
        if (!value.is_number_integer())
            throw FormatError(where + "the id of token " + in_quotes(key) + " is not an integer");
        // Negative ids are number_integer, ids above int64 number_unsigned: read each as its own
        // type so that neither wraps into range.
        if (!value.is_number_unsigned() || value.get<std::uint64_t>() >= n)
            throw FormatError(where + "the id " + value.dump() + " of token " + in_quotes(key) +
                              " is outside 0.." + std::to_string(n - 1) +
                              " (ids must number the tokens from 0)");
        const auto id = std::size_t(value.get<std::uint64_t>());
        if (!owner[std::size_t(id)].empty())
            throw FormatError(where + "the id " + std::to_string(id) + " is given to both " +
                              in_quotes(owner[std::size_t(id)]) + " and " + in_quotes(key));
        if (key.empty())
            throw FormatError(where + "the empty string is not a token");
        owner[std::size_t(id)] = key;
        try {
            tokens[std::size_t(id)] = from_byte_level(key);
        } catch (const FormatError& e) {
            const std::string what = e.what();
            throw FormatError(where + "token " + in_quotes(key) + ": " +
                              what.substr(what.find(": ") + 2));
        }
    }
    // Every byte must have a token of its own, or some texts could not be encoded.
    std::vector<char> has_byte(256, 0);
    for (const std::string& t : tokens)
        if (t.size() == 1)
            has_byte[std::uint8_t(t[0])] = 1;
    for (int b = 0; b < 256; ++b)
        if (!has_byte[std::size_t(b)]) {
            char hex[8];
            std::snprintf(hex, sizeof(hex), "0x%02X", b);
            throw FormatError(where + "no token for byte " + hex + " (" +
                              in_quotes(to_byte_level(std::string(1, char(b)))) + ")");
        }
    return tokens;
}

std::vector<std::pair<std::int32_t, std::int32_t>>
read_merges(const std::filesystem::path& path, const std::vector<std::string>& tokens) {
    std::unordered_map<std::string, std::int32_t> ids;
    for (std::size_t id = 0; id < tokens.size(); ++id)
        ids.emplace(tokens[id], std::int32_t(id));
    const std::string text = read_file(path, "Tokenizer::load");
    std::vector<std::pair<std::int32_t, std::int32_t>> merges;
    std::unordered_map<std::uint64_t, std::size_t> first_line;
    std::size_t line_no = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos)
            end = text.size();
        std::string_view line(text.data() + pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty() || (line_no == 1 && line.starts_with("#version")))
            continue;
        const std::string where =
            "Tokenizer::load: " + path.string() + " line " + std::to_string(line_no) + ": ";
        const std::size_t space = line.find(' ');
        if (space == 0 || space == std::string_view::npos || space + 1 == line.size() ||
            line.find(' ', space + 1) != std::string_view::npos)
            throw FormatError(where + "expected two tokens separated by one space, got " +
                              in_quotes(line));
        const std::string_view parts[2] = {line.substr(0, space), line.substr(space + 1)};
        std::int32_t pair[2];
        std::string bytes[2];
        for (int k = 0; k < 2; ++k) {
            try {
                bytes[k] = from_byte_level(parts[k]);
            } catch (const FormatError&) {
                throw FormatError(where + "unknown token " + in_quotes(parts[k]));
            }
            const auto it = ids.find(bytes[k]);
            if (it == ids.end())
                throw FormatError(where + "unknown token " + in_quotes(parts[k]));
            pair[k] = it->second;
        }
        if (!ids.contains(bytes[0] + bytes[1]))
            throw FormatError(where + "the merged token " +
                              in_quotes(std::string(parts[0]) + std::string(parts[1])) +
                              " is not in the vocabulary");
        const auto [it, fresh] = first_line.emplace(detail::pair_key(pair[0], pair[1]), line_no);
        if (!fresh)
            throw FormatError(where + "the merge " + in_quotes(line) + " repeats line " +
                              std::to_string(it->second));
        merges.emplace_back(pair[0], pair[1]);
    }
    return merges;
}

} // namespace

Tokenizer Tokenizer::load(const std::filesystem::path& vocab_json,
                          const std::filesystem::path& merges_txt) {
    std::vector<std::string> tokens = read_vocab(vocab_json);
    auto merges = read_merges(merges_txt, tokens);
    return Tokenizer(detail::make_model(std::move(tokens), std::move(merges)));
}

Tokenizer Tokenizer::load(const std::filesystem::path& dir) {
    return load(dir / "vocab.json", dir / "merges.txt");
}

namespace {

void no_bpe_files(const Tokenizer& tokenizer) {
    if (tokenizer.kind() == TokenizerKind::llama2c)
        throw ConfigError("Tokenizer::save: a llama2.c tokenizer has no vocab.json and "
                          "merges.txt (use save_llama2c)");
}

} // namespace

void Tokenizer::save(const std::filesystem::path& vocab_json,
                     const std::filesystem::path& merges_txt) const {
    no_bpe_files(*this);
    const auto& tokens = model_->tokens;
    // Written by hand rather than through an ordered JSON object (whose inserts are linear
    // searches), in id order, with nlohmann-json escaping each key: {"!": 0, "\"": 1, ...}.
    std::string vocab = "{";
    for (std::size_t id = 0; id < tokens.size(); ++id) {
        if (id > 0)
            vocab += ", ";
        vocab += nlohmann::json(to_byte_level(tokens[id])).dump();
        vocab += ": " + std::to_string(id);
    }
    vocab += "}\n";
    std::string merges = "#version: 0.2\n";
    for (const auto& [left, right] : model_->merges)
        merges += to_byte_level(tokens[std::size_t(left)]) + " " +
                  to_byte_level(tokens[std::size_t(right)]) + "\n";
    write_file_atomic(vocab_json, vocab);
    write_file_atomic(merges_txt, merges);
}

void Tokenizer::save(const std::filesystem::path& dir) const {
    no_bpe_files(*this);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        throw IoError("Tokenizer::save: cannot create " + dir.string() + ": " + ec.message());
    save(dir / "vocab.json", dir / "merges.txt");
}

std::string tokenizer_identity(const Tokenizer& tokenizer, const std::filesystem::path& path) {
    if (tokenizer.kind() == TokenizerKind::llama2c) {
        std::error_code ec;
        const bool folder = std::filesystem::is_directory(path, ec);
        return "llama2c:" + std::to_string(tokenizer.vocab_size()) + ":" +
               sha256_file(folder ? path / "tokenizer.bin" : path);
    }
    return "bpe:" + std::to_string(tokenizer.vocab_size()) + ":" +
           sha256_hex(sha256_file(path / "vocab.json") + sha256_file(path / "merges.txt"));
}

} // namespace ouro::data
