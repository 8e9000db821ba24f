#include <ouro/data/progress.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

using namespace ouro::data;

TEST_SUITE("data") {
    TEST_CASE("ProgressBar") {
        CHECK(shows_progress(Progress::always));
        CHECK_FALSE(shows_progress(Progress::never));
        CHECK(shows_progress(Progress::automatic) == (isatty(2) == 1));
        ProgressBar quiet("quiet", 10, Progress::never);
        CHECK_FALSE(quiet.active());
        quiet.update(5);
        quiet.finish();
        quiet.finish(); // once only
        // A drawn bar: one line on stderr, ended by finish.
        ProgressBar shown("test bar", 0, Progress::always, "items");
        CHECK(shown.active());
        shown.update(3);
    }
}
