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
            if (!is_number_cell(row[c]))
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
            append_padded(line, row[c], width[c], is_number_cell(row[c]));
        }
        trim_right(line);
        out += line + '\n';
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
