// llama2.c's tokenizer (Karpathy's llama2.c, run.c: build_tokenizer, encode, decode): reading and
// writing tokenizer.bin, encoding by score-ordered merges, decoding one token after another.
//
// run.c merges by rescanning every adjacent pair after each merge (quadratic in the text). Here a
// max-heap of candidate pairs, ordered by (score, then leftmost position), over a linked list of
// symbols gives the same merges in O(n log n): the top of the heap is always the pair run.c would
// pick, since it holds every adjacent pair that makes a piece and stale entries are skipped.
#include "llama2c_model.hpp"
#include "ouro/data/tokenizer.hpp"

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/error.hpp"

#include <bit>
#include <cstring>
#include <memory>
#include <queue>

namespace ouro::data {

// The format is the host's memory of int32 and float32 on the little-endian machines llama2.c
// runs on.
static_assert(std::endian::native == std::endian::little,
              "llama2.c's tokenizer.bin is read as little-endian");

namespace detail {

namespace {

// Sanity limits, checked before anything is allocated: a piece of Llama 2's vocabulary has at most
// a few dozen bytes, and its whole tokenizer.bin is under half a megabyte.
constexpr std::int32_t max_piece_bytes = 1 << 16;
constexpr std::uint64_t max_file_bytes = std::uint64_t(256) << 20;

// run.c starts its search for the best merge at this score, so a pair whose piece scores no
// higher never merges.
constexpr float no_merge_score = -1e10f;

int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

// The byte a piece "<0xHH>" stands for, or -1 for any other piece.
int byte_of_piece(std::string_view piece) {
    if (piece.size() != 6 || !piece.starts_with("<0x") || piece[5] != '>')
        return -1;
    const int hi = hex_digit(piece[3]), lo = hex_digit(piece[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

std::int32_t read_i32(const char* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

} // namespace

// The tokenizer in `bytes`, or nullptr with `error` saying what is wrong (without the path).
std::shared_ptr<Llama2cModel> parse_llama2c(std::string_view bytes, std::string& error) {
    if (bytes.empty()) {
        error = "the file is empty";
        return nullptr;
    }
    if (bytes.size() < 4) {
        error = "the file is " + std::to_string(bytes.size()) +
                " bytes, too short for the int32 max_token_length";
        return nullptr;
    }
    auto m = std::make_shared<Llama2cModel>();
    m->max_token_length = read_i32(bytes.data());
    if (m->max_token_length < 1 || m->max_token_length > max_piece_bytes) {
        error = "max_token_length is " + std::to_string(m->max_token_length) + " (expected 1 to " +
                std::to_string(max_piece_bytes) + ")";
        return nullptr;
    }
    for (std::size_t pos = 4; pos < bytes.size();) {
        const auto fail = [&](const std::string& what) {
            error = "token " + std::to_string(m->pieces.size()) + " (at byte " +
                    std::to_string(pos) + "): " + what;
            return nullptr;
        };
        const std::size_t left = bytes.size() - pos;
        if (left < 8)
            return fail(std::string("the file ends inside its ") +
                        (left < 4 ? "float32 score" : "int32 length"));
        const std::int32_t length = read_i32(bytes.data() + pos + 4);
        if (length < 0)
            return fail("length " + std::to_string(length) + " is negative");
        if (length == 0)
            return fail("length 0 (a piece has at least one byte)");
        if (length > m->max_token_length)
            return fail("length " + std::to_string(length) + " is more than max_token_length " +
                        std::to_string(m->max_token_length));
        if (std::size_t(length) > left - 8)
            return fail("length " + std::to_string(length) + ", but the file ends " +
                        std::to_string(left - 8) + " bytes into the piece");
        const std::string_view piece = bytes.substr(pos + 8, std::size_t(length));
        if (piece.find('\0') != std::string_view::npos)
            return fail("the piece contains a NUL byte"); // run.c would cut its C string short
        float score;
        std::memcpy(&score, bytes.data() + pos, 4);
        m->scores.push_back(score);
        m->pieces.emplace_back(piece);
        pos += 8 + std::size_t(length);
    }
    if (m->pieces.size() < 3) {
        error = "only " + std::to_string(m->pieces.size()) +
                " tokens (a llama2.c tokenizer has at least <unk>, <s> and </s>)";
        return nullptr;
    }

    const std::size_t n = m->pieces.size();
    m->byte_fallback = n >= 3 + 256;
    for (int b = 0; b < 256 && m->byte_fallback; ++b)
        m->byte_fallback = byte_of_piece(m->pieces[std::size_t(3 + b)]) == b;
    m->texts.reserve(n);
    m->piece_ids.reserve(n);
    m->text_ids.reserve(n);
    for (std::size_t id = 0; id < n; ++id) {
        const std::string& piece = m->pieces[id];
        const int byte = byte_of_piece(piece);
        m->texts.push_back(byte < 0 ? piece : std::string(1, char(byte)));
        // emplace keeps the first, so a repeated piece resolves to its lowest id.
        m->piece_ids.emplace(piece, std::int32_t(id));
        if (byte < 0)
            m->text_ids.emplace(piece, std::int32_t(id));
    }
    for (std::size_t id = 0; id < n; ++id)
        if (byte_of_piece(m->pieces[id]) >= 0)
            m->text_ids.emplace(m->texts[id], std::int32_t(id));
    return m;
}

namespace {

// Appends the ids of one code point (or stray byte run): its piece, else its bytes' pieces, else
// <unk>.
void push_code_point(const Llama2cModel& m, std::string_view cp, std::vector<std::int32_t>& ids) {
    const auto it = m.piece_ids.find(cp);
    if (it != m.piece_ids.end()) {
        ids.push_back(it->second);
    } else if (m.byte_fallback) {
        for (char c : cp)
            ids.push_back(std::int32_t(std::uint8_t(c)) + 3);
    } else {
        ids.push_back(0);
    }
}

// A pair of adjacent symbols that concatenate to a piece. The heap's top is the highest score,
// then the leftmost position (run.c keeps the first pair on ties).
struct Candidate {
    float score;
    std::int32_t pos, right;        // positions of the two symbols
    std::int32_t left_id, right_id; // their ids when the candidate was made
    std::int32_t merged;
};

struct LowerPriority {
    bool operator()(const Candidate& a, const Candidate& b) const {
        return a.score < b.score || (a.score == b.score && a.pos > b.pos);
    }
};

} // namespace

void llama2c_encode(const Llama2cModel& m, std::string_view text, std::vector<std::int32_t>& out) {
    if (text.empty())
        return;
    std::vector<std::int32_t> ids;
    ids.reserve(text.size() + 1);
    push_code_point(m, " ", ids); // the dummy prefix
    // A code point is a byte and the continuation bytes (10xxxxxx) after it, four bytes at most,
    // as run.c groups them; invalid UTF-8 is grouped the same way.
    for (std::size_t i = 0; i < text.size();) {
        std::size_t n = 1;
        while (n < 4 && i + n < text.size() && (std::uint8_t(text[i + n]) & 0xC0) == 0x80)
            ++n;
        push_code_point(m, text.substr(i, n), ids);
        i += n;
    }

    // Symbols form a linked list over positions; ids[p] = -1 once merged into its left neighbour.
    const auto n = std::int32_t(ids.size());
    std::vector<std::int32_t> next(ids.size()), prev(ids.size());
    for (std::int32_t i = 0; i < n; ++i) {
        next[std::size_t(i)] = i + 1 < n ? i + 1 : -1;
        prev[std::size_t(i)] = i - 1;
    }
    std::priority_queue<Candidate, std::vector<Candidate>, LowerPriority> heap;
    std::string joined;
    const auto consider = [&](std::int32_t pos) {
        if (pos < 0 || next[std::size_t(pos)] < 0)
            return;
        const std::int32_t right = next[std::size_t(pos)];
        const std::string& a = m.pieces[std::size_t(ids[std::size_t(pos)])];
        const std::string& b = m.pieces[std::size_t(ids[std::size_t(right)])];
        if (a.size() + b.size() > std::size_t(m.max_token_length))
            return; // longer than every piece
        joined.assign(a);
        joined += b;
        const auto it = m.piece_ids.find(joined);
        if (it == m.piece_ids.end())
            return;
        const float score = m.scores[std::size_t(it->second)];
        if (score > no_merge_score) // false for NaN too, as in run.c
            heap.push(
                {score, pos, right, ids[std::size_t(pos)], ids[std::size_t(right)], it->second});
    };
    for (std::int32_t i = 0; i + 1 < n; ++i)
        consider(i);
    while (!heap.empty()) {
        const Candidate c = heap.top();
        heap.pop();
        // Stale when either symbol has merged since: a symbol's piece only grows, so its id
        // never comes back.
        const auto pos = std::size_t(c.pos), right = std::size_t(c.right);
        if (ids[pos] != c.left_id || next[pos] != c.right || ids[right] != c.right_id)
            continue;
        ids[pos] = c.merged;
        ids[right] = -1;
        next[pos] = next[right];
        if (next[pos] >= 0)
            prev[std::size_t(next[pos])] = c.pos;
        consider(prev[pos]);
        consider(c.pos);
    }
    for (std::int32_t i = 0; i >= 0; i = next[std::size_t(i)])
        out.push_back(ids[std::size_t(i)]);
}

void llama2c_append_decoded(const Llama2cModel& m, std::int32_t prev, std::int32_t id,
                            std::string& out) {
    if (id == 1 || id == 2)
        return; // BOS, EOS
    if (prev == 1 && m.pieces[std::size_t(id)].starts_with(' ')) {
        // After BOS SentencePiece drops the dummy prefix's space (run.c's decode).
        const std::string_view rest = std::string_view(m.pieces[std::size_t(id)]).substr(1);
        const int byte = byte_of_piece(rest);
        if (byte >= 0)
            out += char(byte);
        else
            out += rest;
        return;
    }
    out += m.texts[std::size_t(id)];
}

} // namespace detail

// ---------------------------------------------------------------------------------------------
// Tokenizer members of the llama2.c kind

namespace {

// The bytes of the file at `path`, with `what` naming the caller in errors.
std::string read_tokenizer_bin(const std::filesystem::path& path, const std::string& what) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw IoError(what + ": " + path.string() + " is a directory, not a tokenizer.bin file");
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec && size > detail::max_file_bytes)
        throw FormatError(what + ": " + path.string() + ": the file is " + std::to_string(size) +
                          " bytes, more than the 256 MiB a tokenizer.bin may have");
    return read_file(path, what);
}

} // namespace

Tokenizer::Tokenizer(std::shared_ptr<const detail::Llama2cModel> model)
    : llama2c_(std::move(model)) {}

Tokenizer Tokenizer::load_llama2c(const std::filesystem::path& tokenizer_bin) {
    const std::string what = "Tokenizer::load_llama2c";
    const std::string bytes = read_tokenizer_bin(tokenizer_bin, what);
    std::string error;
    auto model = detail::parse_llama2c(bytes, error);
    if (!model)
        throw FormatError(what + ": " + tokenizer_bin.string() + ": " + error);
    return Tokenizer(std::shared_ptr<const detail::Llama2cModel>(std::move(model)));
}

Tokenizer Tokenizer::load_any(const std::filesystem::path& path) {
    const std::string what = "Tokenizer::load_any";
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status))
        throw IoError(what + ": " + path.string() +
                      " does not exist (expected a folder holding vocab.json and merges.txt, or "
                      "a llama2.c tokenizer.bin file)");
    std::filesystem::path file = path;
    if (std::filesystem::is_directory(status)) {
        const auto vocab = path / "vocab.json", merges = path / "merges.txt";
        const auto bin = path / "tokenizer.bin";
        // vocab.json first: a folder holding both kinds stays the byte-level BPE it was before
        // folders could hold a tokenizer.bin.
        if (std::filesystem::exists(vocab, ec) || !std::filesystem::exists(bin, ec)) {
            for (const auto& f : {vocab, merges})
                if (!std::filesystem::exists(f, ec))
                    throw IoError(what + ": " + path.string() + " has no " + f.filename().string() +
                                  " (looked for " + vocab.string() + " and " + merges.string() +
                                  (f == vocab ? ", or " + bin.string() : std::string()) + ")");
            return load(path);
        }
        file = bin;
    }
    const std::string bytes = read_tokenizer_bin(file, what);
    std::string error;
    auto model = detail::parse_llama2c(bytes, error);
    if (!model)
        throw FormatError(what + ": " + file.string() + ": not a llama2.c tokenizer.bin: " + error +
                          "; a byte-level BPE tokenizer is a folder holding vocab.json and "
                          "merges.txt");
    return Tokenizer(std::shared_ptr<const detail::Llama2cModel>(std::move(model)));
}

void Tokenizer::save_llama2c(const std::filesystem::path& tokenizer_bin) const {
    if (!llama2c_)
        throw ConfigError("Tokenizer::save_llama2c: a byte-level BPE tokenizer has no llama2.c "
                          "form (use save)");
    const detail::Llama2cModel& m = *llama2c_;
    std::string bytes;
    const auto put = [&bytes](const void* p, std::size_t size) {
        bytes.append(static_cast<const char*>(p), size);
    };
    put(&m.max_token_length, 4);
    for (std::size_t id = 0; id < m.pieces.size(); ++id) {
        const auto length = std::int32_t(m.pieces[id].size());
        put(&m.scores[id], 4);
        put(&length, 4);
        bytes += m.pieces[id];
    }
    write_file_atomic(tokenizer_bin, bytes);
}

TokenizerKind Tokenizer::kind() const {
    return llama2c_ ? TokenizerKind::llama2c : TokenizerKind::byte_bpe;
}

std::int32_t Tokenizer::bos_id() const {
    if (!llama2c_)
        throw ConfigError("Tokenizer::bos_id: a byte-level BPE tokenizer has no BOS token (see "
                          "story_separator)");
    return 1;
}

std::int32_t Tokenizer::eos_id() const {
    if (!llama2c_)
        throw ConfigError("Tokenizer::eos_id: a byte-level BPE tokenizer has no EOS token (see "
                          "story_separator)");
    return 2;
}

std::int32_t Tokenizer::story_separator() const {
    if (llama2c_)
        return 1;
    const auto id = find(end_of_text);
    if (!id || !is_special(*id))
        throw ConfigError("Tokenizer::story_separator: this byte-level BPE tokenizer has no " +
                          std::string(end_of_text) + " token");
    return *id;
}

std::string Tokenizer::decode_next(std::int32_t prev, std::int32_t id) const {
    if (id < 0 || id >= vocab_size())
        throw ConfigError("Tokenizer::decode_next: token id " + std::to_string(id) +
                          " out of range [0, " + std::to_string(vocab_size()) + ")");
    if (!llama2c_)
        return token(id);
    std::string out;
    detail::llama2c_append_decoded(*llama2c_, prev, id, out);
    return out;
}

} // namespace ouro::data
