#include "data/data_test_util.hpp"

#include "common/progress.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace ouro::examples;

TEST_SUITE("examples") {
    TEST_CASE("ProgressBar") {
        CHECK(shows_progress(Progress::always));
        CHECK_FALSE(shows_progress(Progress::never));
        CHECK(shows_progress(Progress::automatic) == (isatty(2) == 1));
        ProgressBar quiet("quiet", 10, Progress::never);
        CHECK_FALSE(quiet.active());

        // A bar that is asked for draws on stderr (captured here in a file) and ends its line.
        ouro::testing::TempDir dir;
        const auto log = dir / "stderr.txt";
        std::fflush(stderr);
        const int saved = ::dup(2);
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        REQUIRE(fd >= 0);
        ::dup2(fd, 2);
        {
            ProgressBar shown("test bar", 4, Progress::always, "items");
            CHECK(shown.active());
            shown.update(2);
            shown.finish();
            shown.finish(); // once only
        }
        std::fflush(stderr);
        ::dup2(saved, 2);
        ::close(saved);
        ::close(fd);
        const std::string text = ouro::testing::read_bytes(log);
        CHECK(text.starts_with("\rtest bar [===============>              ]  50%"));
        CHECK(text.find("items/s  elapsed 0s") != std::string::npos);
        CHECK(text.ends_with("\n"));
        CHECK(std::count(text.begin(), text.end(), '\n') == 1);
    }

    TEST_CASE("format_duration") {
        CHECK(format_duration(0) == "0s");
        CHECK(format_duration(59.9) == "59s");
        CHECK(format_duration(125) == "2m05s");
        CHECK(format_duration(3600 + 3 * 60 + 59) == "1h03m");
        CHECK(format_duration(-1) == "0s");
        CHECK(format_duration(std::nan("")) == "0s");
    }

    TEST_CASE("format_progress") {
        SUBCASE("elapsed time and ETA") {
            CHECK(format_progress("encoding", 35, 100, 7, "items") ==
                  "encoding [==========>                   ]  35%  5.0 items/s  elapsed 7s, "
                  "ETA 13s");
            CHECK(format_progress("download", 3'000'000, 12'000'000, 2, "MB", "x.bin") ==
                  "download [=======>                      ]  25%  1.5 MB/s  elapsed 2s, ETA 6s  "
                  "x.bin");
        }
        SUBCASE("no ETA before any work, none once all is done") {
            CHECK(format_progress("a", 0, 10, 0, "steps").ends_with("elapsed 0s, ETA ?"));
            CHECK(format_progress("a", 10, 10, 130, "steps") ==
                  "a [==============================] 100%  0.1 steps/s  elapsed 2m10s");
        }
        SUBCASE("never wider than 100 columns") {
            const std::string label(120, 'l'), note(120, 'n');
            for (const std::string& l : {std::string("train"), label})
                for (const std::string& n : {std::string(), std::string("loss 4.12"), note}) {
                    const std::string line = format_progress(l, 5, 1000, 3600 * 30, "tokens", n);
                    CAPTURE(line);
                    CHECK(line.size() <= progress_columns);
                    CHECK(line.find("elapsed 30h00m, ETA") != std::string::npos);
                }
            const std::string cut = format_progress(label, 1, 2, 1, "items", note);
            CHECK(cut.size() == progress_columns); // the label cut, the bar narrowed, no note
            CHECK(cut.starts_with(std::string(46, 'l') + "... [=====>    ]"));
            CHECK(format_progress("train", 1, 2, 1, "steps", note).ends_with("nnn..."));
            // A label of UTF-8 characters is counted, and cut, by characters.
            std::string wide;
            for (int i = 0; i < 90; ++i)
                wide += "\xc3\xa9"; // é
            const std::string w = format_progress(wide, 1, 2, 1, "items");
            CHECK(w.starts_with("\xc3\xa9"));
            CHECK(w.find("\xc3\xa9... [") == 2 * 45); // 46 of them kept, then "..."
            CHECK(w.size() == progress_columns + 46); // each é: 2 bytes, 1 column
        }
    }
}
