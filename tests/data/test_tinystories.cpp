#include "data/data_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/data/tinystories.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::data;
using ouro::testing::TempDir;
using ouro::testing::write_bytes;
using Stories = std::vector<std::string>;

TEST_SUITE("data") {
    TEST_CASE("TinyStories text format") {
        SUBCASE("stories between separator lines") {
            CHECK(split_stories("One.\nTwo lines.\n<|endoftext|>\nThree.\n<|endoftext|>\n") ==
                  Stories{"One.\nTwo lines.", "Three."});
        }
        SUBCASE("blank lines, spaces around separators, CRLF, empty stories") {
            const std::string text = "\n  First story.  \n\nSecond paragraph. \n\n"
                                     "  <|endoftext|>  \n \n\t\nNext.\r\n<|endoftext|>\r\n"
                                     "<|endoftext|>\n   \n<|endoftext|>\n";
            // Inner blank lines and inner trailing spaces stay; the story's ends are trimmed.
            CHECK(split_stories(text) == Stories{"First story.  \n\nSecond paragraph.", "Next."});
        }
        SUBCASE("a cut-off last story is kept") {
            CHECK(split_stories("A.\n<|endoftext|>\nB is cut o") == Stories{"A.", "B is cut o"});
            CHECK(split_stories("A.\n<|endoftext|>\nB\n") == Stories{"A.", "B"});
            CHECK(split_stories("only text") == Stories{"only text"});
            CHECK(split_stories("").empty());
            CHECK(split_stories("<|endoftext|>").empty());
        }
        SUBCASE("the separator must be a line of its own") {
            CHECK(split_stories("He said <|endoftext|> twice.\n<|endoftext|>\n") ==
                  Stories{"He said <|endoftext|> twice."});
        }
        SUBCASE("files, whole and streamed") {
            TempDir dir;
            const std::string text = "A.\n<|endoftext|>\n\nB\n\nb.\n<|endoftext|>\nC";
            write_bytes(dir / "s.txt", text);
            CHECK(read_stories_txt(dir / "s.txt") == Stories{"A.", "B\n\nb.", "C"});
            CHECK(read_stories(dir / "s.txt") == Stories{"A.", "B\n\nb.", "C"});
            StoryReader reader(dir / "s.txt");
            Stories streamed;
            for (std::string s; reader.next(s);)
                streamed.push_back(s);
            CHECK(streamed == Stories{"A.", "B\n\nb.", "C"});
            CHECK(reader.bytes_read() == text.size() + 1); // counts a final '\n' not there
            const auto missing = dir / "missing.txt";
            CHECK_THROWS_WITH_AS(read_stories_txt(missing),
                                 ("read_stories_txt: cannot open " + missing.string() +
                                  ": No such file or directory")
                                     .c_str(),
                                 IoError);
            CHECK_THROWS_WITH_AS(
                StoryReader{missing},
                ("StoryReader: cannot open " + missing.string() + ": No such file or directory")
                    .c_str(),
                IoError);
        }
        SUBCASE("the shared TinyStories files") {
            const auto files = ouro::testing::shared_data_or_skip(
                {"tinystories/train.txt", "tinystories/valid.txt"});
            if (files.empty())
                return;
            const auto &train = files[0], &valid = files[1];
            const Stories stories = read_stories_txt(train);
            CHECK(stories.size() == 7951);
            CHECK(stories.front().starts_with("One day, a little girl named Lily found a needle"));
            CHECK(stories.back().ends_with("enjoying his time with new friends."));
            StoryReader reader(train);
            std::size_t n = 0, same = 0;
            for (std::string s; reader.next(s); ++n)
                same += n < stories.size() && s == stories[n];
            CHECK(n == stories.size());
            CHECK(same == stories.size());
            CHECK(read_stories_txt(valid).size() == 600);
        }
    }

    TEST_CASE("TinyStories JSON shards") {
        SUBCASE("the story member of each object, trimmed; empty ones dropped") {
            const std::string json =
                R"([{"story": "\n\nLily and Ben are friends.\nThey play.", "summary": "x"},
                    {"instruction": {"words": ["a"]}, "story": "  Tom ran.  "},
                    {"story": "   "}])";
            CHECK(parse_stories_json(json, "shard") ==
                  Stories{"Lily and Ben are friends.\nThey play.", "Tom ran."});
            CHECK(parse_stories_json("[]", "shard").empty());
        }
        SUBCASE("malformed shards are refused with the problem") {
            CHECK_THROWS_WITH_AS(parse_stories_json("[{\"story\": \"a\"},", "data07.json"),
                                 "data07.json: not valid JSON (error at byte 17)", FormatError);
            CHECK_THROWS_WITH_AS(parse_stories_json("{\"story\": \"a\"}", "data07.json"),
                                 "data07.json: expected a JSON array of objects with a \"story\" "
                                 "string",
                                 FormatError);
            CHECK_THROWS_WITH_AS(
                parse_stories_json(R"([{"story": "a"}, {"story": 5}])", "data07.json"),
                "data07.json: element 1 has no \"story\" string", FormatError);
            CHECK_THROWS_WITH_AS(parse_stories_json(R"([{"story": "a"}, "b"])", "data07.json"),
                                 "data07.json: element 1 has no \"story\" string", FormatError);
        }
        SUBCASE("a number out of range is a FormatError, not nlohmann's out_of_range") {
            // It used to escape the library as nlohmann::json::out_of_range (std::terminate).
            CHECK_THROWS_WITH_AS(
                parse_stories_json(R"([{"story": "a", "words": 1e400}])", "data07.json"),
                "data07.json: not valid JSON (number overflow parsing '1e400')", FormatError);
            TempDir dir;
            write_bytes(dir / "data01.json", R"([{"story": "a", "n": -1e400}])");
            CHECK_THROWS_WITH_AS(read_stories(dir / "data01.json"),
                                 ((dir / "data01.json").string() +
                                  ": not valid JSON (number overflow parsing '-1e400')")
                                     .c_str(),
                                 FormatError);
        }
        SUBCASE("files") {
            TempDir dir;
            write_bytes(dir / "data00.json", R"([{"story": "One."}, {"story": "Two."}])");
            CHECK(read_stories_json(dir / "data00.json") == Stories{"One.", "Two."});
            CHECK(read_stories(dir / "data00.json") == Stories{"One.", "Two."});
            write_bytes(dir / "bad.json", "[1]");
            const std::string bad = (dir / "bad.json").string();
            CHECK_THROWS_WITH_AS(read_stories(dir / "bad.json"),
                                 (bad + ": element 0 has no \"story\" string").c_str(),
                                 FormatError);
        }
    }
}
