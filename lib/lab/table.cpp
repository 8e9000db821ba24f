// Result tables: CSV (RFC 4180), aligned text, and the lab's number formatting. See the header.
#include "ouro/lab/table.hpp"

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/error.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

namespace ouro::lab {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Display width of UTF-8 text: one per code point (continuation bytes 10xxxxxx do not count).
std::size_t text_width(std::string_view s) {
    std::size_t w = 0;
    for (const char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
            ++w;
    return w;
}

void append_csv_cell(std::string& out, const std::string& cell) {
    if (cell.find_first_of(",\"\r\n") == std::string::npos) {
        out += cell;
        return;
    }
    out += '"';
    for (const char c : cell) {
        if (c == '"')
            out += '"';
        out += c;
    }
    out += '"';
}

void append_csv_line(std::string& out, const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i > 0)
            out += ',';
        append_csv_cell(out, cells[i]);
    }
    out += '\n';
}

void append_padded(std::string& line, const std::string& cell, std::size_t width, bool right) {
    const std::size_t pad = width - std::min(width, text_width(cell));
    if (right)
        line.append(pad, ' ');
    line += cell;
    if (!right)
        line.append(pad, ' ');
}

// Numbers and the missing-value mark go right, under each other.
bool right_aligned(const std::string& cell) {
    return cell == missing_cell || is_number_cell(cell);
}

void trim_right(std::string& line) {
    while (!line.empty() && line.back() == ' ')
        line.pop_back();
}

} // namespace

Table::Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
    if (cells.size() != columns_.size())
        throw ConfigError("Table: row has " + std::to_string(cells.size()) +
                          " cells, the table has " + std::to_string(columns_.size()) + " columns");
    for (std::string& c : cells)
        if (c.empty() || c == "nan" || c == "n/a")
            std::string(missing_cell).swap(c);
    rows_.push_back(std::move(cells));
}

std::string Table::to_csv() const {
    if (columns_.empty())
        return {};
    std::string out;
    append_csv_line(out, columns_);
    for (const auto& row : rows_)
        append_csv_line(out, row);
    return out;
}

std::string Table::to_text() const {
    const std::size_t n = columns_.size();
    if (n == 0)
        return {};
    std::vector<std::size_t> width(n);
    std::vector<bool> numeric_column(n, !rows_.empty());
    for (std::size_t c = 0; c < n; ++c) {
        width[c] = text_width(columns_[c]);
        for (const auto& row : rows_) {
            width[c] = std::max(width[c], text_width(row[c]));
            if (!right_aligned(row[c]))
                numeric_column[c] = false;
        }
    }
    std::string out, line;
    for (std::size_t c = 0; c < n; ++c) {
        if (c > 0)
            line += "  ";
        append_padded(line, columns_[c], width[c], numeric_column[c]);
    }
    trim_right(line);
    out += line + '\n';
    line.clear();
    for (std::size_t c = 0; c < n; ++c) {
        if (c > 0)
            line += "  ";
        line.append(width[c], '-');
    }
    out += line + '\n';
    for (const auto& row : rows_) {
        line.clear();
        for (std::size_t c = 0; c < n; ++c) {
            if (c > 0)
                line += "  ";
            append_padded(line, row[c], width[c], right_aligned(row[c]));
        }
        trim_right(line);
        out += line + '\n';
    }
    return out;
}

namespace {

// `cell` cut to `width` code points, its end replaced by "..." (whole when it fits).
std::string cut_cell(const std::string& cell, std::size_t width) {
    if (text_width(cell) <= width)
        return cell;
    const std::size_t keep = width > 3 ? width - 3 : 0;
    std::size_t points = 0, i = 0;
    for (; i < cell.size(); ++i)
        if ((static_cast<unsigned char>(cell[i]) & 0xC0) != 0x80 && points++ == keep)
            break;
    std::string out(cell, 0, i);
    out.append("...");
    return out;
}

} // namespace

std::string Table::to_text(std::size_t max_width, std::size_t key_columns) const {
    const std::size_t n = columns_.size();
    if (max_width < 20)
        throw ConfigError("Table: max_width must be at least 20, got " + std::to_string(max_width));
    if (n == 0)
        return {};
    if (key_columns == 0 || key_columns > n)
        throw ConfigError("Table: key_columns must be 1.." + std::to_string(n) + ", got " +
                          std::to_string(key_columns));
    // Cut what cannot fit: each key column to its share of half the width (at least 8), the
    // others to what the key columns leave.
    Table cut(columns_);
    cut.rows_ = rows_;
    std::vector<std::size_t> width(n);
    std::size_t key_width = 0;
    for (std::size_t pass = 0; pass < 2; ++pass)
        for (std::size_t c = pass ? key_columns : 0; c < (pass ? n : key_columns); ++c) {
            const std::size_t limit = pass ? max_width - std::min(max_width - 4, key_width)
                                           : std::max<std::size_t>(8, max_width / 2 / key_columns);
            cut.columns_[c] = cut_cell(columns_[c], limit);
            width[c] = text_width(cut.columns_[c]);
            for (auto& row : cut.rows_) {
                row[c] = cut_cell(row[c], limit);
                width[c] = std::max(width[c], text_width(row[c]));
            }
            if (!pass)
                key_width += width[c] + 2;
        }
    std::size_t total = key_width - 2;
    for (std::size_t c = key_columns; c < n; ++c)
        total += 2 + width[c];
    if (total <= max_width)
        return cut.to_text();
    // Column groups: the key columns and as many following columns as fit.
    std::string out;
    for (std::size_t c = key_columns; c < n;) {
        std::vector<std::size_t> group;
        std::size_t used = key_width - 2;
        while (c < n && (group.empty() || used + 2 + width[c] <= max_width)) {
            used += 2 + width[c];
            group.push_back(c++);
        }
        std::vector<std::string> names(cut.columns_.begin(),
                                       cut.columns_.begin() + std::ptrdiff_t(key_columns));
        for (const std::size_t g : group)
            names.push_back(cut.columns_[g]);
        Table part(names);
        for (const auto& row : cut.rows_) {
            std::vector<std::string> cells(row.begin(), row.begin() + std::ptrdiff_t(key_columns));
            for (const std::size_t g : group)
                cells.push_back(row[g]);
            part.add_row(std::move(cells));
        }
        if (!out.empty())
            out += '\n';
        out += part.to_text();
    }
    return out;
}

bool is_number_cell(std::string_view s) {
    if (s == "nan" || s == "inf" || s == "-inf")
        return true;
    std::size_t i = 0;
    if (i < s.size() && s[i] == '-')
        ++i;
    std::size_t digits = 0;
    while (i < s.size() && is_digit(s[i])) {
        ++i;
        ++digits;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && is_digit(s[i])) {
            ++i;
            ++digits;
        }
    }
    if (digits == 0)
        return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-'))
            ++i;
        std::size_t exponent_digits = 0;
        while (i < s.size() && is_digit(s[i])) {
            ++i;
            ++exponent_digits;
        }
        if (exponent_digits == 0)
            return false;
    }
    return i == s.size();
}

std::string fmt(double value, int decimals) {
    if (decimals < 0 || decimals > 17)
        throw ConfigError("fmt: decimals must be in 0..17, got " + std::to_string(decimals));
    if (std::isnan(value))
        return "nan";
    if (std::isinf(value))
        return value > 0 ? "inf" : "-inf";
    // The largest double has 309 integer digits.
    char buffer[400];
    const auto result =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, decimals);
    std::string out(buffer, result.ptr);
    if (!out.empty() && out[0] == '-' &&
        out.find_first_not_of("0.", 1) == std::string::npos) // "-0.000" is zero
        out.erase(0, 1);
    return out;
}

std::string fmt(std::int64_t value) {
    return std::to_string(value);
}

void write_csv(const std::filesystem::path& path, const Table& table) {
    write_file_atomic(path, table.to_csv());
}

} // namespace ouro::lab
