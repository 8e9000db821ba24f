#include "data/data_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/data/tinystories.hpp>
#include <ouro/data/tokenizer.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>

using namespace ouro;
using namespace ouro::data;
using ouro::testing::read_bytes;
using ouro::testing::shared_data;
using ouro::testing::TempDir;
using ouro::testing::write_bytes;

namespace {

// Strings and the ids OpenAI's GPT-2 tokenizer gives them (computed with the real vocab.json and
// merges.txt): words, 's 't 'll 've 'm 'd, numbers, runs of spaces and newlines, a tab, accents,
// CJK, an emoji, and the end-of-text text read as ordinary text.
const std::vector<std::pair<std::string, std::vector<std::int32_t>>> gpt2_cases = {
    {"Once upon a time", {7454, 2402, 257, 640}},
    {"Once upon a time, there was a little girl named Lily.",
     {7454, 2402, 257, 640, 11, 612, 373, 257, 1310, 2576, 3706, 20037, 13}},
    {"It's Tom's ball, isn't it? They'll say we've won, I'm sure you'd agree.",
     {1026, 338, 4186, 338,  2613, 11,  2125, 470,  340, 30,   1119, 1183,
      910,  356, 1053, 1839, 11,   314, 1101, 1654, 345, 1549, 4236, 13}},
    {"He had 3 apples and 42 pears in 2023.",
     {1544, 550, 513, 22514, 290, 5433, 279, 4127, 287, 1160, 1954, 13}},
    {"a  b   c\n\nd", {64, 220, 275, 220, 220, 269, 198, 198, 67}},
    {"Hello\n\n\nworld   \n", {15496, 628, 198, 6894, 220, 220, 220, 198}},
    {"\"Mom!\" she said.\tThen...", {1, 29252, 2474, 673, 531, 13, 197, 6423, 986}},
    {"caf\u00e9 na\u00efve \u65e5\u672c\u8a9e \U0001F642",
     {66, 1878, 2634, 41492, 10545, 245, 98, 17312, 105, 45739, 252, 32485}},
    {"SHE'S SHOUTING'S", {9693, 36, 6, 50, 6006, 12425, 2751, 6, 50}},
    {"  leading and trailing  ", {220, 3756, 290, 25462, 220, 220}},
    {"<|endoftext|>", {27, 91, 437, 1659, 5239, 91, 29}},
};

// The GPT-2 merges that fire while encoding gpt2_cases, with their ranks in GPT-2's merges.txt
// (merge r makes token 256 + r). Encoding with only these merges gives the same ids as with all
// 50,000: each step merges the lowest-ranked pair present, and every such pair is listed here.
const char* gpt2_merges_excerpt = R"merges(0 Ġ t
1 Ġ a
2 h e
3 i n
4 r e
5 o n
6 Ġt he
8 Ġ s
10 Ġ w
12 e n
13 Ġ c
14 i t
15 i s
17 o r
18 e s
19 Ġ b
20 e d
22 in g
23 Ġ p
24 o u
25 Ġa n
26 a l
27 a r
31 Ġ in
33 Ġ h
34 Ġan d
36 a s
37 l e
40 o m
41 l l
43 Ġ n
44 Ġ l
47 v e
50 l y
52 Ġ g
53 Ġ T
55 Ġ S
56 i d
58 Ġ I
62 Ġ is
64 i m
65 a m
67 a y
68 a d
75 Ġ y
78 Ġ u
79 l d
82 ' s
84 Ġ it
87 i r
88 c e
89 Ġy ou
90 i l
100 Ġw e
106 Ġ 2
117 Ġw as
125 p p
127 ĠT he
150 Ġ L
168 Ġs u
174 r a
181 en d
183 al l
187 Ġ le
195 e ar
208 T he
214 ' t
217 Ġs a
236 . .
254 Ġu p
257 Ġ 3
268 im e
275 Ġsa id
294 Ġh ad
300 Ġa g
342 Ġa pp
348 Ġ 4
356 Ġthe re
372 Ċ Ċ
375 re e
384 Ġt ime
404 t e
417 Ġs he
439 e ll
459 it t
486 x t
557 i ly
573 l es
654 Ġs ay
730 .. .
770 I t
797 ' ve
829 Ġle ad
845 ' m
863 ĠThe y
904 Ġ2 0
927 ' ll
942 n ce
950 itt le
1012 I N
1035 Ġt ra
1054 Ġl ittle
1288 H e
1293 ' d
1398 Ġsu re
1403 o f
1508 or ld
1583 Ġw on
1622 a f
1645 ir l
1698 2 3
1869 Ġis n
2146 Ġup on
2178 am ed
2218 ! "
2320 Ġg irl
2350 O U
2357 Ġb all
2378 Ã ©
2495 IN G
3450 Ġn amed
3500 Ġlead ing
3871 ear s
3930 ĠT om
3980 Ġag ree
4130 il ing
4983 te xt
5177 Ġ4 2
5750 ĠS H
6167 The n
6638 w orld
7198 O nce
8326 ð Ł
9437 S H
10289 Ġ æ
10853 ell o
12129 Ġn a
12169 OU T
12264 Ġ ðŁ
15240 H ello
17056 æ ľ
19781 ĠL ily
22258 Ġapp les
24825 Ļ Ĥ
25206 Ġtra iling
26628 Ã ¯
28996 M om
32229 ĠðŁ ĻĤ
38520 Ã¯ ve
41236 Ġna Ã¯ve
45483 è ª
)merges";

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

// Writes GPT-2's vocabulary restricted to the excerpt: the 256 byte tokens in GPT-2's order, the
// excerpt's merge results at their GPT-2 ids, <|endoftext|> at 50256, and placeholders for the
// ids in between (they become unused special tokens). The merges file has no #version line, like
// the shared copy of GPT-2's.
void write_gpt2_excerpt(const std::filesystem::path& vocab, const std::filesystem::path& merges) {
    std::vector<std::string> tokens(50257);
    int k = 0;
    for (int b = 0; b < 256; ++b)
        if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174)
            tokens[std::size_t(k++)] = to_byte_level(std::string(1, char(b)));
    for (int b = 0; b < 256; ++b)
        if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174))
            tokens[std::size_t(k++)] = to_byte_level(std::string(1, char(b)));
    std::string merges_txt;
    std::istringstream lines(gpt2_merges_excerpt);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::size_t rank = 0;
        std::string left, right;
        fields >> rank >> left >> right;
        tokens[256 + rank] = left + right;
        merges_txt += left + " " + right + "\n";
    }
    for (std::size_t id = 256; id < 50256; ++id)
        if (tokens[id].empty())
            tokens[id] = "<unused" + std::to_string(id) + ">";
    tokens[50256] = "<|endoftext|>";
    std::string json = "{";
    for (std::size_t id = 0; id < tokens.size(); ++id)
        json += (id ? ", " : "") + json_string(tokens[id]) + ": " + std::to_string(id);
    write_bytes(vocab, json + "}");
    write_bytes(merges, merges_txt);
}

// Stories of a ground-truth file: each story is followed by "\n<|endoftext|>\n".
std::vector<std::string> split_on_separator(const std::string& text) {
    const std::string sep = "\n<|endoftext|>\n";
    std::vector<std::string> stories;
    std::size_t pos = 0;
    for (std::size_t end; (end = text.find(sep, pos)) != std::string::npos; pos = end + sep.size())
        stories.push_back(text.substr(pos, end - pos));
    return stories;
}

void check_gpt2_cases(const Tokenizer& tok) {
    for (const auto& c : gpt2_cases) {
        // Not a structured binding: INFO's lambda captures `text`, which clang 14 refuses.
        const std::string& text = c.first;
        const std::vector<std::int32_t>& ids = c.second;
        INFO("text: " << text);
        CHECK(tok.encode(text) == ids);
        CHECK(tok.decode(ids) == text);
    }
    CHECK(tok.eot_id() == 50256);
    CHECK(tok.encode_with_special("a<|endoftext|>b") == std::vector<std::int32_t>{64, 50256, 65});
}

// A small tokenizer trained on text like the data it is used with in the tests.
const Tokenizer& small_tokenizer() {
    static const Tokenizer tok = [] {
        std::vector<std::string> texts;
        const auto valid = shared_data("tinystories/valid.txt");
        if (!valid.empty())
            texts = read_stories_txt(valid);
        else
            texts = {"Once upon a time there was a little dog. The dog liked to run and play.",
                     "One day, a girl named Lily found a shiny red ball in the park.",
                     "aaaaaaaa bbbbbbbb aaaabbbb    \n\n  1234 12 34"};
        return Tokenizer::train(texts, {.vocab_size = 1024});
    }();
    return tok;
}

std::vector<std::string> tokenizer_files(const Tokenizer& tok, const TempDir& dir,
                                         const std::string& name) {
    tok.save(dir / (name + ".vocab.json"), dir / (name + ".merges.txt"));
    return {read_bytes(dir / (name + ".vocab.json")), read_bytes(dir / (name + ".merges.txt"))};
}

} // namespace

TEST_SUITE("data") {
    TEST_CASE("byte-level alphabet") {
        CHECK(to_byte_level("!~") == "!~");
        CHECK(to_byte_level(" ") == "\u0120");  // Ġ
        CHECK(to_byte_level("\n") == "\u010a"); // Ċ
        CHECK(to_byte_level(std::string(1, '\0')) == "\u0100");
        CHECK(to_byte_level("\xad") == "\u0143"); // the last stand-in
        CHECK(to_byte_level("\xff") == "\u00ff");
        std::string all;
        for (int b = 0; b < 256; ++b)
            all += char(b);
        CHECK(from_byte_level(to_byte_level(all)) == all);
        CHECK_THROWS_WITH_AS(from_byte_level("a b"),
                             "byte-level text: character U+0020 is not in GPT-2's byte alphabet",
                             FormatError);
        CHECK_THROWS_WITH_AS(from_byte_level("\u65e5"),
                             "byte-level text: character U+65E5 is not in GPT-2's byte alphabet",
                             FormatError);
        CHECK_THROWS_WITH_AS(from_byte_level("\xff"), "byte-level text: invalid UTF-8",
                             FormatError);
    }

    TEST_CASE("Tokenizer: GPT-2's ids") {
        SUBCASE("an excerpt of GPT-2's merges, embedded here, gives GPT-2's ids") {
            TempDir dir;
            write_gpt2_excerpt(dir / "vocab.json", dir / "merges.txt");
            const Tokenizer tok = Tokenizer::load(dir.path());
            CHECK(tok.vocab_size() == 50257);
            CHECK(tok.num_merges() == 151);
            check_gpt2_cases(tok);
        }
        SUBCASE("the real GPT-2 files give the reference ids of 6,235 TinyStories stories") {
            const auto files =
                ouro::testing::shared_data_or_skip({"gpt2/vocab.json", "gpt2/merges.txt"});
            if (files.empty())
                return;
            const auto &vocab = files[0], &merges = files[1];
            const Tokenizer tok = Tokenizer::load(vocab, merges);
            CHECK(tok.vocab_size() == 50257);
            CHECK(tok.num_merges() == 50000);
            CHECK(tok.special_ids() == std::vector<std::int32_t>{50256});
            check_gpt2_cases(tok);
            for (const char* name : {"gpt2/stories-a", "gpt2/stories-b"}) {
                const auto text_path = shared_data(std::string(name) + ".txt");
                const auto ids_path = shared_data(std::string(name) + ".tokens.bin");
                if (text_path.empty() || ids_path.empty()) {
                    MESSAGE("skipped: " << std::string(name) << ".txt / .tokens.bin not found");
                    continue;
                }
                const std::vector<std::string> stories = split_on_separator(read_bytes(text_path));
                const std::string raw = read_bytes(ids_path);
                std::vector<std::int32_t> expected(raw.size() / 2);
                for (std::size_t i = 0; i < expected.size(); ++i) {
                    std::uint16_t v;
                    std::memcpy(&v, raw.data() + 2 * i, 2);
                    expected[i] = v;
                }
                std::vector<std::int32_t> got;
                for (const auto& ids : tok.encode_corpus(stories)) {
                    got.insert(got.end(), ids.begin(), ids.end());
                    got.push_back(tok.eot_id());
                }
                std::size_t matched = 0;
                while (matched < std::min(got.size(), expected.size()) &&
                       got[matched] == expected[matched])
                    ++matched;
                MESSAGE(std::string(name)
                        << ": " << stories.size() << " stories, " << matched << " of "
                        << expected.size() << " reference tokens matched");
                CHECK(got.size() == expected.size());
                CHECK(matched == expected.size());
            }
        }
    }

    TEST_CASE("Tokenizer: decode(encode(x)) == x") {
        Rng rng(7);
        const Tokenizer bytes_only;
        const Tokenizer& trained = small_tokenizer();
        SUBCASE("random bytes, invalid UTF-8 included") {
            for (int i = 0; i < 200; ++i) {
                const std::string x = ouro::testing::random_bytes(rng, rng.below(300));
                CHECK(trained.decode(trained.encode(x)) == x);
                CHECK(bytes_only.decode(bytes_only.encode(x)) == x);
            }
            // Truncated, overlong, surrogate, lone continuation, and bytes that never occur.
            for (const std::string x :
                 {"\xe6\x97",
                  "abc\x80"
                  "def",
                  "\xc0\xaf", "\xed\xa0\x80", "x \xff\xfe y", " \xf8\x88\x80\x80\x80", "\xff"}) {
                CHECK(trained.decode(trained.encode(x)) == x);
                CHECK(trained.encode(x).size() >= 1);
            }
        }
        SUBCASE("random UTF-8") {
            for (int i = 0; i < 200; ++i) {
                const std::string x = ouro::testing::random_utf8(rng, rng.below(200));
                CHECK(trained.decode(trained.encode(x)) == x);
            }
        }
        SUBCASE("every story of valid.txt") {
            const auto valid = ouro::testing::shared_data_or_skip("tinystories/valid.txt");
            if (valid.empty())
                return;
            const auto stories = read_stories_txt(valid);
            REQUIRE(stories.size() == 600);
            const auto ids = trained.encode_corpus(stories);
            std::size_t same = 0;
            for (std::size_t i = 0; i < stories.size(); ++i)
                same += trained.decode(ids[i]) == stories[i];
            CHECK(same == stories.size());
            const auto gpt2_vocab = shared_data("gpt2/vocab.json");
            if (!gpt2_vocab.empty()) {
                const Tokenizer gpt2 = Tokenizer::load(gpt2_vocab.parent_path());
                const auto gids = gpt2.encode_corpus(stories);
                same = 0;
                for (std::size_t i = 0; i < stories.size(); ++i)
                    same += gpt2.decode(gids[i]) == stories[i];
                CHECK(same == stories.size());
            }
        }
    }

    TEST_CASE("Tokenizer: merging a pre-token") {
        const Tokenizer& tok = small_tokenizer();
        SUBCASE("the fast merge matches the reference, short and long pre-tokens") {
            Rng rng(3);
            const std::string alphabet = "aabbeehhnnst  \n";
            for (int i = 0; i < 300; ++i) {
                // Lengths on both sides of the 64-byte switch to the heap-based merge.
                const std::size_t n = 1 + rng.below(i % 3 == 0 ? 400 : 80);
                std::string word;
                for (std::size_t j = 0; j < n; ++j)
                    word += alphabet[rng.below(alphabet.size())];
                INFO("word: " << word);
                CHECK(tok.merge_word(word) == tok.merge_word_reference(word));
            }
            for (const std::string& word : {std::string(1000, 'a'), std::string(65, ' '),
                                            std::string(500, '\n'), std::string("the") + "the"})
                CHECK(tok.merge_word(word) == tok.merge_word_reference(word));
        }
        SUBCASE("a run of a million spaces is merged fast and exactly") {
            const std::string spaces(1'000'000, ' ');
            const auto ids = tok.encode(spaces + "a");
            CHECK(tok.decode(ids) == spaces + "a");
        }
    }

    TEST_CASE("Tokenizer: encoding API") {
        const Tokenizer& tok = small_tokenizer();
        SUBCASE("special tokens are recognised only when asked") {
            const std::int32_t eot = tok.eot_id();
            CHECK(eot == tok.vocab_size() - 1);
            CHECK(tok.is_special(eot));
            CHECK_FALSE(tok.is_special(5));
            const auto plain = tok.encode("a<|endoftext|>b");
            CHECK(std::find(plain.begin(), plain.end(), eot) == plain.end());
            const auto special = tok.encode_with_special("a<|endoftext|>b<|endoftext|>");
            CHECK(special ==
                  std::vector<std::int32_t>{tok.encode("a")[0], eot, tok.encode("b")[0], eot});
            CHECK(tok.decode(special) == "a<|endoftext|>b<|endoftext|>");
            CHECK(tok.find("<|endoftext|>") == eot);
            CHECK(tok.find("a") == std::int32_t('a'));
            CHECK_FALSE(tok.find("no such token").has_value());
        }
        SUBCASE("out-of-range ids are refused") {
            const std::int32_t n = tok.vocab_size();
            const std::vector<std::int32_t> bad = {1, n};
            const std::string range = " out of range [0, " + std::to_string(n) + ")";
            CHECK_THROWS_WITH_AS(
                tok.decode(bad),
                ("Tokenizer::decode: token id " + std::to_string(n) + range).c_str(), ConfigError);
            CHECK_THROWS_WITH_AS(tok.token(-1), ("Tokenizer::token: id -1" + range).c_str(),
                                 ConfigError);
            CHECK_THROWS_WITH_AS(Tokenizer().eot_id(),
                                 "Tokenizer::eot_id: this tokenizer has no <|endoftext|> token",
                                 ConfigError);
        }
        SUBCASE("a cache gives the same ids, also when moved to another tokenizer") {
            EncodeCache cache;
            const Tokenizer bytes_only;
            const std::string text = "The dog and the cat. The dog and the cat!";
            std::vector<std::int32_t> a, b, c;
            tok.encode(text, a, cache);
            tok.encode(text, b, cache);
            CHECK(cache.size() > 0);
            CHECK(a == tok.encode(text));
            CHECK(b == a);
            bytes_only.encode(text, c, cache);
            CHECK(c == bytes_only.encode(text));
            CHECK(c.size() == text.size());
        }
        SUBCASE("a corpus encodes to the same ids with 1 and 2 threads") {
            Rng rng(11);
            std::vector<std::string> texts;
            for (int i = 0; i < 500; ++i)
                texts.push_back(ouro::testing::random_utf8(rng, rng.below(100)) +
                                " Once upon a time, a dog ran.");
            std::vector<std::vector<std::int32_t>> one, two;
            {
                ThreadCountGuard guard(1);
                one = tok.encode_corpus(texts);
            }
            {
                ThreadCountGuard guard(2);
                two = tok.encode_corpus(texts);
            }
            CHECK(one == two);
            for (std::size_t i = 0; i < texts.size(); i += 50)
                CHECK(one[i] == tok.encode(texts[i]));
        }
        SUBCASE("progress: bytes encoded of all, rising, ending at all; a throw ends the job") {
            const std::vector<std::string> texts(300, "Once upon a time, a dog ran.");
            const std::uint64_t total = 300 * texts[0].size();
            std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
            const auto ids =
                tok.encode_corpus(texts, {.on_progress = [&](std::uint64_t d, std::uint64_t t) {
                                      calls.emplace_back(d, t);
                                  }});
            CHECK(ids.size() == 300);
            REQUIRE(!calls.empty());
            CHECK(calls.back() == std::pair<std::uint64_t, std::uint64_t>{total, total});
            for (std::size_t i = 1; i < calls.size(); ++i) {
                CHECK(calls[i].first >= calls[i - 1].first);
                CHECK(calls[i].second == total);
            }
            const auto stop = [](std::uint64_t, std::uint64_t) -> void {
                throw ouro::IoError("stopped");
            };
            CHECK_THROWS_WITH_AS(tok.encode_corpus(texts, {.on_progress = stop}), "stopped",
                                 ouro::IoError);
        }
    }

    TEST_CASE("Tokenizer: training") {
        SUBCASE("a tiny corpus: merges, ids and early stop") {
            // "aaaa": (a, a) occurs 3 times -> "aa" (256); then (aa, aa) once -> "aaaa" (257).
            const std::vector<std::string> texts = {"aaaa"};
            const Tokenizer tok = Tokenizer::train(texts, {.vocab_size = 300});
            CHECK(tok.num_merges() == 2);
            CHECK(tok.vocab_size() == 259);
            CHECK(tok.merge(0) == std::pair<std::int32_t, std::int32_t>{97, 97});
            CHECK(tok.merge(1) == std::pair<std::int32_t, std::int32_t>{256, 256});
            CHECK(tok.token(257) == "aaaa");
            CHECK(tok.eot_id() == 258);
            CHECK(tok.encode("aaaaaaa") == std::vector<std::int32_t>{257, 256, 97});
        }
        SUBCASE("progress: merges made of those asked for, one call per merge and one at the end") {
            std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
            const std::vector<std::string> texts = {"aaaa"};
            const Tokenizer tok = Tokenizer::train(
                texts, {.vocab_size = 300, .on_progress = [&](std::uint64_t d, std::uint64_t t) {
                            calls.emplace_back(d, t);
                        }});
            // 300 - 1 special token - 256 bytes = 43 merges asked for; 2 made.
            using Call = std::pair<std::uint64_t, std::uint64_t>;
            CHECK(calls == std::vector<Call>{{1, 43}, {2, 43}, {2, 43}});
        }
        SUBCASE("ties go to the smaller (left id, right id)") {
            // (c, d), (b, a) and (a, b) occur once each: (a, b) first, then (b, a), then (c, d).
            for (const std::vector<std::string>& texts :
                 {std::vector<std::string>{"cd", "ba", "ab"}, {"ab", "ba", "cd"}}) {
                const Tokenizer tok = Tokenizer::train(texts, {.vocab_size = 260});
                REQUIRE(tok.num_merges() == 3);
                CHECK(tok.merge(0) == std::pair<std::int32_t, std::int32_t>{'a', 'b'});
                CHECK(tok.merge(1) == std::pair<std::int32_t, std::int32_t>{'b', 'a'});
                CHECK(tok.merge(2) == std::pair<std::int32_t, std::int32_t>{'c', 'd'});
            }
            // Frequency first: (c, d) twice beats (a, b) once.
            const std::vector<std::string> texts = {"ab", "cd", "cd"};
            const Tokenizer tok = Tokenizer::train(texts, {.vocab_size = 258});
            CHECK(tok.merge(0) == std::pair<std::int32_t, std::int32_t>{'c', 'd'});
        }
        SUBCASE("incremental pair counts give the merges of recounting everything") {
            std::vector<std::string> stories;
            const auto valid = shared_data("tinystories/valid.txt");
            if (!valid.empty()) {
                stories = read_stories_txt(valid);
                stories.resize(100);
            } else {
                stories = {"Once upon a time there was a little dog. The dog liked to run.",
                           "One day, a girl named Lily found a shiny red ball in the park."};
            }
            // Few letters: long repeats ("aaaa"), overlapping pairs, and tokens reached by two
            // different splits.
            Rng rng(17);
            std::vector<std::string> repetitive;
            for (int i = 0; i < 200; ++i) {
                std::string t;
                for (std::size_t j = 0, n = rng.below(60); j < n; ++j)
                    t += "aab  "[rng.below(5)];
                repetitive.push_back(t);
            }
            for (const auto& [texts, vocab_size] :
                 {std::pair(&stories, 600), std::pair(&repetitive, 400)}) {
                const Tokenizer fast = Tokenizer::train(*texts, {.vocab_size = vocab_size});
                const Tokenizer slow =
                    Tokenizer::train_reference(*texts, {.vocab_size = vocab_size});
                REQUIRE(fast.num_merges() == slow.num_merges());
                std::size_t same = 0;
                for (std::size_t k = 0; k < fast.num_merges(); ++k)
                    same += fast.merge(k) == slow.merge(k);
                CHECK(same == fast.num_merges());
                CHECK(fast.vocab_size() == slow.vocab_size());
            }
        }
        SUBCASE("pre-token boundaries are never crossed") {
            const std::vector<std::string> texts = {"a b a b a b"};
            const Tokenizer tok = Tokenizer::train(texts, {.vocab_size = 300});
            // The words are "a", " b" (3 times) and " a" (twice): (b, ' ') and (a, ' ') never
            // merge, though they are adjacent in the text 5 times.
            CHECK(tok.num_merges() == 2);
            CHECK(tok.merge(0) == std::pair<std::int32_t, std::int32_t>{' ', 'b'});
            CHECK(tok.merge(1) == std::pair<std::int32_t, std::int32_t>{' ', 'a'});
        }
        SUBCASE("same corpus and settings, identical files, with 1 or 2 threads") {
            std::vector<std::string> texts;
            const auto train = shared_data("tinystories/valid.txt");
            if (!train.empty()) {
                texts = read_stories_txt(train);
            } else {
                Rng rng(5);
                for (int i = 0; i < 300; ++i)
                    texts.push_back(ouro::testing::random_utf8(rng, 200));
            }
            TempDir dir;
            std::vector<std::string> files[2];
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                const Tokenizer tok = Tokenizer::train(texts, {.vocab_size = 2048});
                CHECK(tok.vocab_size() == 2048);
                files[threads - 1] = tokenizer_files(tok, dir, "t" + std::to_string(threads));
            }
            const Tokenizer again = Tokenizer::train(texts, {.vocab_size = 2048});
            CHECK(files[0] == files[1]);
            CHECK(tokenizer_files(again, dir, "again") == files[0]);
        }
        SUBCASE("special tokens take the last ids") {
            const std::vector<std::string> texts = {"hello hello hello"};
            const Tokenizer tok =
                Tokenizer::train(texts, {.vocab_size = 300, .special_tokens = {"<a>", "<b>"}});
            const auto n = tok.vocab_size();
            CHECK(tok.special_ids() == std::vector<std::int32_t>{n - 2, n - 1});
            CHECK(tok.token(n - 1) == "<b>");
            CHECK_THROWS_AS(tok.eot_id(), ConfigError);
        }
        SUBCASE("rejects bad settings") {
            const std::vector<std::string> texts = {"the cat"};
            CHECK_THROWS_WITH_AS(Tokenizer::train(texts, {.vocab_size = 200}),
                                 "Tokenizer::train: vocab_size 200 leaves no room for the 256 "
                                 "byte tokens and 1 special tokens (at least 257)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(
                Tokenizer::train(texts, {.vocab_size = 300, .special_tokens = {"<x>", "<x>"}}),
                "Tokenizer::train: special token \"<x>\" is given twice", ConfigError);
            CHECK_THROWS_WITH_AS(
                Tokenizer::train(texts, {.vocab_size = 300, .special_tokens = {""}}),
                "Tokenizer::train: a special token is empty", ConfigError);
            CHECK_THROWS_WITH_AS(
                Tokenizer::train(texts, {.vocab_size = 300, .special_tokens = {" cat"}}),
                "Tokenizer::train: special token \" cat\" is also an ordinary token", ConfigError);
        }
    }

    TEST_CASE("Tokenizer: save and load") {
        const Tokenizer& tok = small_tokenizer();
        TempDir dir;
        SUBCASE("a saved tokenizer loads back the same") {
            tok.save(dir / "tok");
            const std::string merges = read_bytes(dir / "tok/merges.txt");
            CHECK(merges.starts_with("#version: 0.2\n"));
            const Tokenizer back = Tokenizer::load(dir / "tok");
            CHECK(back.vocab_size() == tok.vocab_size());
            REQUIRE(back.num_merges() == tok.num_merges());
            for (std::size_t k = 0; k < tok.num_merges(); ++k)
                CHECK(back.merge(k) == tok.merge(k));
            for (std::int32_t id = 0; id < tok.vocab_size(); ++id)
                CHECK(back.token(id) == tok.token(id));
            CHECK(back.special_ids() == tok.special_ids());
            const std::string text = "Once upon a time, Lily's dog saw 12 birds.\n\nThe end.";
            CHECK(back.encode(text) == tok.encode(text));
            // Saving again gives the same bytes.
            CHECK(tokenizer_files(back, dir, "again") == tokenizer_files(tok, dir, "first"));
        }
        SUBCASE("merges with and without the #version line") {
            const std::string vocab_head = [] {
                std::string json = "{";
                for (int b = 0; b < 256; ++b)
                    json += json_string(to_byte_level(std::string(1, char(b)))) + ": " +
                            std::to_string(b) + ", ";
                return json;
            }();
            write_bytes(dir / "vocab.json", vocab_head + "\"ab\": 256, \"Ġab\": 257}");
            for (const std::string merges :
                 {"#version: 0.2\na b\nĠ ab\n", "a b\nĠ ab", "a b\r\nĠ ab\r\n"}) {
                write_bytes(dir / "merges.txt", merges);
                const Tokenizer t = Tokenizer::load(dir.path());
                CHECK(t.num_merges() == 2);
                CHECK(t.encode("ab ab") == std::vector<std::int32_t>{256, 257});
                CHECK(t.special_ids().empty());
            }
        }
    }

    TEST_CASE("Tokenizer: rejects bad files") {
        TempDir dir;
        const auto vocab = dir / "vocab.json";
        const auto merges = dir / "merges.txt";
        const std::string v = vocab.string(), m = merges.string();
        // A valid vocabulary: the bytes (ids 0-255), "ab" (256) and "Ġab" (257).
        std::string bytes_json;
        for (int b = 0; b < 256; ++b)
            bytes_json += json_string(to_byte_level(std::string(1, char(b)))) + ": " +
                          std::to_string(b) + ", ";
        const std::string good_vocab = "{" + bytes_json + "\"ab\": 256, \"Ġab\": 257}";
        write_bytes(merges, "a b\n");
        const auto load = [&] { return Tokenizer::load(vocab, merges); };

        SUBCASE("missing files") {
            CHECK_THROWS_WITH_AS(
                load(),
                ("Tokenizer::load: cannot open " + v + ": No such file or directory").c_str(),
                IoError);
        }
        SUBCASE("malformed vocab.json") {
            write_bytes(vocab, "{\"a\": 0, ");
            CHECK_THROWS_WITH_AS(
                load(), ("Tokenizer::load: " + v + ": not valid JSON (error at byte 10)").c_str(),
                FormatError);
            write_bytes(vocab, "[1, 2]");
            CHECK_THROWS_WITH_AS(
                load(),
                ("Tokenizer::load: " + v + ": expected a JSON object mapping tokens to ids")
                    .c_str(),
                FormatError);
            write_bytes(vocab, "{" + bytes_json + "\"ab\": \"256\"}");
            CHECK_THROWS_WITH_AS(
                load(),
                ("Tokenizer::load: " + v + ": the id of token \"ab\" is not an integer").c_str(),
                FormatError);
            write_bytes(vocab, "{" + bytes_json + "\"ab\": 300}");
            CHECK_THROWS_WITH_AS(load(),
                                 ("Tokenizer::load: " + v +
                                  ": the id 300 of token \"ab\" is outside 0..256 (ids must "
                                  "number the tokens from 0)")
                                     .c_str(),
                                 FormatError);
            // Ids that would wrap into range when read as int64, and ids beyond any number.
            write_bytes(vocab, "{" + bytes_json + "\"ab\": 18446744073709551615}");
            CHECK_THROWS_WITH_AS(load(),
                                 ("Tokenizer::load: " + v +
                                  ": the id 18446744073709551615 of token \"ab\" is outside "
                                  "0..256 (ids must number the tokens from 0)")
                                     .c_str(),
                                 FormatError);
            write_bytes(vocab, "{" + bytes_json + "\"ab\": -1}");
            CHECK_THROWS_WITH_AS(load(),
                                 ("Tokenizer::load: " + v +
                                  ": the id -1 of token \"ab\" is outside 0..256 (ids must "
                                  "number the tokens from 0)")
                                     .c_str(),
                                 FormatError);
            write_bytes(vocab, "{" + bytes_json + "\"ab\": 1e400}");
            CHECK_THROWS_WITH_AS(
                load(),
                ("Tokenizer::load: " + v + ": not valid JSON (number overflow parsing '1e400')")
                    .c_str(),
                FormatError);
            write_bytes(vocab, "{" + bytes_json + "\"ab\": 256, \"cd\": 256}");
            CHECK_THROWS_WITH_AS(
                load(),
                ("Tokenizer::load: " + v + ": the id 256 is given to both \"ab\" and \"cd\"")
                    .c_str(),
                FormatError);
            write_bytes(vocab, "{" + bytes_json + "\"a b\": 256}");
            CHECK_THROWS_WITH_AS(load(),
                                 ("Tokenizer::load: " + v +
                                  ": token \"a b\": character U+0020 is not in GPT-2's byte "
                                  "alphabet")
                                     .c_str(),
                                 FormatError);
            // Without byte 0x41 ("A"): 255 byte tokens renumbered 0..254.
            std::string no_a = "{";
            int id = 0;
            for (int b = 0; b < 256; ++b)
                if (b != 'A')
                    no_a += json_string(to_byte_level(std::string(1, char(b)))) + ": " +
                            std::to_string(id++) + ", ";
            write_bytes(vocab, no_a + "\"ab\": 255}");
            CHECK_THROWS_WITH_AS(
                load(), ("Tokenizer::load: " + v + ": no token for byte 0x41 (\"A\")").c_str(),
                FormatError);
        }
        SUBCASE("malformed merges.txt") {
            write_bytes(vocab, good_vocab);
            write_bytes(merges, "#version: 0.2\na b\nab\n");
            CHECK_THROWS_WITH_AS(load(),
                                 ("Tokenizer::load: " + m +
                                  " line 3: expected two tokens separated by one space, got "
                                  "\"ab\"")
                                     .c_str(),
                                 FormatError);
            write_bytes(merges, "a b\nĠ xy\n");
            CHECK_THROWS_WITH_AS(
                load(), ("Tokenizer::load: " + m + " line 2: unknown token \"xy\"").c_str(),
                FormatError);
            write_bytes(merges, "a c\n");
            CHECK_THROWS_WITH_AS(load(),
                                 ("Tokenizer::load: " + m +
                                  " line 1: the merged token \"ac\" is not in the vocabulary")
                                     .c_str(),
                                 FormatError);
            write_bytes(merges, "a b\nĠ ab\na b\n");
            CHECK_THROWS_WITH_AS(
                load(),
                ("Tokenizer::load: " + m + " line 3: the merge \"a b\" repeats line 1").c_str(),
                FormatError);
        }
    }
}
