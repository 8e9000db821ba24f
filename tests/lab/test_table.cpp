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
                                "typical,-,\"say \"\"hi\"\"\"\n");
            Table lines({"a", "b"});
            lines.add_row({"two\nlines", "cr\rhere"});
            lines.add_row({"", " spaced "});
            CHECK(lines.to_csv() == "a,b\n\"two\nlines\",\"cr\rhere\"\n-, spaced \n");
            CHECK(Table().to_csv() == "");
        }
        SUBCASE("text alignment") {
            // Widths 10, 5, 8; numbers right-aligned, text left, header of the all-number column
            // right-aligned; no trailing spaces.
            CHECK(t.to_text() == "decoder     rep-4  note\n"
                                 "----------  -----  --------\n"
                                 "greedy      0.517  loops\n"
                                 "top-p 0.95  12.25  a, b\n"
                                 "typical         -  say \"hi\"\n");
            Table mixed({"n", "x"});
            mixed.add_row({"1", "é"});    // two bytes, one column wide
            mixed.add_row({"abc", "10"}); // text and numbers in one column
            CHECK(mixed.to_text() == "n    x\n"
                                     "---  --\n"
                                     "  1  é\n"
                                     "abc  10\n");
            CHECK(Table({"only"}).to_text() == "only\n----\n");
        }
        SUBCASE("missing values written one way") {
            // "nan" (fmt of NaN), "n/a" and "" all become missing_cell, right-aligned with the
            // numbers, in the text and the CSV alike.
            Table m({"decoder", "onset", "note"});
            m.add_row({"greedy", fmt(std::nan("")), "n/a"});
            m.add_row({"top-p", "12.5", ""});
            CHECK(m.rows()[0] == std::vector<std::string>{"greedy", "-", "-"});
            CHECK(m.rows()[1][2] == missing_cell);
            CHECK(m.to_csv() == "decoder,onset,note\ngreedy,-,-\ntop-p,12.5,-\n");
            CHECK(m.to_text() == "decoder  onset  note\n"
                                 "-------  -----  ----\n"
                                 "greedy       -     -\n"
                                 "top-p     12.5     -\n");
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

    TEST_CASE("Table::to_text within a width") {
        // Widths: name 6, then four columns of 8 ("column a" ..): 6 + 4 x (2 + 8) = 46.
        Table t({"name", "column a", "column b", "column c", "column d"});
        t.add_row({"greedy", "1", "2", "3", "4"});
        t.add_row({"top-p", "10", "20", "30", "40"});
        SUBCASE("a table that fits is to_text()") {
            CHECK(t.to_text(46) == t.to_text());
            CHECK(t.to_text(100) == t.to_text());
        }
        SUBCASE("a wider table splits into column groups, the name column repeated") {
            // 6 + 2 + 8 + 2 + 8 = 26 fits 30; a third column would need 36.
            const std::string text = t.to_text(30);
            CHECK(text == "name    column a  column b\n"
                          "------  --------  --------\n"
                          "greedy         1         2\n"
                          "top-p         10        20\n"
                          "\n"
                          "name    column c  column d\n"
                          "------  --------  --------\n"
                          "greedy         3         4\n"
                          "top-p         30        40\n");
            std::size_t start = 0;
            while (start < text.size()) {
                const std::size_t end = text.find('\n', start);
                CHECK(end - start <= 30);
                start = end + 1;
            }
        }
        SUBCASE("two key columns") {
            Table k({"prompt", "decoder", "tokens", "loop onset"});
            k.add_row({"0", "greedy", "1200", "317"});
            CHECK(k.to_text(28, 2) == "prompt  decoder  tokens\n"
                                      "------  -------  ------\n"
                                      "     0  greedy     1200\n"
                                      "\n"
                                      "prompt  decoder  loop onset\n"
                                      "------  -------  ----------\n"
                                      "     0  greedy          317\n");
        }
        SUBCASE("a cell too wide for any group is cut and ends in ...") {
            Table w({"id", "text"});
            w.add_row({"1", std::string(40, 'x')});
            w.add_row({"2", "é" + std::string(30, 'y')}); // widths count code points
            // The key column takes 2 + 2 columns, leaving 20 for the text.
            CHECK(w.to_text(24) == "id  text\n"
                                   "--  --------------------\n"
                                   " 1  " +
                                       std::string(17, 'x') +
                                       "...\n"
                                       " 2  é" +
                                       std::string(16, 'y') + "...\n");
        }
        SUBCASE("rejects a bad width or key") {
            CHECK_THROWS_WITH_AS(t.to_text(10), "Table: max_width must be at least 20, got 10",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(t.to_text(100, 0), "Table: key_columns must be 1..5, got 0",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(t.to_text(100, 6), "Table: key_columns must be 1..5, got 6",
                                 ConfigError);
            CHECK(Table().to_text(100) == "");
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
