#include <ouro/core/atomic_file.hpp>
#include <ouro/core/error.hpp>
#include <ouro/lab/table.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>

using namespace ouro;
using namespace ouro::lab;

TEST_SUITE("lab") {
    TEST_CASE("Table") {
        Table t({"decoder", "rep-4", "note"});
        t.add_row({"greedy", "0.517", "loops"});
        t.add_row({"top-p 0.95", "12.25", "a, b"});
        t.add_row({"typical", "nan", "say \"hi\""});
        REQUIRE(t.size() == 3);
        CHECK(t.columns() == std::vector<std::string>{"decoder", "rep-4", "note"});
        CHECK(t.rows()[1][2] == "a, b");

        SUBCASE("CSV quoting") {
            CHECK(t.to_csv() == "decoder,rep-4,note\n"
                                "greedy,0.517,loops\n"
                                "top-p 0.95,12.25,\"a, b\"\n"
                                "typical,nan,\"say \"\"hi\"\"\"\n");
            Table lines({"a", "b"});
            lines.add_row({"two\nlines", "cr\rhere"});
            lines.add_row({"", " spaced "});
            CHECK(lines.to_csv() == "a,b\n\"two\nlines\",\"cr\rhere\"\n, spaced \n");
            CHECK(Table().to_csv() == "");
        }
        SUBCASE("text alignment") {
            // Widths 10, 5, 8; numbers right-aligned, text left, header of the all-number column
            // right-aligned; no trailing spaces.
            CHECK(t.to_text() == "decoder     rep-4  note\n"
                                 "----------  -----  --------\n"
                                 "greedy      0.517  loops\n"
                                 "top-p 0.95  12.25  a, b\n"
                                 "typical       nan  say \"hi\"\n");
            Table mixed({"n", "x"});
            mixed.add_row({"1", "é"});    // two bytes, one column wide
            mixed.add_row({"abc", "10"}); // text and numbers in one column
            CHECK(mixed.to_text() == "n    x\n"
                                     "---  --\n"
                                     "  1  é\n"
                                     "abc  10\n");
            CHECK(Table({"only"}).to_text() == "only\n----\n");
        }
        SUBCASE("rejects a row of the wrong size") {
            CHECK_THROWS_WITH_AS(t.add_row({"a", "b"}),
                                 "Table: row has 2 cells, the table has 3 columns", ConfigError);
            CHECK_THROWS_WITH_AS(Table().add_row({"a"}),
                                 "Table: row has 1 cells, the table has 0 columns", ConfigError);
            CHECK(t.size() == 3);
        }
        SUBCASE("write_csv") {
            const auto dir = std::filesystem::temp_directory_path() / "ouro_test_table";
            std::filesystem::create_directories(dir);
            write_csv(dir / "t.csv", t);
            CHECK(read_file(dir / "t.csv", "test") == t.to_csv());
            std::filesystem::remove_all(dir);
            CHECK_THROWS_AS(write_csv(dir / "missing" / "t.csv", t), IoError);
            try {
                write_csv(dir / "missing" / "t.csv", t);
            } catch (const IoError& e) {
                CHECK(std::string(e.what()).find((dir / "missing" / "t.csv").string()) !=
                      std::string::npos);
            }
        }
    }

    TEST_CASE("is_number_cell") {
        for (const char* s :
             {"0", "-3", "0.517", "12.", ".5", "1e-05", "2.5E+3", "nan", "inf", "-inf"})
            CHECK_MESSAGE(is_number_cell(s), s);
        for (const char* s :
             {"", "-", ".", "1e", "+1", " 1", "1 ", "0x10", "1,5", "12%", "abc", "NaN", "1e+"})
            CHECK_MESSAGE(!is_number_cell(s), s);
    }

    TEST_CASE("fmt") {
        CHECK(fmt(0.5171) == "0.517");
        CHECK(fmt(0.5175, 2) == "0.52");
        CHECK(fmt(2.0, 0) == "2");
        CHECK(fmt(-1.25, 1) == "-1.2"); // round half to even on the exact binary value
        CHECK(fmt(1234567.891, 1) == "1234567.9");
        CHECK(fmt(-0.0001) == "0.000");
        CHECK(fmt(-0.0) == "0.000");
        CHECK(fmt(std::nan("")) == "nan");
        CHECK(fmt(std::numeric_limits<double>::infinity()) == "inf");
        CHECK(fmt(-std::numeric_limits<double>::infinity(), 5) == "-inf");
        CHECK(fmt(1e300, 0).size() == 301);
        CHECK(fmt(std::int64_t(-42)) == "-42");
        CHECK(fmt(7) == "7"); // int goes to the integer overload
        CHECK(fmt(std::size_t(18446744073709551615u)) == "18446744073709551615");
        CHECK(fmt(0.1f, 2) == "0.10"); // float goes to the double overload
        CHECK_THROWS_WITH_AS(fmt(1.0, 18), "fmt: decimals must be in 0..17, got 18", ConfigError);
        CHECK_THROWS_WITH_AS(fmt(1.0, -1), "fmt: decimals must be in 0..17, got -1", ConfigError);
    }
}
