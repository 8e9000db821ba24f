// llama2.c's tokenizer.bin behind Tokenizer: a hand-made file whose merges are worked out by hand
// and compared with a plain second implementation of run.c's encode; bad files; load_any. The real
// files of the shared data folder are in test_llama2c_files.cpp.
#include "data/data_test_util.hpp"
#include "data/llama2c_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/data/sha256.hpp>
#include <ouro/data/tokenizer.hpp>

#include <doctest/doctest.h>

#include <cstring>

using namespace ouro;
using namespace ouro::data;
using namespace ouro::testing;

namespace {

// The hand-made vocabulary: ids 259.. after the byte pieces, scores chosen so that each rule of
// run.c's merging decides some case below.
// clang-format off
enum : std::int32_t {
    sp = 259, a, b, c, d, ab, bc, abc, aa, cd, dc, sp_d, e_acute, hex_lower, hex_bad
};
const std::vector<Piece> hand_made = vocabulary({
    {" ", 0},   {"a", -1},  {"b", -1},  {"c", -1},  {"d", -1},
    {"ab", -5}, {"bc", -2}, {"abc", -6}, {"aa", -3}, {"cd", -4},
    {"dc", -4}, {" d", -7}, {"\xC3\xA9", -1}, {"<0x4a>", -1}, {"<0xZZ>", -1},
});
// clang-format on

Tokenizer load_hand_made(const TempDir& dir) {
    write_bytes(dir / "tok.bin", tokenizer_bin(16, hand_made));
    return Tokenizer::load_llama2c(dir / "tok.bin");
}

using Ids = std::vector<std::int32_t>;

} // namespace

TEST_SUITE("data") {
    TEST_CASE("Tokenizer (llama2.c): encoding by hand") {
        TempDir dir;
        const Tokenizer tok = load_hand_made(dir);
        REQUIRE(tok.kind() == TokenizerKind::llama2c);
        REQUIRE(tok.vocab_size() == std::int32_t(hand_made.size()));
        SUBCASE("the highest-scoring pair merges first") {
            // " abcd": bc (-2) before cd (-4) and ab (-5); then a+bc = abc (-6). Merging ab or
            // cd first would end in " ", ab, cd.
            CHECK(tok.encode("abcd") == Ids{sp, abc, d});
            CHECK(tok.encode("abd") == Ids{sp, ab, d});
        }
        SUBCASE("equal scores: the leftmost pair") {
            CHECK(tok.encode("aaa") == Ids{sp, aa, a});
            CHECK(tok.encode("cdc") == Ids{sp, cd, c}); // cd and dc both score -4
            CHECK(tok.encode("dcd") == Ids{sp, dc, d});
        }
        SUBCASE("the dummy prefix") {
            CHECK(tok.encode("").empty());
            CHECK(tok.encode("dd") == Ids{sp_d, d}); // the prefix merges like any symbol
            CHECK(tok.encode(" ") == Ids{sp, sp});
        }
        SUBCASE("byte fallback, code point by code point") {
            CHECK(tok.encode("\xC3\xA9") == Ids{sp, e_acute});
            CHECK(tok.encode("\xC3\xBC") == Ids{sp, 0xC3 + 3, 0xBC + 3});
            CHECK(tok.encode("a\xF0\x9F\x99\x82") ==
                  Ids{sp, a, 0xF0 + 3, 0x9F + 3, 0x99 + 3, 0x82 + 3});
            // A continuation byte after é belongs to its group (as run.c groups bytes), so the
            // group is not the piece é.
            CHECK(tok.encode("\xC3\xA9\xA9") == Ids{sp, 0xC3 + 3, 0xA9 + 3, 0xA9 + 3});
            CHECK(tok.encode(std::string("a\0b", 3)) == Ids{sp, a, 3, b});
        }
        SUBCASE("decoding one token after another") {
            CHECK(tok.decode_next(-1, sp_d) == " d");
            CHECK(tok.decode_next(1, sp_d) == "d");     // after BOS the leading space goes
            CHECK(tok.decode_next(1, 3 + 0x20) == " "); // a byte piece has no leading space
            CHECK(tok.decode_next(7, 3 + 0x41) == "A");
            CHECK(tok.decode_next(-1, hex_lower) == "J");
            CHECK(tok.decode_next(-1, hex_bad) == "<0xZZ>");
            CHECK(tok.decode_next(-1, 0) == "<unk>");
            CHECK(tok.decode_next(-1, 1).empty());
            CHECK(tok.decode_next(a, 2).empty());
            CHECK(tok.decode(Ids{1, sp_d, a, 1, sp_d, 2}) == "dad");
            CHECK_THROWS_WITH_AS(tok.decode_next(1, 274),
                                 "Tokenizer::decode_next: token id 274 out of range [0, 274)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(tok.decode(Ids{-1}),
                                 "Tokenizer::decode: token id -1 out of range [0, 274)",
                                 ConfigError);
        }
        SUBCASE("decode after BOS gives the text back, UTF-8 through byte pieces included") {
            for (const std::string text :
                 {"abcd dc", " lead", "caf\xC3\xA9 \xE6\x97\xA5\xF0\x9F\x99\x82\n!"}) {
                CHECK(tok.decode(with_bos(tok.encode(text))) == text);
                CHECK(tok.decode(tok.encode(text)) == " " + text);
            }
        }
        SUBCASE("matches the plain implementation on random text") {
            Rng rng(7);
            const char* parts[] = {
                "a", "b", "c", "d", " ", "aa", "\xC3\xA9", "\xA9", "\xE6\x97\xA5", "x"};
            for (int t = 0; t < 300; ++t) {
                std::string text;
                const std::uint64_t n = rng.below(20);
                for (std::uint64_t i = 0; i < n; ++i)
                    text += parts[rng.below(std::size(parts))];
                CHECK(tok.encode(text) == naive_encode(hand_made, text));
            }
        }
        SUBCASE("tokens, specials, find") {
            CHECK(tok.bos_id() == 1);
            CHECK(tok.eos_id() == 2);
            CHECK(tok.story_separator() == 1);
            CHECK(tok.token(1) == "\n<s>\n");
            CHECK(tok.token(3 + 0x41) == "A");
            CHECK(tok.token(ab) == "ab");
            CHECK(tok.special_ids() == Ids{0, 1, 2});
            CHECK(tok.is_special(2));
            CHECK_FALSE(tok.is_special(3));
            CHECK(tok.find("a") == a);        // the piece, not the byte piece <0x61>
            CHECK(tok.find("J") == 3 + 0x4A); // byte piece before the later <0x4a>
            CHECK(tok.find("\n<s>\n") == 1);
            CHECK_FALSE(tok.find("<0x41>").has_value());
            CHECK(tok.num_merges() == 0);
            CHECK(tok.encode_with_special("ab\n<s>\nd") == Ids{sp, ab, 1, sp_d});
            std::vector<std::int32_t> out{9};
            EncodeCache cache;
            tok.encode("aaa", out, cache);
            CHECK(out == Ids{9, sp, aa, a});
            const std::vector<std::string> texts = {"abcd", "", "dd"};
            const auto corpus = tok.encode_corpus(texts);
            CHECK(corpus == std::vector<Ids>{tok.encode("abcd"), {}, tok.encode("dd")});
            const Tokenizer copy = tok;
            CHECK(copy.encode("abcd") == Ids{sp, abc, d});
        }
        SUBCASE("what only a byte-level BPE has") {
            CHECK_THROWS_WITH_AS(tok.eot_id(),
                                 "Tokenizer::eot_id: this tokenizer has no <|endoftext|> token",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(tok.merge(0), "Tokenizer::merge: merge 0 out of range (0 merges)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(tok.merge_word("ab"),
                                 "Tokenizer::merge_word: a llama2.c tokenizer has no pre-tokens to "
                                 "merge (use encode)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(tok.merge_word_reference("ab"),
                                 "Tokenizer::merge_word_reference: a llama2.c tokenizer has no "
                                 "pre-tokens to merge (use encode)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(tok.save(dir / "bpe"),
                                 "Tokenizer::save: a llama2.c tokenizer has no vocab.json and "
                                 "merges.txt (use save_llama2c)",
                                 ConfigError);
        }
        SUBCASE("saved back byte for byte") {
            tok.save_llama2c(dir / "again.bin");
            CHECK(read_bytes(dir / "again.bin") == read_bytes(dir / "tok.bin"));
            CHECK(tokenizer_identity(tok, dir / "tok.bin") ==
                  "llama2c:274:" + sha256_file(dir / "tok.bin"));
        }
    }

    TEST_CASE("Tokenizer (llama2.c): without byte pieces or a space piece") {
        TempDir dir;
        // No byte pieces: an unknown character is <unk>.
        write_bytes(
            dir / "chars.bin",
            tokenizer_bin(6, vocabulary({{" ", 0}, {"a", -1}, {"b", -2}, {"ab", -3}}, false)));
        const Tokenizer chars = Tokenizer::load_llama2c(dir / "chars.bin");
        CHECK(chars.encode("ab") == Ids{3, 6});
        CHECK(chars.encode("a\xC3\xA9") == Ids{3, 4, 0});
        CHECK(chars.find("a") == 4);
        // Byte pieces but no " ": the dummy prefix falls back to <0x20> like any other character.
        write_bytes(dir / "nospace.bin", tokenizer_bin(6, vocabulary({{"a", -1}})));
        CHECK(Tokenizer::load_llama2c(dir / "nospace.bin").encode("a") == Ids{3 + 0x20, 259});
    }

    TEST_CASE("Tokenizer (byte-level BPE): the members both kinds share") {
        const Tokenizer bytes;
        CHECK(bytes.kind() == TokenizerKind::byte_bpe);
        CHECK(bytes.decode_next(1, 'a') == "a");
        CHECK(bytes.decode_next(-1, ' ') == " ");
        CHECK_THROWS_WITH_AS(bytes.decode_next(-1, 256),
                             "Tokenizer::decode_next: token id 256 out of range [0, 256)",
                             ConfigError);
        CHECK_THROWS_WITH_AS(
            bytes.bos_id(),
            "Tokenizer::bos_id: a byte-level BPE tokenizer has no BOS token (see story_separator)",
            ConfigError);
        CHECK_THROWS_WITH_AS(
            bytes.eos_id(),
            "Tokenizer::eos_id: a byte-level BPE tokenizer has no EOS token (see story_separator)",
            ConfigError);
        CHECK_THROWS_WITH_AS(
            bytes.story_separator(),
            "Tokenizer::story_separator: this byte-level BPE tokenizer has no <|endoftext|> token",
            ConfigError);
        CHECK_THROWS_WITH_AS(
            bytes.save_llama2c("x.bin"),
            "Tokenizer::save_llama2c: a byte-level BPE tokenizer has no llama2.c form (use save)",
            ConfigError);
        const std::vector<std::string> texts = {"ab ab ab"};
        const Tokenizer trained = Tokenizer::train(texts, {.vocab_size = 260});
        CHECK(trained.story_separator() == trained.eot_id());
    }

    TEST_CASE("Tokenizer (llama2.c): rejects bad files") {
        TempDir dir;
        const auto p = dir / "bad.bin";
        const std::string at = "Tokenizer::load_llama2c: " + p.string() + ": ";
        const auto load_bytes = [&](const std::string& bytes) {
            write_bytes(p, bytes);
            return Tokenizer::load_llama2c(p);
        };
        const std::string good = tokenizer_bin(6, vocabulary({}, false)); // 3 tokens, 44 bytes
        REQUIRE(good.size() == 44);
        CHECK(load_bytes(good).vocab_size() == 3);
        CHECK_THROWS_WITH_AS(load_bytes(""), (at + "the file is empty").c_str(), FormatError);
        CHECK_THROWS_WITH_AS(
            load_bytes("abc"),
            (at + "the file is 3 bytes, too short for the int32 max_token_length").c_str(),
            FormatError);
        CHECK_THROWS_WITH_AS(load_bytes(tokenizer_bin(0, vocabulary({}, false))),
                             (at + "max_token_length is 0 (expected 1 to 65536)").c_str(),
                             FormatError);
        CHECK_THROWS_WITH_AS(
            load_bytes(good + "ab"),
            (at + "token 3 (at byte 44): the file ends inside its float32 score").c_str(),
            FormatError);
        CHECK_THROWS_WITH_AS(
            load_bytes(good + "abcdef"),
            (at + "token 3 (at byte 44): the file ends inside its int32 length").c_str(),
            FormatError);
        CHECK_THROWS_WITH_AS(
            load_bytes(tokenizer_bin(6, vocabulary({{"abcde", 0}}, false)).substr(0, 44 + 8 + 2)),
            (at + "token 3 (at byte 44): length 5, but the file ends 2 bytes into the piece")
                .c_str(),
            FormatError);
        CHECK_THROWS_WITH_AS(
            load_bytes(tokenizer_bin(6, vocabulary({{"abcdefg", 0}}, false))),
            (at + "token 3 (at byte 44): length 7 is more than max_token_length 6").c_str(),
            FormatError);
        CHECK_THROWS_WITH_AS(
            load_bytes(tokenizer_bin(6, vocabulary({{"", 0}}, false))),
            (at + "token 3 (at byte 44): length 0 (a piece has at least one byte)").c_str(),
            FormatError);
        CHECK_THROWS_WITH_AS(
            load_bytes(tokenizer_bin(6, vocabulary({{std::string("a\0b", 3), 0}}, false))),
            (at + "token 3 (at byte 44): the piece contains a NUL byte").c_str(), FormatError);
        std::string negative = good;
        const std::int32_t minus3 = -3;
        std::memcpy(negative.data() + 4 + 13 + 4, &minus3, 4); // token 1's length
        CHECK_THROWS_WITH_AS(load_bytes(negative),
                             (at + "token 1 (at byte 17): length -3 is negative").c_str(),
                             FormatError);
        CHECK_THROWS_WITH_AS(
            load_bytes(good.substr(0, 4 + 13 + 13)),
            (at + "only 2 tokens (a llama2.c tokenizer has at least <unk>, <s> and </s>)").c_str(),
            FormatError);
        std::filesystem::resize_file(p, std::uintmax_t(300) << 20); // sparse: nothing is written
        CHECK_THROWS_WITH_AS(
            Tokenizer::load_llama2c(p),
            (at + "the file is 314572800 bytes, more than the 256 MiB a tokenizer.bin may have")
                .c_str(),
            FormatError);
        CHECK_THROWS_WITH_AS(Tokenizer::load_llama2c(dir / "none.bin"),
                             ("Tokenizer::load_llama2c: cannot open " +
                              (dir / "none.bin").string() + ": No such file or directory")
                                 .c_str(),
                             IoError);
        CHECK_THROWS_WITH_AS(Tokenizer::load_llama2c(dir.path()),
                             ("Tokenizer::load_llama2c: " + dir.path().string() +
                              " is a directory, not a tokenizer.bin file")
                                 .c_str(),
                             IoError);
    }

    TEST_CASE("Tokenizer::load_any") {
        TempDir dir;
        Tokenizer().save(dir / "bpe");
        CHECK(Tokenizer::load_any(dir / "bpe").kind() == TokenizerKind::byte_bpe);
        // Told from the contents, not the name.
        write_bytes(dir / "tokenizer.json", tokenizer_bin(16, hand_made));
        const Tokenizer tok = Tokenizer::load_any(dir / "tokenizer.json");
        CHECK(tok.kind() == TokenizerKind::llama2c);
        CHECK(tok.encode("abcd") == Ids{sp, abc, d});
        const auto vocab = dir / "bpe" / "vocab.json";
        write_bytes(dir / "text.bin", "hello world");
        CHECK_THROWS_WITH_AS(
            Tokenizer::load_any(dir / "text.bin"),
            ("Tokenizer::load_any: " + (dir / "text.bin").string() +
             ": not a llama2.c tokenizer.bin: max_token_length is 1819043176 (expected 1 to "
             "65536); a byte-level BPE tokenizer is a folder holding vocab.json and merges.txt")
                .c_str(),
            FormatError);
        CHECK_THROWS_AS(Tokenizer::load_any(vocab), FormatError);
        CHECK_THROWS_WITH_AS(Tokenizer::load_any(dir / "none"),
                             ("Tokenizer::load_any: " + (dir / "none").string() +
                              " does not exist (expected a folder holding vocab.json and "
                              "merges.txt, or a llama2.c tokenizer.bin file)")
                                 .c_str(),
                             IoError);
        const std::string d = (dir / "bpe").string();
        std::filesystem::remove(dir / "bpe" / "merges.txt");
        CHECK_THROWS_WITH_AS(Tokenizer::load_any(dir / "bpe"),
                             ("Tokenizer::load_any: " + d + " has no merges.txt (looked for " + d +
                              "/vocab.json and " + d + "/merges.txt)")
                                 .c_str(),
                             IoError);
        std::filesystem::remove(vocab);
        CHECK_THROWS_WITH_AS(Tokenizer::load_any(dir / "bpe"),
                             ("Tokenizer::load_any: " + d + " has no vocab.json (looked for " + d +
                              "/vocab.json and " + d + "/merges.txt, or " + d + "/tokenizer.bin)")
                                 .c_str(),
                             IoError);
    }

    TEST_CASE("Tokenizer::load_any: a folder holding tokenizer.bin") {
        TempDir dir;
        const auto folder = dir / "data";
        std::filesystem::create_directories(folder);
        write_bytes(folder / "tokenizer.bin", tokenizer_bin(16, hand_made));
        SUBCASE("loads the file, with the file's identity") {
            const Tokenizer tok = Tokenizer::load_any(folder);
            CHECK(tok.kind() == TokenizerKind::llama2c);
            CHECK(tok.encode("abcd") == Ids{sp, abc, d});
            CHECK(tokenizer_identity(tok, folder) ==
                  tokenizer_identity(tok, folder / "tokenizer.bin"));
            CHECK(tokenizer_identity(tok, folder) == "llama2c:" + std::to_string(tok.vocab_size()) +
                                                         ":" +
                                                         sha256_file(folder / "tokenizer.bin"));
        }
        SUBCASE("vocab.json comes first") {
            Tokenizer().save(folder);
            CHECK(Tokenizer::load_any(folder).kind() == TokenizerKind::byte_bpe);
        }
        SUBCASE("a bad file is named") {
            write_bytes(folder / "tokenizer.bin", "hello world");
            CHECK_THROWS_WITH_AS(
                Tokenizer::load_any(folder),
                ("Tokenizer::load_any: " + (folder / "tokenizer.bin").string() +
                 ": not a llama2.c tokenizer.bin: max_token_length is 1819043176 (expected 1 to "
                 "65536); a byte-level BPE tokenizer is a folder holding vocab.json and merges.txt")
                    .c_str(),
                FormatError);
        }
    }
}
