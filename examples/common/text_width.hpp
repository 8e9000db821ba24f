// Output that fits a 100-column terminal: text wrapped at word boundaries, and --help laid out by
// a CLI11 formatter that wraps descriptions and footers (CLI11 2.1 never breaks a line).
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace flags {

/// The width every program's output keeps to.
inline constexpr std::size_t columns = 100;

/// Columns `text` takes on a terminal: its UTF-8 characters (each counted as one column).
std::size_t width_of(std::string_view text);

/// `text` with each line longer than `width` broken at spaces; a continuation line starts with the
/// line's own leading spaces plus `indent` more. A word longer than the width stays whole.
///   wrap("aaa bbb ccc", 7, 2) == "aaa bbb\n  ccc"
std::string wrap(std::string_view text, std::size_t width, std::size_t indent = 0);

/// Lays out the --help of `app` and of all its sub-commands within flags::columns (parse() calls
/// it): option descriptions wrap under the description column, footers and descriptions at the
/// full width.
void fit_help(CLI::App& app);

} // namespace flags
