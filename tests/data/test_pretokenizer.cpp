#include "data/data_test_util.hpp"

#include <ouro/data/pretokenizer.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::data;

namespace {

std::vector<std::string> pieces(const Pretokenizer& p, const std::string& text) {
    std::vector<std::string> out;
    for (std::string_view v : p.split(text))
        out.emplace_back(v);
    return out;
}

using Pieces = std::vector<std::string>;

} // namespace

TEST_SUITE("data") {
    TEST_CASE("Pretokenizer") {
        const Pretokenizer p;
        SUBCASE("GPT-2's cuts (as the regex module cuts them)") {
            CHECK(pieces(p, "Once upon a time") == Pieces{"Once", " upon", " a", " time"});
            CHECK(pieces(p, "It's Tom's, isn't it? They'll") ==
                  Pieces{"It", "'s", " Tom", "'s", ",", " isn", "'t", " it", "?", " They", "'ll"});
            CHECK(pieces(p, "He had 42 pears in 2023.") ==
                  Pieces{"He", " had", " 42", " pears", " in", " 2023", "."});
            CHECK(pieces(p, "12abc") == Pieces{"12", "abc"});
            // A run of spaces gives all but its last space to itself; the last one starts the word.
            // Other whitespace before a word splits the same way, the last character alone.
            CHECK(pieces(p, "a  b   c\n\nd") ==
                  Pieces{"a", " ", " b", "  ", " c", "\n", "\n", "d"});
            CHECK(pieces(p, "Hello\n\n\nworld   \n") ==
                  Pieces{"Hello", "\n\n", "\n", "world", "   \n"});
            CHECK(pieces(p, "  \t x") == Pieces{"  \t", " x"});
            CHECK(pieces(p, "Hi!!! ...ok") == Pieces{"Hi", "!!!", " ...", "ok"});
        }
        SUBCASE("Unicode letters, digits and spaces") {
            CHECK(pieces(p, "caf\u00e9 na\u00efve") == Pieces{"caf\u00e9", " na\u00efve"});
            CHECK(pieces(p, "\u00e91") == Pieces{"\u00e9", "1"});
            // No-break space and ideographic space are \s but not the optional leading ' '.
            CHECK(pieces(p, "a\u00a0b") == Pieces{"a", "\u00a0", "b"});
            CHECK(pieces(p, "x \u3000y") == Pieces{"x", " ", "\u3000", "y"});
            CHECK(pieces(p, "\u2028z") == Pieces{"\u2028", "z"});
        }
        SUBCASE("invalid UTF-8 becomes pieces of its own") {
            CHECK(pieces(p, "abc\xff"
                            "def") == Pieces{"abc", "\xff", "def"});
            CHECK(pieces(p, "ab\xe6\x97") == Pieces{"ab", "\xe6\x97"});
            CHECK(pieces(p, "\xc0\xaf x") == Pieces{"\xc0\xaf", " x"});
            CHECK(pieces(p, " \xff\xfe y") == Pieces{" ", "\xff\xfe", " y"});
            CHECK(pieces(p, "\x80") == Pieces{"\x80"});
        }
        SUBCASE("the pieces of any bytes put back together give the bytes") {
            Rng rng(2);
            for (int i = 0; i < 500; ++i) {
                const std::string x = i % 2 ? ouro::testing::random_bytes(rng, rng.below(200))
                                            : ouro::testing::random_utf8(rng, rng.below(100));
                std::string joined;
                bool nonempty = true;
                for (std::string_view v : p.split(x)) {
                    joined += v;
                    nonempty = nonempty && !v.empty();
                }
                CHECK(joined == x);
                CHECK(nonempty);
            }
        }
        SUBCASE("a million spaces do not exhaust the matcher") {
            const std::string text = std::string(1'000'000, ' ') + "a";
            CHECK(pieces(p, text) == Pieces{std::string(999'999, ' '), " a"});
        }
    }
}
