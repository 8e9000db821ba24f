#include "test_util.hpp"

#include <ouro/core/atomic_file.hpp>
#include <ouro/core/error.hpp>
#include <ouro/core/file_checks.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

using namespace ouro;

TEST_SUITE("core") {
    TEST_CASE("regular-file checks") {
        ouro::testing::TempDir dir;
        const auto file = dir / "a.txt";
        ouro::testing::write_bytes(file, "abc");
        const auto fifo = dir / "pipe";
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);

        SUBCASE("a regular file, directly or through a link, is accepted") {
            require_regular_file(file, "t");
            std::filesystem::create_symlink(file, dir / "link");
            const int fd = open_regular_file(dir / "link", "t");
            CHECK(fd >= 0);
            char buf[4] = {};
            CHECK(::read(fd, buf, 4) == 3);
            ::close(fd);
            CHECK(read_file(dir / "link", "t") == "abc");
        }
        SUBCASE("directories, FIFOs and devices are refused before anything is read") {
            // A FIFO used to block the reader forever; it is refused at once.
            ouro::testing::check_throws_message<IoError>(
                [&] { read_file(fifo, "read"); },
                "read: " + fifo.string() + " is not a regular file (it is a FIFO)");
            ouro::testing::check_throws_message<IoError>(
                [&] { open_regular_file(dir.path(), "open"); },
                "open: " + dir.path().string() + " is not a regular file (it is a directory)");
            // /dev/zero used to be read until memory ran out.
            if (std::filesystem::exists("/dev/zero"))
                CHECK_THROWS_WITH_AS(read_file("/dev/zero", "read"),
                                     "read: /dev/zero is not a regular file (it is a character "
                                     "device)",
                                     IoError);
            ouro::testing::check_throws_message<IoError>(
                [&] { require_regular_file(dir / "missing", "check"); },
                "check: cannot open " + (dir / "missing").string() + ": No such file or directory");
            // A link is followed: one to a FIFO is a FIFO.
            std::filesystem::create_symlink(fifo, dir / "to-fifo");
            ouro::testing::check_throws_message<IoError>(
                [&] { open_regular_file(dir / "to-fifo", "open"); },
                "open: " + (dir / "to-fifo").string() + " is not a regular file (it is a FIFO)");
        }
    }
}
