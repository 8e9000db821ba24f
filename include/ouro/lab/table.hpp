// Result tables of the lab: named columns and rows of cells already formatted as text, written as
// CSV (RFC 4180) for other tools and as aligned plain text for the terminal. fmt() is the one
// number formatting of the lab, so that a demo prints the same text on every run and machine
// (std::to_chars, independent of the C locale).
#pragma once

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ouro::lab {

/// A small result table: named columns, rows of cells already formatted as text.
///
///   Table t({"decoder", "rep-4", "loops %"});
///   t.add_row({"greedy", fmt(0.5171), fmt(std::int64_t(90))});   // "greedy", "0.517", "90"
///   std::cout << t.to_text();                                     // aligned columns
///   write_csv("e1.csv", t);
class Table {
public:
    Table() = default;
    explicit Table(std::vector<std::string> columns);

    const std::vector<std::string>& columns() const { return columns_; }
    const std::vector<std::vector<std::string>>& rows() const { return rows_; }

    /// Appends a row; throws ConfigError when the cell count differs from the column count
    /// ("Table: row has 3 cells, the table has 4 columns"). A missing value is written one way:
    /// a cell that is "nan" (fmt of NaN), "n/a" or empty is stored as missing_cell, "-", in the
    /// terminal text and the CSV alike.
    void add_row(std::vector<std::string> cells);

    /// The number of rows (the header is not one).
    std::size_t size() const { return rows_.size(); }

    /// CSV per RFC 4180: cells holding a comma, a double quote, CR or LF are quoted, with double
    /// quotes doubled; the header first; every line ends in '\n'. A table without columns gives "".
    std::string to_csv() const;

    /// Aligned plain text for the terminal: numbers (cells for which is_number_cell holds) and
    /// missing_cell are right-aligned, text left-aligned, two spaces between columns, a line of
    /// dashes under the header (one run per column). A header is right-aligned when its column has
    /// rows and all of them are numbers or missing. Widths count UTF-8 code points; lines carry no
    /// trailing spaces and end in
    /// '\n'. A table without columns gives "".
    std::string to_text() const;

    /// to_text() kept within `max_width` columns: a table that fits is to_text() itself; a wider
    /// one is split into column groups, each printed as its own aligned table after a blank line,
    /// each starting with the first `key_columns` columns again (so every row stays named) and
    /// taking as many of the following columns, in order, as fit. A cell that cannot fit even
    /// beside the key columns alone is cut to the width left and ends in "..." (each key column
    /// to max(8, max_width / 2 / key_columns)). Throws ConfigError when max_width < 20 ("Table:
    /// max_width must be at least 20, got 10") or key_columns is 0 or more than the columns
    /// ("Table: key_columns must be 1..3, got 4" for a table of 3 columns).
    std::string to_text(std::size_t max_width, std::size_t key_columns = 1) const;

private:
    std::vector<std::string> columns_;
    std::vector<std::vector<std::string>> rows_;
};

/// How a table writes a value that does not apply or was not measured, on the terminal and in
/// CSV: a dash, visible in an aligned column (an empty cell is not), the mark the HTML report
/// explains (it draws it as an em dash); read the CSV with e.g. pandas.read_csv(f,
/// na_values="-").
inline constexpr const char* missing_cell = "-";

/// The width of the terminal the lab's programs print to.
inline constexpr std::size_t terminal_width = 100;

/// True when the whole cell parses as a number: an optional '-', digits with an optional decimal
/// point, an optional exponent ("0.517", "-3", "1e-05"), or "nan", "inf", "-inf" (as fmt writes
/// them). Leading or trailing spaces, '+' and hexadecimal are not numbers.
bool is_number_cell(std::string_view cell);

/// Number formatting used everywhere in the lab so the demo prints the same text each run:
/// fixed with `decimals` digits ("0.517"); NaN as "nan", infinities as "inf"/"-inf"; a value
/// that rounds to zero is written without a minus sign ("0.000", never "-0.000"). Throws
/// ConfigError when decimals is outside 0..17: "fmt: decimals must be in 0..17, got 18".
std::string fmt(double value, int decimals = 3);
std::string fmt(std::int64_t value);

/// Any other integer type (int, std::size_t, ...) goes to the integer overload, not to the
/// double one (without this, fmt(3) would be ambiguous).
template <std::integral T>
requires(!std::same_as<T, std::int64_t> && !std::same_as<T, bool>) std::string fmt(T value) {
    if constexpr (std::is_signed_v<T>)
        return fmt(std::int64_t(value));
    else
        return std::to_string(static_cast<unsigned long long>(value));
}

/// Writes table.to_csv() atomically; IoError names the path.
void write_csv(const std::filesystem::path& path, const Table& table);

} // namespace ouro::lab
