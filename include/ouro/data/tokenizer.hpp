// Byte-level byte-pair encoding (BPE), as in GPT-2 (Sennrich et al. 2016, "Neural Machine
// Translation of Rare Words with Subword Units"; Radford et al. 2019, section 2.2).
//
// A token is a string of bytes. The vocabulary starts with the 256 single bytes, so any byte
// string can be encoded and decoded exactly, valid UTF-8 or not. Merges are an ordered list of
// pairs (left, right): each makes the token left+right. Encoding first cuts the text into
// pre-tokens with GPT-2's regular expression (see pretokenizer.hpp), then, inside each pre-token,
// starts from single bytes and repeatedly merges every occurrence (left to right) of the adjacent
// pair whose merge comes first in the list, until no adjacent pair has a merge. This is exactly the
// procedure of GPT-2's encoder.py, so GPT-2's own files give GPT-2's ids.
//
// Special tokens (e.g. "<|endoftext|>") are extra vocabulary entries that merges never produce.
// encode() treats all text as ordinary text, so a story that happens to contain the characters
// "<|endoftext|>" cannot inject a control token; encode_with_special() recognises them.
//
// Files: GPT-2's own formats. vocab.json maps each token, written in GPT-2's byte-to-unicode
// alphabet (each byte shown as one printable character: space is "Ġ", newline "Ċ"), to its id;
// merges.txt has one merge per line, "left right" in the same alphabet, after an optional
// "#version: 0.2" line. Tokenizer::load reads the files OpenAI published for GPT-2.
//
// Example:
//   auto tok = ouro::data::Tokenizer::load("gpt2/vocab.json", "gpt2/merges.txt");
//   std::vector<std::int32_t> ids = tok.encode("Once upon a time"); // {7454, 2402, 257, 640}
//   std::string text = tok.decode(ids);                             // "Once upon a time"
#pragma once

#include "ouro/data/progress.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ouro::data {

namespace detail {
struct TokenizerModel;
}

/// The name GPT-2 gives its end-of-text token, which separates documents.
inline constexpr std::string_view end_of_text = "<|endoftext|>";

/// GPT-2's byte-to-unicode alphabet: each byte as one printable character, as UTF-8. Bytes 33-126,
/// 161-172 and 174-255 stand for themselves; the other 68 become U+0100 onwards, in byte order.
std::string to_byte_level(std::string_view bytes);
/// The inverse of to_byte_level. Throws FormatError on a character outside the alphabet:
/// "byte-level text: character U+0020 is not in GPT-2's byte alphabet".
std::string from_byte_level(std::string_view text);

/// Options of Tokenizer::train.
struct TrainOptions {
    /// The size of the result: 256 byte tokens + merges + special tokens. Training stops earlier
    /// when no adjacent pair is left to merge (a tiny corpus), giving a smaller vocabulary.
    std::int32_t vocab_size = 4096;
    /// Special tokens, given the last ids in this order.
    std::vector<std::string> special_tokens = {std::string(end_of_text)};
    /// Progress of the merges on stderr.
    Progress progress = Progress::never;
};

/// Options of Tokenizer::encode_corpus.
struct EncodeOptions {
    /// A progress bar on stderr (by default only when stderr is a terminal).
    Progress progress = Progress::automatic;
};

/// A memo of pre-token -> ids for encoding many texts with one tokenizer. Not thread-safe: use
/// one per thread. It belongs to the tokenizer it was first used with; using it with another one
/// empties it first.
class EncodeCache {
public:
    /// Holds at most `max_words` pre-tokens; it is emptied when full.
    explicit EncodeCache(std::size_t max_words = std::size_t(1) << 18);
    std::size_t size() const { return words_.size(); }
    void clear();

private:
    friend class Tokenizer;
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::shared_ptr<const detail::TokenizerModel> owner_;
    // Each word's ids are ids_[first, first + count).
    std::unordered_map<std::string, std::pair<std::uint32_t, std::uint32_t>, Hash, std::equal_to<>>
        words_;
    std::vector<std::int32_t> ids_;
    std::vector<std::string_view> pieces_; // scratch for the pre-tokens of one text
    std::size_t max_words_;
};

/// A byte-level BPE tokenizer. Immutable once made; copies share the same tables, and every const
/// member may be called from several threads at once.
class Tokenizer {
public:
    /// A tokenizer with the 256 byte tokens only (ids = byte values), no merges, no specials.
    Tokenizer();

    /// Learns merges from `texts` (e.g. one story each; merges never cross text boundaries). Counts
    /// the pre-tokens once, then merges with incremental pair counts and a priority queue.
    /// Ties: the most frequent adjacent pair is merged next; among equally frequent pairs, the one
    /// with the smaller (left id, right id), comparing left ids first. Byte b has id b, the k-th
    /// merge makes id 256 + k, and the special tokens follow. Same texts and options, same
    /// tokenizer, whatever the thread count.
    /// Throws ConfigError when vocab_size leaves no room for the byte and special tokens, or a
    /// special token is empty, repeated, or equal to a learned token.
    static Tokenizer train(std::span<const std::string> texts, const TrainOptions& options = {});
    /// The same result by recounting every pair of every word before each merge: slow, kept as
    /// the reference for tests.
    static Tokenizer train_reference(std::span<const std::string> texts,
                                     const TrainOptions& options = {});

    /// Reads GPT-2's file formats (see the top of this file); the "#version" line of merges.txt is
    /// optional. Tokens that are neither single bytes nor made by a merge become special tokens.
    /// Throws IoError when a file cannot be read and FormatError naming the file (and line) when
    /// its contents are wrong: invalid JSON, an id that is not an integer, ids that are not
    /// 0..n-1 each once, a missing byte token, a merge naming an unknown token, a repeated merge.
    static Tokenizer load(const std::filesystem::path& vocab_json,
                          const std::filesystem::path& merges_txt);
    /// load(dir / "vocab.json", dir / "merges.txt").
    static Tokenizer load(const std::filesystem::path& dir);

    /// Writes both files, each atomically (temp file, fsync, rename). Saving a tokenizer and
    /// loading it back gives one that encodes identically; equal tokenizers give equal files.
    /// Throws IoError naming the path on failure.
    void save(const std::filesystem::path& vocab_json,
              const std::filesystem::path& merges_txt) const;
    /// save(dir / "vocab.json", dir / "merges.txt"); creates dir when needed.
    void save(const std::filesystem::path& dir) const;

    /// The ids of `text`, all of it read as ordinary text (see the top of this file).
    std::vector<std::int32_t> encode(std::string_view text) const;
    /// Appends the ids of `text` to `out`, remembering pre-tokens in `cache` across calls.
    void encode(std::string_view text, std::vector<std::int32_t>& out, EncodeCache& cache) const;
    /// Like encode, but each occurrence of a special token's text becomes that token (the longest
    /// one when several start at the same byte).
    std::vector<std::int32_t> encode_with_special(std::string_view text) const;
    /// Encodes every text, in parallel over texts (OpenMP threads, a cache per thread). The result
    /// does not depend on the thread count.
    std::vector<std::vector<std::int32_t>> encode_corpus(std::span<const std::string> texts,
                                                         const EncodeOptions& options = {}) const;

    /// The bytes of the tokens, concatenated; decode(encode(x)) == x for every byte string x.
    /// Throws ConfigError on an id outside [0, vocab_size()).
    std::string decode(std::span<const std::int32_t> ids) const;

    /// BPE of one pre-token, as encode does it (a heap of candidate merges for long pre-tokens).
    std::vector<std::int32_t> merge_word(std::string_view word) const;
    /// The same by the plain algorithm of GPT-2's encoder.py (find the first-ranked adjacent pair,
    /// merge all its occurrences left to right, repeat); the reference for tests.
    std::vector<std::int32_t> merge_word_reference(std::string_view word) const;

    std::int32_t vocab_size() const;
    std::size_t num_merges() const;
    /// The k-th merge as (left id, right id); it makes token id merge_result(k).
    std::pair<std::int32_t, std::int32_t> merge(std::size_t k) const;
    std::int32_t merge_result(std::size_t k) const;
    /// The bytes of token `id`; throws ConfigError when id is out of range.
    const std::string& token(std::int32_t id) const;
    /// The id of the token with exactly these bytes (ordinary or special), if there is one.
    std::optional<std::int32_t> find(std::string_view token_bytes) const;
    /// The ids of the special tokens, ascending.
    const std::vector<std::int32_t>& special_ids() const;
    bool is_special(std::int32_t id) const;
    /// The id of "<|endoftext|>"; throws ConfigError when this tokenizer has none.
    std::int32_t eot_id() const;

private:
    explicit Tokenizer(std::shared_ptr<const detail::TokenizerModel> model);
    void encode_ordinary(std::string_view text, std::vector<std::int32_t>& out,
                         EncodeCache& cache) const;

    std::shared_ptr<const detail::TokenizerModel> model_;
};

/// The identity a checkpoint records for the tokenizer saved in `dir` (vocab.json + merges.txt):
/// "bpe:<vocab size>:<SHA-256 of the two files' SHA-256 digests>". Two folders with equal files
/// have equal identities, so a sampling program can tell a model's own tokenizer from another one.
/// Throws IoError when a file cannot be read.
std::string tokenizer_identity(const Tokenizer& tokenizer, const std::filesystem::path& dir);

} // namespace ouro::data
