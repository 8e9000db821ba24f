#include "data/data_test_util.hpp"

#include <ouro/data/progress.hpp>

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

using namespace ouro::data;

TEST_SUITE("data") {
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
        CHECK(text.ends_with("items/s \n"));
        CHECK(std::count(text.begin(), text.end(), '\n') == 1);
    }
}
