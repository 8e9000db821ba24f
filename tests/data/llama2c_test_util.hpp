// Helpers for the llama2.c tokenizer tests: writing and reading tokenizer.bin bytes, and a plain
// second implementation of run.c's encode to compare the library with.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace ouro::testing {

struct Piece {
    std::string text;
    float score;
};

inline void put_i32(std::string& out, std::int32_t v) {
    out.append(reinterpret_cast<const char*>(&v), 4);
}

// The bytes of a tokenizer.bin: max_token_length, then score, length, bytes for each piece.
inline std::string tokenizer_bin(std::int32_t max_token_length, const std::vector<Piece>& pieces) {
    std::string out;
    put_i32(out, max_token_length);
    for (const Piece& p : pieces) {
        out.append(reinterpret_cast<const char*>(&p.score), 4);
        put_i32(out, std::int32_t(p.text.size()));
        out += p.text;
    }
    return out;
}

// <unk>, BOS and EOS as llama2.c's export writes them, then the byte pieces <0x00>..<0xFF> (ids
// 3..258) unless `bytes` is false, then `extra`.
inline std::vector<Piece> vocabulary(const std::vector<Piece>& extra, bool bytes = true) {
    std::vector<Piece> v = {{"<unk>", 0}, {"\n<s>\n", 0}, {"\n</s>\n", 0}};
    for (int b = 0; bytes && b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", b);
        v.push_back({name, 0});
    }
    v.insert(v.end(), extra.begin(), extra.end());
    return v;
}

// The pieces and scores of a tokenizer.bin, read here independently of the library.
inline std::vector<Piece> read_pieces(const std::string& bytes) {
    std::vector<Piece> pieces;
    for (std::size_t pos = 4; pos < bytes.size();) {
        Piece p;
        std::int32_t length;
        std::memcpy(&p.score, bytes.data() + pos, 4);
        std::memcpy(&length, bytes.data() + pos + 4, 4);
        p.text = bytes.substr(pos + 8, std::size_t(length));
        pieces.push_back(p);
        pos += 8 + std::size_t(length);
    }
    return pieces;
}

// run.c's encode written out plainly: every lookup a scan of the vocabulary for the first equal
// piece, every step a scan of all pairs for the strictly best score.
inline std::vector<std::int32_t> naive_encode(const std::vector<Piece>& v,
                                              const std::string& text) {
    const auto lookup = [&v](const std::string& s) {
        for (std::size_t i = 0; i < v.size(); ++i)
            if (v[i].text == s)
                return std::int32_t(i);
        return std::int32_t(-1);
    };
    const bool byte_pieces = v.size() >= 259 && v[3 + 0x41].text == "<0x41>";
    std::vector<std::int32_t> ids;
    const auto add = [&](const std::string& cp) {
        const std::int32_t id = lookup(cp);
        if (id >= 0)
            ids.push_back(id);
        else if (!byte_pieces)
            ids.push_back(0);
        else
            for (unsigned char c : cp)
                ids.push_back(std::int32_t(c) + 3);
    };
    if (text.empty())
        return ids;
    add(" ");
    std::string cp;
    for (std::size_t i = 0; i < text.size(); ++i) {
        cp += text[i];
        const bool continues = i + 1 < text.size() && (text[i + 1] & 0xC0) == 0x80;
        if (continues && cp.size() < 4)
            continue;
        add(cp);
        cp.clear();
    }
    for (;;) {
        float best = -1e10f;
        std::int32_t best_id = -1;
        std::size_t best_at = 0;
        for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
            const std::int32_t id =
                lookup(v[std::size_t(ids[i])].text + v[std::size_t(ids[i + 1])].text);
            if (id >= 0 && v[std::size_t(id)].score > best) {
                best = v[std::size_t(id)].score;
                best_id = id;
                best_at = i;
            }
        }
        if (best_id < 0)
            return ids;
        ids[best_at] = best_id;
        ids.erase(ids.begin() + std::ptrdiff_t(best_at) + 1);
    }
}

inline std::vector<std::int32_t> with_bos(std::vector<std::int32_t> ids) {
    ids.insert(ids.begin(), 1);
    return ids;
}

} // namespace ouro::testing
