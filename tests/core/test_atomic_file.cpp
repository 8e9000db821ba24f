#include "test_util.hpp"

#include <ouro/core/atomic_file.hpp>
#include <ouro/core/error.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace ouro;
using ouro::testing::read_bytes;
using ouro::testing::TempDir;

namespace {

std::size_t files_in(const std::filesystem::path& dir) {
    return std::size_t(std::distance(std::filesystem::directory_iterator(dir),
                                     std::filesystem::directory_iterator()));
}

} // namespace

TEST_SUITE("core") {
    TEST_CASE("AtomicFile") {
        TempDir dir;
        const auto path = dir / "f.txt";
        SUBCASE("a committed file replaces the old one whole") {
            write_file_atomic(path, "old");
            AtomicFile f(path);
            f.write("new ");
            f.write(std::string(3'000'000, 'x')); // past the write buffer
            f.write_at(0, "NEW", 3);
            CHECK(f.size() == 3'000'004);
            CHECK(read_bytes(path) == "old"); // not yet
            f.commit();
            const std::string got = read_bytes(path);
            CHECK(got.size() == 3'000'004);
            CHECK(got.starts_with("NEW x"));
            CHECK(files_in(dir.path()) == 1);
            struct stat st {};
            REQUIRE(::stat(path.c_str(), &st) == 0);
            CHECK((st.st_mode & 0777) == 0644);
        }
        SUBCASE("an abandoned file leaves the old one and no temporary") {
            write_file_atomic(path, "old");
            try {
                AtomicFile f(path);
                f.write("half");
                throw std::runtime_error("interrupted");
            } catch (const std::runtime_error&) {
            }
            CHECK(read_bytes(path) == "old");
            CHECK(files_in(dir.path()) == 1);
        }
        SUBCASE("errors name the path") {
            const auto nowhere = dir / "no" / "such" / "dir" / "f.txt";
            CHECK_THROWS_WITH_AS(write_file_atomic(nowhere, "x"),
                                 ("cannot create a temporary file for " + nowhere.string() +
                                  ": No such file or directory")
                                     .c_str(),
                                 IoError);
            CHECK_THROWS_WITH_AS(
                read_file(nowhere, "reader"),
                ("reader: cannot open " + nowhere.string() + ": No such file or directory").c_str(),
                IoError);
            AtomicFile f(path);
            f.write("ab");
            CHECK_THROWS_AS(f.write_at(1, "xyz", 3), IoError);
        }
    }
}
