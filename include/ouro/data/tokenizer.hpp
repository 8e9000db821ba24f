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
//
// A second kind, llama2.c's tokenizer.bin (Karpathy's llama2.c, run.c), stands behind the same
// class so that its TinyStories models work with every program: SentencePiece pieces with scores
// (TokenizerKind::llama2c; see llama2c_tokenizer.cpp). encode() adds the dummy prefix " ", looks up
// each UTF-8 code point as a piece (bytes not in the vocabulary become the byte pieces <0x00>..
// <0xFF>, ids 3..258), then merges the adjacent pair whose concatenation is the highest-scoring
// piece, leftmost on ties, until none merges. Id 1 (<s>, BOS) starts each story and is what a
// model generates at a story's end; story_separator() names that token for either kind.
//   auto tok = ouro::data::Tokenizer::load_any("tinyllamas/tok512.bin");
//   std::vector<std::int32_t> ids = tok.encode("Once upon a time"); // " Once", " upon", ...
//   ids.insert(ids.begin(), tok.bos_id());
//   std::string text = tok.decode(ids); // "Once upon a time": after BOS the leading space goes
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
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
struct Llama2cModel;
} // namespace detail

/// The name GPT-2 gives its end-of-text token, which separates documents.
inline constexpr std::string_view end_of_text = "<|endoftext|>";

/// GPT-2's byte-to-unicode alphabet: each byte as one printable character, as UTF-8. Bytes 33-126,
/// 161-172 and 174-255 stand for themselves; the other 68 become U+0100 onwards, in byte order.
std::string to_byte_level(std::string_view bytes);
/// The inverse of to_byte_level. Throws FormatError on a character outside the alphabet:
/// "byte-level text: character U+0020 is not in GPT-2's byte alphabet".
std::string from_byte_level(std::string_view text);

/// Told how far a long job has come: `done` of `total` units of work. The library draws nothing;
/// programs pass a progress bar's update here (examples/common/progress.hpp). An exception it
/// throws ends the job and reaches the caller.
using ProgressCallback = std::function<void(std::uint64_t done, std::uint64_t total)>;

/// Options of Tokenizer::train.
struct TrainOptions {
    /// The size of the result: 256 byte tokens + merges + special tokens. Training stops earlier
    /// when no adjacent pair is left to merge (a tiny corpus), giving a smaller vocabulary.
    std::int32_t vocab_size = 4096;
    /// Special tokens, given the last ids in this order.
    std::vector<std::string> special_tokens = {std::string(end_of_text)};
    /// Called after each merge with the merges made (of vocab_size - 256 - the special tokens
    /// at most), and once more at the end. Empty: not called.
    ProgressCallback on_progress = nullptr;
};

/// Options of Tokenizer::encode_corpus.
struct EncodeOptions {
    /// Called now and then with the bytes of text encoded (of all the texts' bytes), from one
    /// thread at a time, and once more at the end with all of them. Empty: not called.
    ProgressCallback on_progress = nullptr;
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

/// The two kinds of tokenizer behind Tokenizer.
enum class TokenizerKind {
    byte_bpe, ///< GPT-2's byte-level BPE: vocab.json + merges.txt, or trained by Tokenizer::train
    llama2c,  ///< llama2.c's tokenizer.bin: SentencePiece pieces merged by score
};

/// A tokenizer: byte-level BPE, or llama2.c's (see the top of this file). Immutable once made;
/// copies share the same tables, and every const member may be called from several threads at
/// once. Where a member does something else for a llama2.c tokenizer, its comment says what.
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

    /// Reads llama2.c's tokenizer.bin: int32 max_token_length, then for each token a float32
    /// score, an int32 length and that many bytes, until the end of the file (the file does not
    /// store the vocabulary size). Ids 0, 1, 2 are <unk>, BOS and EOS; when ids 3..258 are the
    /// pieces <0x00>..<0xFF> unknown characters fall back to them, otherwise they become <unk>.
    /// Throws IoError when the file cannot be read ("Tokenizer::load_llama2c: cannot open
    /// <path>: No such file or directory", "Tokenizer::load_llama2c: <path> is a directory, not a
    /// tokenizer.bin file") and FormatError "Tokenizer::load_llama2c: <path>: <what>" when its
    /// contents are wrong, e.g. "the file is empty", "max_token_length is 0 (expected 1 to
    /// 65536)", "token 5 (at byte 41): length -3 is negative", "token 5 (at byte 41): length 9 is
    /// more than max_token_length 7", "token 5 (at byte 41): the file ends inside its int32
    /// length", "token 5 (at byte 41): length 7, but the file ends 3 bytes into the piece",
    /// "only 2 tokens (a llama2.c tokenizer has at least <unk>, <s> and </s>)". Everything is
    /// checked before it is allocated; a file over 256 MiB is refused unread.
    static Tokenizer load_llama2c(const std::filesystem::path& tokenizer_bin);
    /// Either kind, told from what is at `path`: a folder holding vocab.json and merges.txt is a
    /// byte-level BPE (load(dir)); a folder holding tokenizer.bin and no vocab.json (a data
    /// folder that prepare made with a llama2.c tokenizer) is that file; a file is read as
    /// llama2.c's tokenizer.bin, whatever its name.
    /// Throws IoError when nothing is at `path` or the folder lacks a file ("Tokenizer::load_any:
    /// <dir> has no vocab.json (looked for <dir>/vocab.json and <dir>/merges.txt, or
    /// <dir>/tokenizer.bin)", "... has no merges.txt (looked for <dir>/vocab.json and
    /// <dir>/merges.txt)"), and FormatError when the file is not a tokenizer.bin
    /// ("Tokenizer::load_any: <file>: not a llama2.c tokenizer.bin: <what, as load_llama2c says
    /// it>; a byte-level BPE tokenizer is a folder holding vocab.json and merges.txt").
    static Tokenizer load_any(const std::filesystem::path& path);

    /// Writes both files, each atomically (temp file, fsync, rename). Saving a tokenizer and
    /// loading it back gives one that encodes identically; equal tokenizers give equal files.
    /// Throws IoError naming the path on failure.
    void save(const std::filesystem::path& vocab_json,
              const std::filesystem::path& merges_txt) const;
    /// save(dir / "vocab.json", dir / "merges.txt"); creates dir when needed.
    /// Both throw ConfigError for a llama2.c tokenizer: "Tokenizer::save: a llama2.c tokenizer has
    /// no vocab.json and merges.txt (use save_llama2c)".
    void save(const std::filesystem::path& dir) const;
    /// Writes a llama2.c tokenizer as tokenizer.bin, atomically; a loaded file saved back is
    /// byte-identical. Throws IoError naming the path, and ConfigError for a byte-level BPE:
    /// "Tokenizer::save_llama2c: a byte-level BPE tokenizer has no llama2.c form (use save)".
    void save_llama2c(const std::filesystem::path& tokenizer_bin) const;

    TokenizerKind kind() const;

    /// The ids of `text`, all of it read as ordinary text (see the top of this file). llama2.c:
    /// as run.c's encode(text, bos = 0, eos = 0), the dummy prefix " " included when `text` is
    /// not empty; a NUL byte is an ordinary byte (run.c, reading C strings, stops there).
    std::vector<std::int32_t> encode(std::string_view text) const;
    /// Appends the ids of `text` to `out`, remembering pre-tokens in `cache` across calls
    /// (llama2.c: appends encode(text); the cache is not used).
    void encode(std::string_view text, std::vector<std::int32_t>& out, EncodeCache& cache) const;
    /// Like encode, but each occurrence of a special token's text (token(id)) becomes that token
    /// (the longest one when several start at the same byte); the text between them is encoded
    /// with encode (llama2.c: each non-empty stretch with its own dummy prefix).
    std::vector<std::int32_t> encode_with_special(std::string_view text) const;
    /// Encodes every text, in parallel over texts (OpenMP threads, a cache per thread). The result
    /// does not depend on the thread count.
    std::vector<std::vector<std::int32_t>> encode_corpus(std::span<const std::string> texts,
                                                         const EncodeOptions& options = {}) const;

    /// The bytes of the tokens, concatenated; decode(encode(x)) == x for every byte string x.
    /// llama2.c: decode_next(prev, id) over the ids, concatenated, with prev = -1 for the first:
    /// decode of {BOS, a, b, ...} is what run.c prints for a, b, ..., and decode({BOS} +
    /// encode(x)) == x for every x that needs no <unk> (and holds no text that merges into a piece
    /// spelled <0xHH>); decode(encode(x)) is " " + x, the dummy prefix.
    /// Throws ConfigError on an id outside [0, vocab_size()).
    std::string decode(std::span<const std::int32_t> ids) const;
    /// The text of token `id` when it follows token `prev` (-1: nothing before it). BPE: token(id);
    /// `prev` does not matter. llama2.c: as run.c's decode(prev, id): the piece, without its
    /// leading space when prev is BOS, a piece <0xHH> (exactly this form, hex digits in either
    /// case) as the one byte 0xHH; BOS and EOS give "" (run.c stops at BOS and never prints
    /// them). Unlike run.c's safe_printf, unprintable bytes are kept, so UTF-8 split into byte
    /// pieces comes back whole. Throws ConfigError when id is out of range.
    std::string decode_next(std::int32_t prev, std::int32_t id) const;

    /// BPE of one pre-token, as encode does it (a heap of candidate merges for long pre-tokens).
    /// Throws ConfigError for a llama2.c tokenizer, which has no pre-tokens.
    std::vector<std::int32_t> merge_word(std::string_view word) const;
    /// The same by the plain algorithm of GPT-2's encoder.py (find the first-ranked adjacent pair,
    /// merge all its occurrences left to right, repeat); the reference for tests. Throws
    /// ConfigError for a llama2.c tokenizer.
    std::vector<std::int32_t> merge_word_reference(std::string_view word) const;

    std::int32_t vocab_size() const;
    /// BPE: the number of merges. llama2.c: 0 (its merges are implied by the scores).
    std::size_t num_merges() const;
    /// The k-th merge as (left id, right id); it makes token id merge_result(k).
    std::pair<std::int32_t, std::int32_t> merge(std::size_t k) const;
    std::int32_t merge_result(std::size_t k) const;
    /// The bytes of token `id`; throws ConfigError when id is out of range. llama2.c: the piece
    /// as stored, with <0xHH> as its one byte (so token(1) is llama2.c's "\n<s>\n").
    const std::string& token(std::int32_t id) const;
    /// llama2.c: the piece of token `id` exactly as tokenizer.bin stores it (" the", "<0x0A>",
    /// "\n<s>\n") and the score that ranks its merge; what a converter to another tokenizer
    /// format needs. Throw ConfigError for an id out of range and for a byte-level BPE:
    /// "Tokenizer::piece: a byte-level BPE tokenizer has no llama2.c pieces (use token)".
    const std::string& piece(std::int32_t id) const;
    float score(std::int32_t id) const;
    /// The id of the token with exactly these bytes (ordinary or special), if there is one.
    /// llama2.c: when a byte is both a piece and a byte piece, the piece (the one encode uses).
    std::optional<std::int32_t> find(std::string_view token_bytes) const;
    /// The ids of the special tokens, ascending (llama2.c: 0, 1, 2 = <unk>, BOS, EOS).
    const std::vector<std::int32_t>& special_ids() const;
    bool is_special(std::int32_t id) const;
    /// The id of "<|endoftext|>"; throws ConfigError when this tokenizer has none (a llama2.c
    /// tokenizer never has one: use story_separator()).
    std::int32_t eot_id() const;
    /// llama2.c's BOS (1) and EOS (2); throw ConfigError for a byte-level BPE:
    /// "Tokenizer::bos_id: a byte-level BPE tokenizer has no BOS token (see story_separator)".
    std::int32_t bos_id() const;
    std::int32_t eos_id() const;
    /// The token that separates stories: it precedes a prompt, and a model that generates it has
    /// ended its story. BPE: eot_id() ("<|endoftext|>" before every story of ouro's shards);
    /// llama2.c: BOS (its TinyStories data starts each story with BOS and has no EOS). Throws
    /// ConfigError for a BPE without "<|endoftext|>": "Tokenizer::story_separator: this
    /// byte-level BPE tokenizer has no <|endoftext|> token".
    std::int32_t story_separator() const;

private:
    explicit Tokenizer(std::shared_ptr<const detail::TokenizerModel> model);
    explicit Tokenizer(std::shared_ptr<const detail::Llama2cModel> model);
    void encode_ordinary(std::string_view text, std::vector<std::int32_t>& out,
                         EncodeCache& cache) const;
    // encode of either kind, appending to `out` (the cache serves the BPE only).
    void encode_segment(std::string_view text, std::vector<std::int32_t>& out,
                        EncodeCache& cache) const;

    // Exactly one is set: model_ for a byte-level BPE, llama2c_ for a llama2.c tokenizer.
    std::shared_ptr<const detail::TokenizerModel> model_;
    std::shared_ptr<const detail::Llama2cModel> llama2c_;
};

/// The identity a checkpoint records for a tokenizer saved at `path`. BPE, `path` the folder
/// (vocab.json + merges.txt): "bpe:<vocab size>:<SHA-256 of the two files' SHA-256 digests>".
/// llama2.c, `path` the tokenizer.bin file or a folder holding it (as load_any takes them):
/// "llama2c:<vocab size>:<SHA-256 of the file>", the same for both. Equal
/// files give equal identities, so a sampling program can tell a model's own tokenizer from
/// another one. Throws IoError when a file cannot be read.
std::string tokenizer_identity(const Tokenizer& tokenizer, const std::filesystem::path& path);

} // namespace ouro::data
