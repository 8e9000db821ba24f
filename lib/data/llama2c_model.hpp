// The tables behind a llama2.c Tokenizer (llama2c_tokenizer.cpp). Private to the library.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ouro::data::detail {

struct Llama2cModel {
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    using IdMap = std::unordered_map<std::string, std::int32_t, Hash, std::equal_to<>>;

    std::int32_t max_token_length = 0; // as stored (saved back unchanged)
    std::vector<std::string> pieces;   // id -> piece as stored, e.g. " the", "<0x0A>"
    std::vector<float> scores;         // id -> score of making this piece by a merge
    std::vector<std::string> texts;    // id -> token(): the piece, <0xHH> as its byte
    IdMap piece_ids;                   // piece -> lowest id with it (encoding's lookups)
    IdMap text_ids;                    // text -> id for find(): pieces before byte pieces
    std::vector<std::int32_t> special_ids{0, 1, 2};
    // Ids 3..258 are <0x00>..<0xFF>: characters not in the vocabulary become their bytes' pieces
    // (otherwise <unk>).
    bool byte_fallback = false;
};

/// The tokenizer in the bytes of a tokenizer.bin, or nullptr with `error` saying what is wrong
/// (without the path, which the caller adds).
std::shared_ptr<Llama2cModel> parse_llama2c(std::string_view bytes, std::string& error);

/// Appends the ids of `text` (run.c's encode without BOS and EOS) to `out`.
void llama2c_encode(const Llama2cModel& m, std::string_view text, std::vector<std::int32_t>& out);

/// Appends the text of token `id` after token `prev` (run.c's decode); `id` is in range.
void llama2c_append_decoded(const Llama2cModel& m, std::int32_t prev, std::int32_t id,
                            std::string& out);

} // namespace ouro::data::detail
