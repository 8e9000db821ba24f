// The tables behind a Tokenizer, shared by tokenizer.cpp (loading, encoding) and bpe_train.cpp
// (training). Private to the library.
#pragma once

#include "ouro/data/pretokenizer.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ouro::data::detail {

/// A merge pair (left id, right id) as one 64-bit key, left in the high half, so that comparing
/// keys compares pairs left id first.
inline std::uint64_t pair_key(std::int32_t left, std::int32_t right) {
    return std::uint64_t(std::uint32_t(left)) << 32 | std::uint32_t(right);
}

struct TokenizerModel {
    std::vector<std::string> tokens;                           // id -> bytes
    std::array<std::int32_t, 256> byte_ids{};                  // byte -> id of its token
    std::vector<std::pair<std::int32_t, std::int32_t>> merges; // rank -> (left, right)
    std::vector<std::int32_t> merge_results;                   // rank -> id of left+right
    std::unordered_map<std::uint64_t, std::int32_t> ranks;     // pair_key -> rank
    std::unordered_map<std::string, std::int32_t> ids;         // bytes -> id
    std::vector<std::int32_t> special_ids;                     // ascending
    std::vector<char> special;                                 // id -> is it special
    Pretokenizer pretokenizer;

    /// The rank of merging (left, right), or -1 when there is no such merge.
    std::int32_t rank(std::int32_t left, std::int32_t right) const {
        const auto it = ranks.find(pair_key(left, right));
        return it == ranks.end() ? -1 : it->second;
    }
};

/// Builds the lookup tables from the tokens (id -> bytes) and the merges (rank -> pair of ids).
/// The caller has checked that every single byte has a token, that left+right of each merge is a
/// token, and that no merge repeats. Tokens that are neither single bytes nor made by a merge are
/// the special tokens.
std::shared_ptr<TokenizerModel>
make_model(std::vector<std::string> tokens,
           std::vector<std::pair<std::int32_t, std::int32_t>> merges);

} // namespace ouro::data::detail
