// The tokenizer files of a Hugging Face folder: tokenizer.json in the forms transformers' own
// converters write (GPT-2's byte-level BPE; LlamaConverter's SentencePiece BPE with byte fallback),
// tokenizer_config.json, special_tokens_map.json and generation_config.json.
//
// Unknown characters: each is one <unk> (fuse_unk false, as ouro's and run.c's encoders do; HF's
// LlamaConverter fuses runs of them as SentencePiece does), or its UTF-8 bytes' pieces when the
// tokenizer has them (byte_fallback).
//
// A llama2.c tokenizer becomes a BPE whose merges are every split (left, right) of a piece into
// two pieces, ranked by the merged piece's score, highest first (ties: the longer left part, then
// the longer right part, then the order of the pieces' ids), as transformers' SentencePiece
// extractor ranks them. HF's BPE then merges the best-ranked adjacent pair first, which is
// llama2.c's rule (the adjacent pair whose concatenation scores highest) wherever scores differ.
#include "hf_tokenizer.hpp"

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/error.hpp"
#include "ouro/io/hugging_face.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>

namespace ouro::io {
namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

// A JSON string literal; FormatError for text that is not UTF-8.
std::string quoted(const std::string& s, const char* what) {
    try {
        return nlohmann::json(s).dump();
    } catch (const nlohmann::json::exception&) {
        throw FormatError(std::string("tokenizer.json: ") + what + " is not valid UTF-8");
    }
}

// The names HF gives a llama2.c tokenizer's tokens: <unk>, <s>, </s>, then each piece with its
// spaces written as "▁" (U+2581, SentencePiece's metaspace).
std::vector<std::string> llama2c_names(const data::Tokenizer& tok) {
    std::vector<std::string> names{"<unk>", "<s>", "</s>"};
    for (std::int32_t id = 3; id < tok.vocab_size(); ++id) {
        std::string name;
        for (const char ch : tok.piece(id))
            name += ch == ' ' ? std::string("\xE2\x96\x81") : std::string(1, ch);
        names.push_back(std::move(name));
    }
    return names;
}

// Whether ids 3..258 are the byte pieces <0x00>..<0xFF>, which characters outside the vocabulary
// fall back to (otherwise each such character is one <unk>).
bool has_byte_pieces(const data::Tokenizer& tok) {
    if (tok.vocab_size() < 259)
        return false;
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", b);
        if (tok.piece(3 + b) != name)
            return false;
    }
    return true;
}

// Byte offsets of the code point boundaries inside `s` (not 0, not s.size()).
std::vector<std::size_t> inner_boundaries(const std::string& s) {
    std::vector<std::size_t> out;
    for (std::size_t i = 1; i < s.size(); ++i)
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80)
            out.push_back(i);
    return out;
}

std::size_t code_points(std::string_view s) {
    return std::size_t(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::vector<std::string> llama2c_merges(const data::Tokenizer& tok,
                                        const std::vector<std::string>& names) {
    std::unordered_map<std::string, std::int32_t> ids;
    for (std::int32_t id = 0; id < std::int32_t(names.size()); ++id)
        if (!ids.emplace(names[std::size_t(id)], id).second)
            throw FormatError("tokenizer.json: tokens " +
                              std::to_string(ids[names[std::size_t(id)]]) + " and " +
                              std::to_string(id) + " are both '" + names[std::size_t(id)] +
                              "' in Hugging Face's form");
    struct Merge {
        std::int32_t left, right;
        float score;
        std::size_t left_len, right_len;
    };
    std::vector<Merge> merges;
    for (std::int32_t id = 3; id < std::int32_t(names.size()); ++id) {
        const std::string& n = names[std::size_t(id)];
        std::vector<Merge> local;
        for (const std::size_t k : inner_boundaries(n)) {
            const auto l = ids.find(n.substr(0, k)), r = ids.find(n.substr(k));
            if (l != ids.end() && r != ids.end())
                local.push_back({l->second, r->second, tok.score(id),
                                 code_points(std::string_view(n).substr(0, k)),
                                 code_points(std::string_view(n).substr(k))});
        }
        std::sort(local.begin(), local.end(), [](const Merge& a, const Merge& b) {
            return std::pair(a.left, a.right) < std::pair(b.left, b.right);
        });
        merges.insert(merges.end(), local.begin(), local.end());
    }
    std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
        return std::tuple(a.score, a.left_len, a.right_len) >
               std::tuple(b.score, b.left_len, b.right_len);
    });
    std::vector<std::string> out;
    out.reserve(merges.size());
    for (const Merge& m : merges)
        out.push_back(names[std::size_t(m.left)] + " " + names[std::size_t(m.right)]);
    return out;
}

Json added_token(std::int32_t id, const std::string& content, bool normalized) {
    Json t;
    t["id"] = id;
    t["content"] = content;
    t["single_word"] = false;
    t["lstrip"] = false;
    t["rstrip"] = false;
    t["normalized"] = normalized;
    t["special"] = true;
    return t;
}

Json byte_level(bool add_prefix_space, bool trim_offsets) {
    Json j;
    j["type"] = "ByteLevel";
    j["add_prefix_space"] = add_prefix_space;
    j["trim_offsets"] = trim_offsets;
    j["use_regex"] = true;
    return j;
}

Json replace(const std::string& from, const std::string& to) {
    Json j;
    j["type"] = "Replace";
    j["pattern"] = {{"String", from}};
    j["content"] = to;
    return j;
}

// The "model" object, written by hand: vocabularies of 50,000 entries are too many for an ordered
// JSON object, whose inserts are linear searches.
std::string bpe_model(const std::vector<std::string>& names, const std::vector<std::string>& merges,
                      bool llama, bool byte_fallback) {
    std::string s = "{\"type\": \"BPE\", \"dropout\": null, ";
    s += llama ? "\"unk_token\": \"<unk>\", \"continuing_subword_prefix\": null, "
                 "\"end_of_word_suffix\": null, "
               : "\"unk_token\": null, \"continuing_subword_prefix\": \"\", "
                 "\"end_of_word_suffix\": \"\", ";
    s += "\"fuse_unk\": false, \"byte_fallback\": ";
    s += byte_fallback ? "true, " : "false, ";
    s += "\"vocab\": {";
    for (std::size_t id = 0; id < names.size(); ++id)
        s += (id ? ", " : "") + quoted(names[id], "a token") + ": " + std::to_string(id);
    s += "}, \"merges\": [";
    for (std::size_t k = 0; k < merges.size(); ++k)
        s += (k ? ", " : "") + quoted(merges[k], "a merge");
    return s + "]}";
}

} // namespace

std::string hf_tokenizer_json(const data::Tokenizer& tok) {
    const bool llama = tok.kind() == data::TokenizerKind::llama2c;
    std::vector<std::string> names, merges;
    Json added = Json::array();
    Json head;
    head["version"] = "1.0";
    head["truncation"] = nullptr;
    head["padding"] = nullptr;
    if (llama) {
        names = llama2c_names(tok);
        merges = llama2c_merges(tok, names);
        for (std::int32_t id = 0; id < 3; ++id)
            added.push_back(added_token(id, names[std::size_t(id)], false));
        head["added_tokens"] = added;
        Json norm;
        norm["type"] = "Sequence";
        norm["normalizers"] = {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}},
                               replace(" ", "\xE2\x96\x81")};
        head["normalizer"] = norm;
        head["pre_tokenizer"] = nullptr;
        Json post;
        post["type"] = "TemplateProcessing";
        const Json bos = {{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}};
        const Json bos1 = {{"SpecialToken", {{"id", "<s>"}, {"type_id", 1}}}};
        const Json a = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
        const Json b = {{"Sequence", {{"id", "B"}, {"type_id", 1}}}};
        post["single"] = {bos, a};
        post["pair"] = {bos, a, bos1, b};
        post["special_tokens"] = {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}};
        head["post_processor"] = post;
        Json dec;
        dec["type"] = "Sequence";
        dec["decoders"] = {replace("\xE2\x96\x81", " "),
                           {{"type", "ByteFallback"}},
                           {{"type", "Fuse"}},
                           {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}};
        head["decoder"] = dec;
    } else {
        for (std::int32_t id = 0; id < tok.vocab_size(); ++id)
            names.push_back(data::to_byte_level(tok.token(id)));
        for (std::size_t k = 0; k < tok.num_merges(); ++k) {
            const auto [l, r] = tok.merge(k);
            merges.push_back(names[std::size_t(l)] + " " + names[std::size_t(r)]);
        }
        for (const std::int32_t id : tok.special_ids())
            added.push_back(added_token(id, tok.token(id), true));
        head["added_tokens"] = added;
        head["normalizer"] = nullptr;
        head["pre_tokenizer"] = byte_level(false, true);
        head["post_processor"] = byte_level(true, false);
        head["decoder"] = byte_level(true, true);
    }
    std::string text;
    try {
        text = head.dump(2);
    } catch (const nlohmann::json::exception&) {
        throw FormatError("tokenizer.json: a special token is not valid UTF-8");
    }
    text.pop_back(); // the closing brace: the model follows
    return text +
           ",\n  \"model\": " + bpe_model(names, merges, llama, llama && has_byte_pieces(tok)) +
           "\n}\n";
}

namespace detail {

HfSpecialIds hf_special_ids(const data::Tokenizer& tok) {
    HfSpecialIds ids;
    if (tok.kind() == data::TokenizerKind::llama2c) {
        ids.bos = tok.bos_id();
        ids.eos = tok.eos_id();
        ids.stop = {tok.eos_id(), tok.bos_id()};
    } else if (const auto eot = tok.find(data::end_of_text); eot && tok.is_special(*eot)) {
        ids.bos = ids.eos = *eot;
        ids.stop = {*eot};
    }
    return ids;
}

void write_generation_config(const fs::path& dir, const HfSpecialIds& ids) {
    Json j = Json::object();
    if (ids.bos)
        j["bos_token_id"] = *ids.bos;
    if (ids.stop.size() == 1)
        j["eos_token_id"] = ids.stop[0];
    else if (!ids.stop.empty())
        j["eos_token_id"] = ids.stop;
    write_file_atomic(dir / "generation_config.json", j.dump(2) + "\n");
}

void write_hf_tokenizer(const fs::path& dir, const data::Tokenizer& tok,
                        std::int64_t model_max_length) {
    const bool llama = tok.kind() == data::TokenizerKind::llama2c;
    const HfSpecialIds ids = hf_special_ids(tok);
    write_file_atomic(dir / "tokenizer.json", hf_tokenizer_json(tok));

    Json config, map = Json::object(), decoder = Json::object();
    auto special = [&](const char* role, std::int32_t id, const std::string& content) {
        config[role] = content;
        map[role] = content;
        Json t = added_token(id, content, !llama);
        t.erase("id");
        decoder[std::to_string(id)] = t;
    };
    if (llama) {
        config["tokenizer_class"] = "LlamaTokenizerFast";
        config["add_bos_token"] = true;
        config["add_eos_token"] = false;
        config["legacy"] = true;
        special("unk_token", 0, "<unk>");
        special("bos_token", 1, "<s>");
        special("eos_token", 2, "</s>");
    } else {
        config["tokenizer_class"] = "GPT2Tokenizer";
        config["add_bos_token"] = false;
        config["add_prefix_space"] = false;
        config["errors"] = "replace";
        for (const std::int32_t id : tok.special_ids())
            decoder[std::to_string(id)] = [&] {
                Json t = added_token(id, tok.token(id), true);
                t.erase("id");
                return t;
            }();
        if (ids.bos) {
            const std::string& eot = tok.token(*ids.bos);
            for (const char* role : {"bos_token", "eos_token", "unk_token"})
                special(role, *ids.bos, eot);
        }
    }
    config["clean_up_tokenization_spaces"] = false;
    config["model_max_length"] = model_max_length;
    config["added_tokens_decoder"] = decoder;
    try {
        write_file_atomic(dir / "tokenizer_config.json", config.dump(2) + "\n");
        write_file_atomic(dir / "special_tokens_map.json", map.dump(2) + "\n");
    } catch (const nlohmann::json::exception&) {
        throw FormatError("tokenizer_config.json: a special token is not valid UTF-8");
    }
    if (llama)
        tok.save_llama2c(dir / "tokenizer.bin");
    else
        tok.save(dir);
}

} // namespace detail
} // namespace ouro::io
