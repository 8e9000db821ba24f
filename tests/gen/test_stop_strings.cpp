// StopStrings: matches across token boundaries and in split UTF-8, the earliest match winning,
// the held-back tail of a stream, and a check against a naive search over random token streams.
#include <ouro/core/error.hpp>
#include <ouro/core/rng.hpp>
#include <ouro/gen/stop_strings.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::gen;

namespace {

// The reference: after each piece, search the whole text for every stop string; the first piece
// after which one is found stops, and the cut is the earliest start (ties: the shorter string).
struct NaiveResult {
    std::int64_t piece = -1; // index of the piece that completed a stop string, -1 for none
    std::int64_t matched = -1;
    std::string text;
};

NaiveResult naive(const std::vector<std::string>& stops, const std::vector<std::string>& pieces) {
    NaiveResult r;
    std::string text;
    for (std::size_t p = 0; p < pieces.size(); ++p) {
        text += pieces[p];
        std::size_t best = std::string::npos;
        for (std::size_t i = 0; i < stops.size(); ++i) {
            const std::size_t at = text.find(stops[i]);
            if (at != std::string::npos &&
                (at < best ||
                 (at == best && stops[i].size() < stops[std::size_t(r.matched)].size()))) {
                best = at;
                r.matched = std::int64_t(i);
            }
        }
        if (r.matched >= 0) {
            r.piece = std::int64_t(p);
            r.text = text.substr(0, best);
            return r;
        }
    }
    r.text = text;
    return r;
}

std::string random_text(Rng& rng, std::int64_t max_length) {
    std::string s(std::size_t(rng.uniform() * double(max_length + 1)), 'a');
    for (char& c : s)
        c = char('a' + int(rng.uniform() * 3.0)); // a small alphabet, so that stops are found
    return s;
}

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("StopStrings") {
        SUBCASE("a stop string across token boundaries is cut from the text") {
            StopStrings stops({"upon a"});
            CHECK_FALSE(stops.push("Once"));
            CHECK_FALSE(stops.push(" up"));
            CHECK(stops.take_settled() == "Once "); // "up" may start "upon a"
            CHECK_FALSE(stops.push("on"));
            CHECK(stops.take_settled() == "");
            CHECK(stops.push(" a time"));
            CHECK(stops.stopped());
            CHECK(stops.matched() == 0);
            CHECK(stops.text() == "Once ");
            CHECK(stops.take_settled() == "");
            CHECK(stops.take_rest() == "");
            // Later pieces are ignored.
            CHECK(stops.push("more"));
            CHECK(stops.text() == "Once ");
        }

        SUBCASE("the earliest stop string wins, at equal starts the shorter") {
            StopStrings stops({"cd", "bcde", "x"});
            CHECK_FALSE(stops.push("ab"));
            CHECK(stops.push("cdefx"));
            CHECK(stops.matched() == 1);
            CHECK(stops.text() == "a");

            StopStrings same({"abc", "ab"});
            CHECK(same.push("abc"));
            CHECK(same.matched() == 1);
            CHECK(same.text() == "");
        }

        SUBCASE("bytes of a UTF-8 character split over two tokens") {
            StopStrings stops({"\xC3\xA9"}); // é
            CHECK_FALSE(stops.push("caf\xC3"));
            CHECK(stops.settled() == 3);
            CHECK(stops.take_settled() == "caf");
            CHECK(stops.push("\xA9 au lait"));
            CHECK(stops.text() == "caf");
        }

        SUBCASE("a held-back tail that does not become a stop string is released") {
            StopStrings stops({"The end", "\n\n"});
            CHECK_FALSE(stops.push("x\nTh"));
            CHECK(stops.take_settled() == "x\n");
            CHECK_FALSE(stops.push("e cat"));
            CHECK(stops.take_settled() == "The cat");
            CHECK_FALSE(stops.push(" The e"));
            CHECK(stops.take_settled() == " ");
            CHECK(stops.take_rest() == "The e"); // the stream ended without a stop string
            CHECK(stops.text() == "x\nThe cat The e");
        }

        SUBCASE("without stop strings the text is collected and always settled") {
            StopStrings none;
            CHECK_FALSE(none.push("a"));
            CHECK_FALSE(none.push("b"));
            CHECK(none.settled() == 2);
            CHECK(none.text() == "ab");
            CHECK(none.matched() == -1);
        }

        SUBCASE("matches a naive search over random token streams") {
            Rng rng(11);
            for (int trial = 0; trial < 2000; ++trial) {
                std::vector<std::string> stops(1 + std::size_t(rng.uniform() * 3.0));
                for (std::string& s : stops) {
                    s = random_text(rng, 2);
                    s.insert(s.begin(), 'a'); // never empty
                }
                std::vector<std::string> pieces(std::size_t(rng.uniform() * 8.0));
                for (std::string& p : pieces)
                    p = random_text(rng, 3);
                const NaiveResult want = naive(stops, pieces);
                StopStrings got(stops);
                std::string shown; // what a streaming printer would show
                std::int64_t stopped_at = -1;
                for (std::size_t p = 0; p < pieces.size() && stopped_at < 0; ++p) {
                    if (got.push(pieces[p]))
                        stopped_at = std::int64_t(p);
                    shown += got.take_settled();
                    // Nothing shown can still become part of a stop string.
                    CHECK(want.text.compare(0, shown.size(), shown) == 0);
                }
                shown += got.take_rest();
                CHECK(stopped_at == want.piece);
                CHECK(got.matched() == want.matched);
                CHECK(got.text() == want.text);
                CHECK(shown == want.text);
            }
        }

        SUBCASE("rejects an empty stop string") {
            CHECK_THROWS_WITH_AS(StopStrings({"a", ""}), "stop strings: string 1 is empty",
                                 ConfigError);
        }
    }
}
